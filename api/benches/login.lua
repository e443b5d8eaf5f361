-- wrk script: POST the bench admin's credentials to /api/v1/auth/login.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@platform.test","password":"bench-password-123"}'

-- Every answer must be 2xx: each thread counts the answers that are not, `done` prints the total, which
-- common.sh's check_wrk turns into a failed run (wrk itself counts only statuses above 399).
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  outside_2xx = 0
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    outside_2xx = outside_2xx + 1
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("outside_2xx")
  end
  io.write(string.format("answers outside 2xx: %d\n", total))
end
