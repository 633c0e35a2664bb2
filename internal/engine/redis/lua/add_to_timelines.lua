-- KEYS: status:<id>, then nhomes home:<uid> keys, then pairs of
--       (list:<id>, list:statuses:<id>)
-- ARGV: id, h, nhomes
--
-- One script per fan-out chunk: one round trip however many timelines.
-- Checking the status inside the script makes a delivery that runs after
-- the delete (and after its purge) leave nothing behind; checking each list
-- keeps a deleted list from growing its timeline back.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return UNCHANGED
end
local id, h, nhomes = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 2, nhomes + 1 do
  add_capped(KEYS[i], id, h)
end
for i = nhomes + 2, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    add_capped(KEYS[i + 1], id, h)
  end
end
return DONE
