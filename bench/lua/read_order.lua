-- GET one's own order as a random user of the pool:
-- args `pairs=/path/lines-of-"<token> <order id>"`.
dofile("common.lua")
local pairs_

function init(args)
  local opts = parse_args(args)
  pairs_ = {}
  for _, line in ipairs(read_lines(opts.pairs)) do
    local token, order_id = line:match("^(%S+)%s+(%d+)$")
    if token then pairs_[#pairs_ + 1] = {token, order_id} end
  end
end

function request()
  local pair = pairs_[math.random(#pairs_)]
  return wrk.format(
    "GET", "/api/v1/orders/" .. pair[2], {["Authorization"] = "Bearer " .. pair[1]})
end
