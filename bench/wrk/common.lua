-- Shared by every bench/wrk/*.lua scenario (loaded with dofile; see bench/README.md, "Server-bound HTTP load").
--
-- The Python side (bench/harness.py, run_wrk) writes a data file for each run and passes its
-- path in JXT_WRK_DATA, and this folder in JXT_WRK_DIR. A scenario script defines
-- ``make_request(n, tid)`` (the n-th request of thread tid, a string from wrk.format) and,
-- optionally, ``check(status, headers)`` returning nil for a good answer or a short reason.
--
-- Every response is looked at (status counted by code): anything but the expected statuses,
-- or a failed check, is an error, and done() prints one JSON line
--   JXT_RESULT {"requests":…, "ok":…, "errors":…, "p50_us":…, "p99_us":…, …}
-- that the Python side parses. A run with errors is not a figure.

data = dofile(os.getenv("JXT_WRK_DATA"))

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

-- running phase (one environment per thread)
n = 0
statuses = {}
bad = {}
ok = 0
expected = {}
for _, code in ipairs(data.expect) do expected[code] = true end

function request()
  n = n + 1
  return make_request(n, tid or 0)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if not expected[status] then
    if first_error == nil then
      first_error = key .. ": " .. string.sub(body or "", 1, 200)
    end
    return
  end
  if check then
    local reason = check(status, headers, body)
    if reason then
      bad[reason] = (bad[reason] or 0) + 1
      if first_error == nil then first_error = key .. " " .. reason end
      return
    end
  end
  ok = ok + 1
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  -- keep the line ASCII: bytes >= 0x80 (a UTF-8 body) as \u00XX would be wrong; drop them
  s = string.gsub(s, "[\128-\255]", "?")
  return '"' .. s .. '"'
end

local function json_counts(t)
  local parts = {}
  for k, v in pairs(t) do table.insert(parts, json_string(k) .. ":" .. v) end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local all_status, all_bad, total_ok, first = {}, {}, 0, nil
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("statuses") or {}) do all_status[k] = (all_status[k] or 0) + v end
    for k, v in pairs(thread:get("bad") or {}) do all_bad[k] = (all_bad[k] or 0) + v end
    total_ok = total_ok + (thread:get("ok") or 0)
    first = first or thread:get("first_error")
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local out = {
    '"requests":' .. summary.requests,
    '"ok":' .. total_ok,
    '"errors":' .. (summary.requests - total_ok + socket_errors),
    '"duration_us":' .. summary.duration,
    '"bytes":' .. summary.bytes,
    '"p50_us":' .. latency:percentile(50),
    '"p90_us":' .. latency:percentile(90),
    '"p99_us":' .. latency:percentile(99),
    '"max_us":' .. latency.max,
    '"mean_us":' .. latency.mean,
    '"socket_errors":{"connect":' .. e.connect .. ',"read":' .. e.read .. ',"write":' .. e.write
      .. ',"timeout":' .. e.timeout .. ',"status_over_399":' .. e.status .. '}',
    '"statuses":' .. json_counts(all_status),
    '"failed_checks":' .. json_counts(all_bad),
    '"first_error":' .. json_string(first or ""),
  }
  io.write("JXT_RESULT {" .. table.concat(out, ",") .. "}\n")
end
