-- The model, without REAPER: source origins, project time <-> source time, finding a range
-- again after edits, patches as takes, dialogs, and the status window's rows and clicks.
local here = arg[0]:match("^(.*[/\\])") or "./"
local F = dofile(here .. "fake_reaper.lua")
local M = dofile(here .. "../../reaper_scripts/inpaint_bridge/model.lua")
local check, near = F.check, F.near

-------------------------------------------------------------------------------- origins
local plain = M.origin({}, { file = "/m/a.wav", len = 60 })
check(plain.scale == 1 and plain.offset == 0 and plain.length == 60, "a plain file")

local section = M.origin({ { offs = 20, len = 10, rev = false } }, { file = "/m/b.wav", len = 120 })
check(section.scale == 1 and section.offset == 20 and section.length == 10, "a section: its own length and offset")

local rev = M.origin({ { offs = 20, len = 10, rev = true } }, { file = "/m/c.wav", len = 120 })
check(rev.scale == -1 and rev.offset == 30 and rev.length == 10, "a reversed section runs back from its end")
local f0, f1 = M.file_range(rev, 1, 2)
near(f0, 28, "reversed file start"); near(f1, 29, "reversed file end")

-- a reverse-only wrapper reports LENGTH 0 (the chunk's value) or its real length: the same origin
local zero = M.origin({ { offs = 0, len = 0, rev = true } }, { file = "/m/d.wav", len = 12 })
local full = M.origin({ { offs = 0, len = 12, rev = true } }, { file = "/m/d.wav", len = 12 })
check(M.same_origin(zero, full) and zero.length == 12 and zero.offset == 12, "reverse-only: length 0 means to the end")

-- a reversed section inside a section: wrappers compose
local nested = M.origin({ { offs = 0, len = 4, rev = true }, { offs = 10, len = 6, rev = false } },
  { file = "/m/e.wav", len = 60 })
f0, f1 = M.file_range(nested, 0, 1)
near(f0, 13, "nested start"); near(f1, 14, "nested end")

-------------------------------------------------------------------------------- project time -> source time
local place = { pos = 10, len = 8, loop = false }
local take = { origin = plain, start = 2, rate = 1 }
local r = assert(M.map_range(place, take, 12.0, 12.5))
near(r.s0, 4.0, "plain s0"); near(r.file_end, 4.5, "plain file end"); check(not r.reversed, "not reversed")
r = assert(M.map_range(place, take, 5, 11))
near(r.project_start, 10, "clipped to the item"); near(r.s0, 2, "clipped s0")
r = assert(M.map_range(place, { origin = plain, start = 2, rate = 2 }, 12, 12.5))
near(r.s0, 6, "playrate 2 start"); near(r.s1, 7, "playrate 2 end")
check(M.map_range(place, take, 30, 31) == nil, "outside the item")

-- a looped section wraps at the section's own length and offset, not the root file's
local looped = { pos = 50, len = 30, loop = true }
r = assert(M.map_range(looped, { origin = section, start = 0, rate = 1 }, 62, 63))
near(r.s0, 2, "second loop wraps at the section's length (10 s)")
near(r.file_start, 22, "and lands in the section (offset 20 s)")
local none, why = M.map_range(looped, { origin = section, start = 0, rate = 1 }, 59.5, 60.5)
check(none == nil and why:find("looped item"), "a range across the loop point is refused", why)
none, why = M.map_range({ pos = 0, len = 20, loop = false }, { origin = section, start = 0, rate = 1 }, 9, 11)
check(none == nil and why:find("past the end"), "past the end of a non-looped source", why)

-- a reversed take asks for the mirrored file range and says so
r = assert(M.map_range({ pos = 40, len = 5, loop = false }, { origin = rev, start = 0, rate = 1 }, 40, 41))
check(r.reversed, "reversed flag"); near(r.file_start, 29, "reversed file start"); near(r.file_end, 30, "end")

-------------------------------------------------------------------------------- finding the range again
local entry = { item = "A", item_pos = 10, project_start = 12, origin = plain, s0 = 4, s1 = 4.5 }
local function item(guid, pos, len, start, o)
  o = o or {}
  return { guid = guid, pos = pos, len = len, loop = o.loop or false, active = 1,
           takes = { { origin = o.origin or plain, start = start, rate = o.rate or 1 } } }
end
local found = assert(M.locate(entry, { item("A", 10, 8, 2) }))
near(found.t0, 12, "untouched"); near(found.t1, 12.5, "untouched end")
found = assert(M.locate(entry, { item("A", 15, 8, 2) }))
near(found.t0, 17, "the item moved 5 s: the range moves with it")
found = assert(M.locate(entry, { item("A", 11, 7, 3) }))
near(found.t0, 12, "trimmed at the start: same project time")
found = assert(M.locate(entry, { item("A", 10, 1.5, 2), item("B", 11.5, 6.5, 3.5) }))
check(found.item == 2, "split before the range: the right piece holds it"); near(found.t0, 12, "split t0")
found = assert(M.locate(entry, { item("A", 10, 8, 2, { rate = 2 }) }))
near(found.t0, 11, "playrate changed meanwhile"); near(found.t1, 11.25, "playrate end")
none, why = M.locate(entry, { item("A", 10, 1, 2) })
check(none == nil and why:find("no longer on the item"), "trimmed away", why)
none, why = M.locate(entry, { item("B", 10, 8, 2) })
check(none == nil and why:find("deleted"), "the item is gone", why)
none = M.locate(entry, { item("A", 10, 8, 2, { origin = section }) })
check(none == nil, "another source is not the range")
-- an imported take stands for its original: it maps through its stored origin
local imported = item("A", 12, 0.5, 4)
imported.takes[2] = { origin = plain, start = 4, rate = 1 }
imported.active = 2
found = assert(M.locate(entry, { imported }))
check(found.item == 1 and found.take == 2, "the active imported take is the reference")
-- looped: the occurrence nearest the remembered place
local loop_entry = { item = "L", item_pos = 50, project_start = 62, origin = section, s0 = 2, s1 = 3 }
found = assert(M.locate(loop_entry, { item("L", 50, 30, 0, { loop = true, origin = section }) }))
near(found.t0, 62, "looped: the same loop pass")

-------------------------------------------------------------------------------- patches as takes
local job = { take_start = 3.5, take_end = 5.0, take_path = "/p.wav" }
near(M.patch_delta(plain, job), 3.5, "forward patch: source time = patch time + take_start")
near(assert(M.check_patch(entry, job)), 3.5, "the patch covers the range")
check(M.check_patch({ origin = plain, s0 = 6, s1 = 7 }, job) == nil, "a patch that misses the range is refused")
-- reversed: the patch is written back to front, so patch time 0 is the file's take_end
local rev_entry = { origin = rev, s0 = 1, s1 = 2 } -- file 28..29
local rev_job = { take_start = 27.5, take_end = 29.5 }
local delta = assert(M.check_patch(rev_entry, rev_job))
near(delta, 0.5, "reversed delta: offset 30 - take_end 29.5")
near(rev.offset - (0 + delta), 29.5, "patch time 0 is file time 29.5")
check(M.take_name({ prompt = "rain" }, { seed = 7 }) == "rain #7", "take name")
check(M.take_name({ prompt = "", operation = "inpaint" }, { seed = 0 }) == "inpaint #0", "take name without prompt")

-------------------------------------------------------------------------------- dialogs
local captions = M.captions({ "Prompt", "Preset (optional)" }, "|")
check(captions == "Prompt,Preset (optional),extrawidth=300,separator=|", "captions", captions)
check(not pcall(M.captions, { "Engine (local, fal)" }, "|"), "a comma in a caption is refused")
for _, s in ipairs(M.SETTINGS) do check(not s.label:find(",", 1, true), "settings label without comma", s.label) end
local v = M.split_values("rain, soft|room-tone", "|", 2)
check(v[1] == "rain, soft" and v[2] == "room-tone", "values keep their commas")
v = M.split_values("only", "|", 3)
check(#v == 3 and v[1] == "only" and v[3] == "", "missing values are empty")
local defaults = {}
for i, s in ipairs(M.SETTINGS) do defaults[i] = s.default end
check(M.check_settings(defaults), "the defaults are valid")
defaults[3] = "many"
local ok, msg = M.check_settings(defaults)
check(not ok and msg:find('Variations per request = "many"'), "a bad setting names the field and value", msg)

-------------------------------------------------------------------------------- the status window
local entries = {
  { kind = "edit", id = "r1", prompt = "rain", engine = "fal", sent_at = 100 },
  { kind = "edit", id = "r2", prompt = "", engine = "", sent_at = 90 },
  { kind = "edit", id = "r3", prompt = "x", sent_at = 118, imported = { j3 = true } },
  { kind = "control", id = "c1", sent_at = 100 },
}
local results = {
  r1 = { jobs = { j1 = { state = "running", fraction = 0.5, seed = 4, engine = "fal", cost_usd = 0.0331 },
                  j2 = { state = "failed", fraction = 1, seed = 5, error = "service said no" } } },
  r3 = { jobs = { j3 = { state = "done", fraction = 1, seed = 1, engine = "local" } } },
}
local rows = M.rows(entries, results, 120)
check(#rows == 4, "one row per job, one per unanswered request; control requests are not rows", #rows)
check(rows[1].job == "j1" and rows[1].state == "running" and rows[1].cancel == "job", "a running job can be cancelled")
check(rows[1].elapsed == 20 and rows[1].prompt == "rain" and rows[1].engine == "fal", "elapsed, prompt, engine")
check(rows[2].state == "failed" and rows[2].message == "service said no" and not rows[2].cancel, "a failed job")
check(rows[3].request == "r2" and rows[3].state:find("waiting for the daemon") and rows[3].cancel == "request",
  "no answer after 5 s: the daemon may not run", rows[3].state)
check(rows[4].state == "imported", "an imported job")
local line = M.describe(rows[1])
check(line:find("running 50%%") and line:find('"rain"') and line:find("#4") and line:find("fal") and line:find("20 s")
  and line:find("about %$0.0331"), "the row's text, with the estimated cost", line)
local cells = M.layout(rows, 600)
local b = cells[1].button
local act = M.click(cells, b.x + 2, b.y + 2)
check(act and act.cancel_job == "j1", "Cancel on a job cancels it at the daemon")
b = cells[3].button
act = M.click(cells, b.x + 2, b.y + 2)
check(act and act.drop_request == "r2", "Cancel on an unanswered request takes it back")
check(M.click(cells, 5, 5) == nil and cells[2].button == nil, "elsewhere nothing happens; finished rows have no button")
print("OK")
