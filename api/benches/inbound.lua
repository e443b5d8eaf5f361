-- wrk script: raw mails for an e-mail channel's inbound endpoint, each with its own Message-ID
-- (so none is a duplicate) from one of 1,000 students, about 1.5 KB with a Cyrillic subject.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  outside_2xx = 0
  counter = 0
end

local text = string.rep("The proctoring camera check fails right after the identity step. ", 20)

function request()
  counter = counter + 1
  local student = (tid * 7919 + counter) % 1000
  local body = "From: Student " .. student .. " <student" .. student .. "@uni.example>\r\n" ..
    "To: support@bench.example\r\n" ..
    "Subject: =?UTF-8?B?0J3QtSDQt9Cw0L/Rg9GB0LrQsNC10YLRgdGPINGN0LrQt9Cw0LzQtdC9?=\r\n" ..
    "Message-ID: <bench-" .. tid .. "-" .. counter .. "@uni.example>\r\n" ..
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" .. text .. "\r\n"
  return wrk.format("POST", nil, nil, body)
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
