-- The baseline: POST a unique signer to the bare insert view (bench/baseline_views.py).
-- Args: <path>
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
setup = common.setup
done = common.done

local path
local n = 0
statuses = {}
accepted = 0

function init(args)
  path = args[1]
end

function request()
  n = n + 1
  local who = string.format("base.%d.%d", id, n)
  local body = "name=" .. common.urlencode("Base " .. common.letters(id * 1000000 + n))
    .. "&email=" .. common.urlencode(who .. "@" .. who:gsub("%.", "-") .. ".test")
  return wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 204 then
    accepted = accepted + 1
  end
end
