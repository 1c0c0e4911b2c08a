-- POST /auth/login as a random one of the known-password users:
-- args `users=/path/one-username-per-line password=...`.
dofile("common.lua")
local users, password

function init(args)
  local opts = parse_args(args)
  users = read_lines(opts.users)
  password = opts.password
end

function request()
  local body = string.format('{"username": "%s", "password": "%s"}',
    users[math.random(#users)], password)
  return wrk.format("POST", "/api/v1/auth/login",
    {["Content-Type"] = "application/json"}, body)
end
