-- The residents' report form POST to /a/<alley>/, answered by 302 to /report/done/<code>/.
--
-- data.clients: CSRF cookie + token pairs fetched by Python before the run (each from one
--   rendering of an alley's form), with the alley and its category tiles;
-- data.nonce: 18 characters, new for every run: the one-time submission token of request i of
--   thread t is nonce .. %02d(t) .. %012d(i) (32 characters of the URL-safe alphabet, the
--   shape issues/public/forms.py accepts), so no request repeats an earlier one;
-- data.phone_base: phone numbers 139xxxxxxxx, different on every request of the session;
-- data.photo: a JPEG file to attach (multipart/form-data), or nil (urlencoded).
dofile(os.getenv("JXT_WRK_DIR") .. "/common.lua")

local clients, nonce = data.clients, data.nonce
local count = #clients
local boundary = data.boundary
local photo_tail = nil
if data.photo then
  local f = assert(io.open(data.photo, "rb"))
  local bytes = f:read("*a")
  f:close()
  photo_tail = "--" .. boundary .. "\r\n"
    .. 'Content-Disposition: form-data; name="photos"; filename="IMG_0001.jpg"\r\n'
    .. "Content-Type: image/jpeg\r\n\r\n" .. bytes .. "\r\n--" .. boundary .. "--\r\n"
end

local function urlencoded(fields)
  local parts = {}
  for _, kv in ipairs(fields) do table.insert(parts, kv[1] .. "=" .. kv[2]) end
  return table.concat(parts, "&")
end

local function multipart(fields)
  local parts = {}
  for _, kv in ipairs(fields) do
    table.insert(parts, "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\""
      .. kv[1] .. "\"\r\n\r\n" .. kv[2] .. "\r\n")
  end
  table.insert(parts, photo_tail)
  return table.concat(parts)
end

function make_request(i, t)
  local c = clients[(i + t * 7919) % count + 1]
  local category = c.categories[i % #c.categories + 1]
  local text = data.texts[i % #data.texts + 1]
  local fields = {
    {"csrfmiddlewaretoken", c.token},
    {"submission", nonce .. string.format("%02d%012d", t, i)},
    {"duplicates_seen", category},
    {"category", category},
    {"description", photo_tail and text.raw or text.enc},
    {"address_detail", ""},
    {"reporter_name", photo_tail and data.name.raw or data.name.enc},
    {"reporter_phone", string.format("139%08d", (data.phone_base + t * 1000000 + i) % 100000000)},
    {"consent", "on"},
    {"jxt_hp", ""},
  }
  local headers = {
    ["Cookie"] = c.cookie,
    ["Referer"] = data.origin .. "/a/" .. c.alley .. "/",
  }
  local body
  if photo_tail then
    headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
    body = multipart(fields)
  else
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    body = urlencoded(fields)
  end
  return wrk.format("POST", "/a/" .. c.alley .. "/", headers, body)
end

function check(status, hdrs, body)
  local location = hdrs["Location"] or hdrs["location"] or ""
  if not string.find(location, "/report/done/", 1, true) then
    return "redirect not to /report/done/"
  end
end
