-- Time mapping from project time to source-file seconds, and the refusals.
local here = arg[0]:match("^(.*[/\\])") or "./"
local F = dofile(here .. "fake_reaper.lua")
reaper, S = F.new()
local B = dofile(here .. "../../reaper_scripts/inpaint_bridge/core.lua")
local check, near = F.check, F.near

local track = S.add_track()

-- plain: item at 10 s, take offset 2 s, playrate 1
local item, take = S.add_item(track, 10, 8, { source = S.source("/m/a.wav", 60) })
take.offs = 2
local m = assert(B.map_take(item, take, 12.0, 12.5))
check(m.source == "/m/a.wav" and not m.reversed, "plain source")
near(m.start, 4.0, "plain start"); near(m.stop, 4.5, "plain stop")

-- the selection is clipped to the item
m = assert(B.map_take(item, take, 5.0, 11.0))
near(m.start, 2.0, "clipped start"); near(m.project_start, 10.0, "clipped project start")

-- playrate 2: one second of project time is two of source
take.playrate = 2
m = assert(B.map_take(item, take, 12.0, 12.5))
near(m.start, 6.0, "rate start"); near(m.stop, 7.0, "rate stop")
take.playrate = 1

-- a section of the file (offset 20 s, 10 s long)
local sec_item, sec_take = S.add_item(track, 30, 5, { source = S.source("/m/b.wav", 120, { offs = 20, len = 10 }) })
sec_take.offs = 1
m = assert(B.map_take(sec_item, sec_take, 31, 32))
check(m.source == "/m/b.wav", "section resolves to the parent file")
near(m.start, 22, "section start"); near(m.stop, 23, "section stop")

-- reversed section: time runs backwards through the parent
local rev_item, rev_take = S.add_item(track, 40, 5, { source = S.source("/m/c.wav", 120, { offs = 20, len = 10, rev = true }) })
m = assert(B.map_take(rev_item, rev_take, 40, 41))
check(m.reversed, "reversed flag")
near(m.start, 29, "reversed start"); near(m.stop, 30, "reversed stop")

-- looped item past the source's end wraps into the loop
local loop_item, loop_take = S.add_item(track, 50, 30, { source = S.source("/m/d.wav", 10) })
loop_item.loop = 1
m = assert(B.map_take(loop_item, loop_take, 62, 63))
near(m.start, 2, "looped start")
local none, why = B.map_take(loop_item, loop_take, 59.5, 60.5)
check(none == nil and why:find("past the end"), "a selection across the loop seam is refused", tostring(why))

-- refusals, each saying why
local function refused(opts, words, fix)
  local it, tk = S.add_item(track, 100, 5, opts)
  local ok, reason, how = B.map_take(it, tk, 101, 102)
  check(ok == nil and reason:find(words, 1, true), "refused: " .. words, tostring(reason))
  check(how == fix, "fix for " .. words, tostring(how))
end
refused({ source = S.source("/m/e.wav", 60), midi = true }, "MIDI take")
refused({ source = S.source("/m/e.wav", 60), stretch = 2 }, "stretch markers", "render")
refused({ source = S.source("/m/e.wav", 60), fx = 1 }, "has FX", "render")
refused({ source = S.source("", 60) }, "no source file")
local ok, reason = B.map_take(item, take, 30, 31)
check(ok == nil and reason:find("does not overlap"), "outside the item")
print("OK")
