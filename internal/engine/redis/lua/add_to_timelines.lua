-- KEYS: status:<id>, timelines:size, then nhomes home:<uid> keys (the first
--       nchecked of them to have their size checked), then pairs of
--       (list:<id>, list:statuses:<id>)
-- ARGV: id, h, nchecked, nhomes, slack
--
-- One script per fan-out chunk: one round trip however many timelines.
-- Checking the status inside the script makes a delivery that runs after
-- the delete (and after its purge) leave nothing behind; checking each list
-- keeps a deleted list from growing its timeline back.
--
-- Timelines are trimmed lazily (timelines.go explains how and why): most
-- homes get a bare ZADD. h goes to timelines:size in the same step, so that
-- no timeline holds entries past h that readers do not know to hide. The
-- key is only written when h changes, so that readers' cached copies of it
-- stay valid.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return UNCHANGED
end
local id, h, nchecked, nhomes, slack = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  redis.call('SET', KEYS[2], ARGV[2])
end
for i = 3, nchecked + 2 do
  add_lazy(KEYS[i], id, h, slack)
end
for i = nchecked + 3, nhomes + 2 do
  redis.call('ZADD', KEYS[i], id, id)
end
for i = nhomes + 3, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    add_lazy(KEYS[i + 1], id, h, slack)
  end
end
return DONE
