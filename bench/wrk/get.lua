-- GET over a list of paths (tracking page, REST case detail, bare DRF detail).
-- data: paths (list), headers (table), expect (list of statuses)
dofile(os.getenv("JXT_WRK_DIR") .. "/common.lua")

local paths, headers = data.paths, data.headers or {}
local count = #paths

function make_request(i, t)
  return wrk.format("GET", paths[(i + t * 7919) % count + 1], headers)
end
