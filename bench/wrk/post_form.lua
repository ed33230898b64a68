-- An urlencoded POST with a different phone number on every request (bare DRF create, Open311).
-- data: path, body (urlencoded fields but the phone), phone_base, headers, expect,
--       reject_header (optional: a response header that makes an answer a failure,
--       e.g. Open311's Idempotent-Replayed: the request repeated an earlier one),
--       vary (optional: {{name, {values…}}, …}, fields whose value cycles with the request)
dofile(os.getenv("JXT_WRK_DIR") .. "/common.lua")

local path, prefix, headers = data.path, data.body, data.headers or {}

function phone(i, t)
  return string.format("139%08d", (data.phone_base + t * 1000000 + i) % 100000000)
end

local vary = data.vary or {}

function make_request(i, t)
  local body = prefix
  for _, field in ipairs(vary) do
    local values = field[2]
    body = body .. "&" .. field[1] .. "=" .. values[i % #values + 1]
  end
  return wrk.format("POST", path, headers, body .. "&phone=" .. phone(i, t))
end

if data.reject_header then
  function check(status, hdrs, body)
    if hdrs[data.reject_header] or hdrs[string.lower(data.reject_header)] then
      return "answered with " .. data.reject_header
    end
  end
end
