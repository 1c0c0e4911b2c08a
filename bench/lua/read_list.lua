-- GET a random page of 20 products with a price filter and a random sort.
dofile("common.lua")
local sorts = {"id", "name", "-name", "price_cents", "-price_cents",
               "created_at", "-created_at"}
local max_page

function init(args)
  local opts = parse_args(args)
  max_page = tonumber(opts.max_page or "20")
end

function request()
  local path = string.format(
    "/api/v1/products?page=%d&per_page=20&min_price_cents=%d&sort=%s",
    math.random(1, max_page), math.random(0, 50000), sorts[math.random(#sorts)])
  return wrk.format("GET", path)
end
