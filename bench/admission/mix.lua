-- wrk script: POSTs a mix of AdmissionReview bodies (bench/admission/reviews/*.json) and checks
-- each answer against the expected verdict (the file name ends in -allow or -deny; the review
-- uid ties an answer to its request).
local dir = os.getenv("REVIEWS") or "bench/admission/reviews"
-- name, weight (about what a busy EMR namespace sees: pods and configmaps dominate)
local mix = {
  {"pod-emr-allow", 3}, {"pod-submitter-deny", 2},
  {"exec-submitter-deny", 2}, {"exec-emr-allow", 1},
  {"configmap-emr-allow", 2}, {"configmap-submitter-deny", 1},
  {"rolebinding-edit-deny", 1}, {"rolebinding-view-allow", 1},
  {"mwc-submitter-deny", 1}, {"deployment-other-ns-allow", 1},
}

local bodies = {}
local expect = {}   -- uid -> "true" | "false"
for _, m in ipairs(mix) do
  local f = assert(io.open(dir .. "/" .. m[1] .. ".json", "rb"))
  local body = f:read("*a")
  f:close()
  local uid = body:match('"uid":"([^"]+)"')
  expect[uid] = m[1]:match("%-allow$") and "true" or "false"
  for _ = 1, m[2] do table.insert(bodies, body) end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

local i = 0
wrong = 0
checked = 0
function request()
  i = i % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])
end

function response(status, headers, body)
  local uid = body:match('"uid":"([^"]+)"')
  local allowed = body:match('"allowed":(%a+)')
  checked = checked + 1
  if status ~= 200 or not uid or expect[uid] ~= allowed then wrong = wrong + 1 end
end

function done(summary, latency, requests)
  local w, c = 0, 0
  for _, t in ipairs(threads) do w = w + t:get("wrong"); c = c + t:get("checked") end
  io.write(string.format("reviews/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("latency p50: %.3f ms  p90: %.3f ms  p99: %.3f ms  max: %.3f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  local e = summary.errors
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d; wrong verdicts %d of %d checked\n",
    e.connect, e.read, e.write, e.status, e.timeout, w, c))
end
