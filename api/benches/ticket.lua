-- wrk script: create a ticket from a student (the requester is found by e-mail after the first),
-- with a description of the same size as the baseline's (500 bytes).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"subject":"Cannot start the exam, camera check fails","description":"' .. string.rep("x", 500) ..
  '","source":"email","requester":{"email":"student@uni.example","name":"Student"}}'
