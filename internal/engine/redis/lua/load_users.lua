-- KEYS: users:, then user:<uid> and user:<uid>:auth of each user in turn
-- ARGV: six per user: lower(login), uid, login, name, signup ms, password hash
--
-- Bulk creation for seeding. Every login is checked before anything is
-- written, because the writes a script made stay when it stops half-way:
-- a batch holding a taken login is refused whole. Returns the 0-based
-- index of the first taken login, or -1 when every user was created.
local n = #ARGV / 6
for i = 0, n - 1 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i * 6 + 1]) == 1 then
    return i
  end
end
for i = 0, n - 1 do
  local a = i * 6
  redis.call('HSET', KEYS[1], ARGV[a + 1], ARGV[a + 2])
  redis.call('HSET', KEYS[2 * i + 2], 'login', ARGV[a + 3], 'name', ARGV[a + 4],
    'followers', 0, 'following', 0, 'posts', 0, 'signup', ARGV[a + 5])
  redis.call('SET', KEYS[2 * i + 3], ARGV[a + 6])
end
return -1
