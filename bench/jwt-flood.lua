-- wrk script for bench/jwt-flood.sh: every request carries a new well-formed ES256 token for the configured issuer
-- and kid, with valid claims and a random signature, so it passes every cheap check, is never in a cache (neither
-- the verified-token cache nor the rejected-token table), and always costs a signature check: the worst case.
--
--   FORGE_PREFIX="<header>.<payload>" wrk -s bench/jwt-flood.lua http://127.0.0.1:28191/v1/orgs/acme/x

local prefix = os.getenv("FORGE_PREFIX")
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
-- 64 signature bytes are 86 base64url characters; the last carries 2 bits, so strict decoding wants its low 4
-- bits zero: one of A, Q, g, w.
local last = { "A", "Q", "g", "w" }

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  local sig = {}
  for i = 1, 85 do
    local k = math.random(1, 64)
    sig[i] = alphabet:sub(k, k)
  end
  sig[86] = last[math.random(1, 4)]
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. prefix .. "." .. table.concat(sig) })
end
