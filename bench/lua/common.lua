-- Shared by the bench scripts (loaded with dofile): per-thread tallies of response statuses,
-- gathered from every thread by done() and printed as one JSON line that bench/run.py parses.
-- wrk's own summary counts only "non-2xx/3xx"; the integrity checks need the exact statuses
-- (a 302 to check-your-inbox is an accepted signature, a 429 a refusal).

local common = {}
local threads = {}

function common.setup(thread)
  -- Each thread gets its own id, so the addresses it makes up never collide with another's.
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function common.urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

-- A number spelled in letters: abuse.name_skeleton keeps only letters, so digits would make
-- every bench signer a near-duplicate of every other.
function common.letters(k)
  local s = ""
  repeat
    s = string.char(97 + k % 26) .. s
    k = math.floor(k / 26)
  until k == 0
  return s
end

local function json_table(t)
  local parts = {}
  for k, v in pairs(t) do
    table.insert(parts, string.format('"%s": %d', tostring(k), v))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function common.done(summary, latency, requests)
  local statuses, accepted, paths = {}, 0, {}
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("statuses") or {}) do
      statuses[k] = (statuses[k] or 0) + v
    end
    for k, v in pairs(thread:get("paths") or {}) do
      paths[k] = (paths[k] or 0) + v
    end
    accepted = accepted + (thread:get("accepted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "accepted": %d, "statuses": %s, '
      .. '"paths": %s, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, '
      .. '"timeout": %d}, "latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, '
      .. '"mean": %.0f}}\n',
    summary.requests, summary.duration, accepted, json_table(statuses), json_table(paths),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end

return common
