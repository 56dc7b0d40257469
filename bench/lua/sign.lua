-- Signing through the real form: POST /en/p/<slug>/sign/ with a unique signer each time.
-- Args: <tokens.lua> <tag> <scenario number> <path>
--
-- tokens.lua holds CSRF cookie/token pairs and form-start timestamps that bench/run.py fetched
-- from the petition page (GET, as a browser does) more than ABUSE_MIN_FILL_SECONDS earlier, so the
-- fill-time check sees people who took a few seconds to type. Each request claims its own client
-- address in X-Forwarded-For (the bench sets TRUSTED_PROXIES=127.0.0.1, where wrk connects from,
-- so Cosign believes the header as it would a proxy's): that is how production sees many
-- signers behind one proxy, and the per-IP limits stay at their production settings. Each signer
-- also has an address at a domain of its own and a name of its own, so neither the domain-burst
-- nor the near-duplicate signal fires. No proof of work is sent (see bench/run.py).

local common = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
setup = common.setup
done = common.done

local tokens, tag, scenario, path
local n = 0
statuses = {}
accepted = 0

function init(args)
  tokens = dofile(args[1])
  tag, scenario, path = args[2], tonumber(args[3]), args[4]
end

function request()
  n = n + 1
  local t = tokens[n % #tokens + 1]
  local who = string.format("%s.%d.%d", tag, id, n)
  local body = "csrfmiddlewaretoken=" .. common.urlencode(t.token)
    .. "&form_started=" .. common.urlencode(t.started)
    .. "&name=" .. common.urlencode("Bench " .. common.letters((scenario * 16 + id) * 1000000 + n))
    .. "&email=" .. common.urlencode(who .. "@" .. who:gsub("%.", "-") .. ".test")
    .. "&display=short&ref_code=&altcha="
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. t.cookie,
    -- 2001:db8::/32 is the documentation range; one /64 per request, the unit ip_hash keys on.
    ["X-Forwarded-For"] = string.format("2001:db8:%x:%x::1", scenario * 16 + id, n % 65536),
  }
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local location = headers["Location"] or headers["location"] or ""
  if status == 302 and location:find("check%-your%-inbox") then
    accepted = accepted + 1
  end
end
