-- wrk script: ClearML-shaped status reports (POST with a JSON body, timestamp in ms) cycling
-- through WORKERS worker ids per thread, each with the machine stats in STATS (a JSON object).
local workers = tonumber(os.getenv("WORKERS") or "1000")
local stats = os.getenv("STATS") or "null"
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

request = function()
  counter = counter + 1
  local worker = string.format("wrk-%d-%d", thread_id, counter % workers)
  local ts = math.floor(os.time() * 1000) + counter
  local body = string.format('{"worker":"%s","timestamp":%d,"machine_stats":%s}', worker, ts, stats)
  return wrk.format("POST", "/v2.23/workers.status_report", { ["Content-Type"] = "application/json" }, body)
end

local non2xx = 0
response = function(status)
  if status ~= 200 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, errors,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
