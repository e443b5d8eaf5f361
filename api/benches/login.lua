-- wrk script: POST the bench admin's credentials to /api/v1/auth/login.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@platform.test","password":"bench-password-123"}'
