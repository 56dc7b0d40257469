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

-- Microseconds from a monotonic clock (LuaJIT's ffi; wrk gives scripts no clock of its own).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local timespec = ffi.new("bench_timespec")
function common.now_us()
  ffi.C.clock_gettime(1, timespec)  -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) * 1000000 + tonumber(timespec.tv_nsec) / 1000
end

-- Tables every thread may keep, summed over threads into the JSON line: `statuses` and `paths`
-- (counts by key), `tallies` (named counters a script adds, such as 503s carrying Retry-After)
-- and `accepted_ms` (accepted answers by whole milliseconds of latency, a histogram).
local SUMMED = {"statuses", "paths", "tallies", "accepted_ms"}

function common.done(summary, latency, requests)
  local sums, accepted = {}, 0
  for _, name in ipairs(SUMMED) do
    sums[name] = {}
  end
  for _, thread in ipairs(threads) do
    for _, name in ipairs(SUMMED) do
      for k, v in pairs(thread:get(name) or {}) do
        sums[name][k] = (sums[name][k] or 0) + v
      end
    end
    accepted = accepted + (thread:get("accepted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "accepted": %d, "statuses": %s, '
      .. '"paths": %s, "tallies": %s, "accepted_ms": %s, "errors": {"connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d, '
      .. '"p99": %d, "max": %d, "mean": %.0f}}\n',
    summary.requests, summary.duration, accepted, json_table(sums.statuses),
    json_table(sums.paths), json_table(sums.tallies), json_table(sums.accepted_ms),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end

return common
