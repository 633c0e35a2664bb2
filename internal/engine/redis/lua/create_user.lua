-- KEYS: users:, user:<uid>, user:<uid>:auth
-- ARGV: lower(login), uid, login, name, signup ms, password hash
--
-- HSETNX on the login index decides every race between registrations of
-- one login in any letter case: exactly one of them sets the field.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return LOGIN_TAKEN
end
redis.call('HSET', KEYS[2], 'login', ARGV[3], 'name', ARGV[4],
  'followers', 0, 'following', 0, 'posts', 0, 'signup', ARGV[5])
redis.call('SET', KEYS[3], ARGV[6])
return DONE
