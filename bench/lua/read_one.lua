-- GET one random product: args `max_id=N prefix=/api/v1/products/`.
dofile("common.lua")
local max_id, prefix

function init(args)
  local opts = parse_args(args)
  max_id = tonumber(opts.max_id or "10000")
  prefix = opts.prefix or "/api/v1/products/"
end

function request()
  return wrk.format("GET", prefix .. math.random(1, max_id))
end
