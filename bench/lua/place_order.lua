-- POST /orders of 1-3 distinct random products, as a random user of the pool:
-- args `tokens=/path/one-token-per-line max_id=N`.
dofile("common.lua")
local tokens, max_id

function init(args)
  local opts = parse_args(args)
  tokens = read_lines(opts.tokens)
  max_id = tonumber(opts.max_id or "10000")
end

function request()
  local lines, seen = {}, {}
  for _ = 1, math.random(1, 3) do
    local id = math.random(1, max_id)
    if not seen[id] then
      seen[id] = true
      lines[#lines + 1] = string.format(
        '{"product_id": %d, "quantity": %d}', id, math.random(1, 3))
    end
  end
  local body = '{"items": [' .. table.concat(lines, ", ") .. ']}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
  }
  return wrk.format("POST", "/api/v1/orders", headers, body)
end
