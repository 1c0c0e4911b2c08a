-- GET a random page (1..max_page) of 20 active products, in one of three
-- variants (`variant=`): `plain` (the default sort, no filter), `filter` (a
-- random price range about half the catalog wide, so every page has items)
-- and `sort` (a random one of the contract's sorts other than id).
dofile("common.lua")
local sorts = {"name", "-name", "price_cents", "-price_cents",
               "created_at", "-created_at"}
local max_page, variant

function init(args)
  local opts = parse_args(args)
  max_page = tonumber(opts.max_page or "50")
  variant = opts.variant or "plain"
end

local function query()
  local page = math.random(1, max_page)
  if variant == "filter" then
    local low = math.random(0, 50000)
    return string.format(
      "page=%d&per_page=20&min_price_cents=%d&max_price_cents=%d",
      page, low, low + 50000)
  elseif variant == "sort" then
    return string.format("page=%d&per_page=20&sort=%s",
                         page, sorts[math.random(#sorts)])
  end
  return string.format("page=%d&per_page=20", page)
end

function request()
  return wrk.format("GET", "/api/v1/products?" .. query())
end
