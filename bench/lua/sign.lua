-- Signing through the real form: POST /en/p/<slug>/sign/ with a unique signer each time.
-- Args: <tokens.lua> <tag> <scenario number> <path> [timed]
--
-- tokens.lua holds CSRF cookie/token pairs and form-start timestamps that bench/run.py fetched
-- from the petition page (GET, as a browser does) more than ABUSE_MIN_FILL_SECONDS earlier, so the
-- fill-time check sees people who took a few seconds to type. Each request claims its own client
-- address in X-Forwarded-For (the bench sets TRUSTED_PROXIES=127.0.0.1, where wrk connects from,
-- so Cosign believes the header as it would a proxy's): that is how production sees many
-- signers behind one proxy, and the per-IP limits stay at their production settings. Each signer
-- also has an address at a domain of its own and a name of its own, so neither the domain-burst
-- nor the near-duplicate signal fires. No proof of work is sent (see bench/run.py).
--
-- A 503 (the site too busy to take a signature now) is tallied with whether it says when to come
-- back (Retry-After) and whether its page still holds what the signer typed. With `timed`, wrk
-- runs one connection per thread, so each answer follows its own request: the latency of each
-- accepted signature (not of the quick 503s beside it) goes into `accepted_ms`, and the 503
-- page is checked for this very signer's name and address.

local common = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
setup = common.setup
done = common.done

local tokens, tag, scenario, path, timed
local n = 0
local sent_us, typed_name, typed_email
statuses = {}
tallies = {}
accepted_ms = {}
accepted = 0

function init(args)
  tokens = dofile(args[1])
  tag, scenario, path = args[2], tonumber(args[3]), args[4]
  timed = args[5] == "timed"
end

local function tally(name)
  tallies[name] = (tallies[name] or 0) + 1
end

function request()
  n = n + 1
  local t = tokens[n % #tokens + 1]
  local who = string.format("%s.%d.%d", tag, id, n)
  -- Up to 256 threads per load (one per connection when timed), and scenarios below 200, keep
  -- every load's names and addresses apart from every other's.
  typed_name = "Bench " .. common.letters((scenario * 256 + id) * 1000000 + n)
  typed_email = who .. "@" .. who:gsub("%.", "-") .. ".test"
  local body = "csrfmiddlewaretoken=" .. common.urlencode(t.token)
    .. "&form_started=" .. common.urlencode(t.started)
    .. "&name=" .. common.urlencode(typed_name)
    .. "&email=" .. common.urlencode(typed_email)
    .. "&display=short&ref_code=&altcha="
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. t.cookie,
    -- 2001:db8::/32 is the documentation range; one /64 per request, the unit ip_hash keys on.
    ["X-Forwarded-For"] = string.format("2001:db8:%x:%x::1", scenario * 256 + id, n % 65536),
  }
  if timed then
    sent_us = common.now_us()
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local location = headers["Location"] or headers["location"] or ""
  if status == 302 and location:find("check%-your%-inbox") then
    accepted = accepted + 1
    if timed and sent_us then
      local ms = math.floor((common.now_us() - sent_us) / 1000)
      accepted_ms[ms] = (accepted_ms[ms] or 0) + 1
    end
  elseif status == 503 then
    tally("busy")
    if headers["Retry-After"] or headers["retry-after"] then
      tally("busy_retry_after")
    end
    -- Plain find (no patterns): the page holds the form's fields with the values typed.
    local kept
    if timed then
      kept = body:find('value="' .. typed_name .. '"', 1, true)
        and body:find('value="' .. typed_email .. '"', 1, true)
    else
      kept = body:find('value="' .. tag .. ".", 1, true)
    end
    if kept then
      tally("busy_kept_typing")
    end
  end
end
