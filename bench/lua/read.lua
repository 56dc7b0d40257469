-- Readers: GET the given paths in turn (the petition page and the embeddable count widget).
-- Args: <path> [<path> ...]
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
setup = common.setup
done = common.done

local targets
local n = 0
statuses = {}
paths = {}
accepted = 0

function init(args)
  targets = args
end

function request()
  n = n + 1
  local i = n % #targets + 1
  paths[i] = (paths[i] or 0) + 1
  return wrk.format("GET", targets[i])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    accepted = accepted + 1
  end
end
