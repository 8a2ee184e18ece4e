-- The actions and the importer against the fake REAPER: requests, dialogs, render first, razor
-- edits, variations, edits while a job runs, looped sections, reversed takes, regenerate after
-- an import, undo, selection, peaks and the status window.
-- usage: SPOOL=<temp folder> REPORT=<probe report> lua5.4 test_actions.lua
local here = arg[0]:match("^(.*[/\\])") or "./"
local F = dofile(here .. "fake_reaper.lua")
local check, near = F.check, F.near
local spool = assert(os.getenv("SPOOL"), "SPOOL must name a temporary folder")
local report_path = os.getenv("REPORT") or F.DOCUMENTED
local CORE = here .. "../../reaper_scripts/inpaint_bridge/core.lua"
local IMPORTER = "Inpaint Bridge - Import results (background).lua"
os.execute('mkdir -p "' .. spool .. '/requests" "' .. spool .. '/results" "' .. spool .. '/takes"')

local S, B
local function fresh(opts)
  opts = opts or {}
  opts.report_path = report_path
  opts.project_path = opts.project_path or "/proj/media"
  reaper, S = F.new(opts)
  gfx = S.gfx
  B = dofile(CORE)
  B.set("spool", spool)
  B.set("engine", "local")
  os.execute('rm -f "' .. spool .. '"/requests/* "' .. spool .. '"/results/*')
  return S
end

local function requests()
  local p = io.popen('ls "' .. spool .. '/requests"')
  local docs = {}
  for name in p:lines() do
    local path = spool .. "/requests/" .. name
    docs[#docs + 1] = assert(B.json.decode(B.read_file(path)))
    os.remove(path)
  end
  p:close()
  table.sort(docs, function(a, b) return a.id < b.id end)
  return docs
end

local function only_request()
  local docs = requests()
  check(#docs == 1, "one request file", #docs)
  return docs[1]
end

local function options(doc)
  local out = {}
  for i = 5, #doc.args, 2 do out[doc.args[i]] = doc.args[i + 1] end
  return out
end

local function result(rid, jobs, finished)
  local f = assert(io.open(spool .. "/results/" .. rid .. ".json", "w"))
  f:write(B.json.encode({ id = rid, finished = finished ~= false, jobs = jobs, error = B.null }))
  f:close()
end

local wav_count = 0
local function patch(seconds)
  wav_count = wav_count + 1
  return F.write_wav(spool .. "/takes/patch-" .. wav_count .. ".wav", seconds)
end

local function done_job(seed, take_start, take_end, extra)
  local job = { state = "done", fraction = 1, seed = seed, take_start = take_start, take_end = take_end,
                take_path = patch(take_end - take_start), manifest_path = "/m.json", engine = "local" }
  for k, v in pairs(extra or {}) do job[k] = v end
  return job
end

local function track_items(track)
  local out = {}
  for _, it in ipairs(S.items) do if it.track == track then out[#out + 1] = it end end
  table.sort(out, function(a, b) return a.pos < b.pos end)
  return out
end

local function balanced()
  check(S.open_blocks == 0 and S.ui_refresh == 0, "undo blocks and UI refresh balance", S.open_blocks, S.ui_refresh)
end

-------------------------------------------------------------------------------- the request
fresh({ inputs = { { "rain, soft on a tin roof", "room-tone" } } })
local track = S.add_track()
local item, take = S.add_item(track, 10, 8, { source = S.file_source("/m/a.wav", 60), offs = 2 })
local other = S.add_item(track, 30, 4, { source = S.file_source("/m/b.wav", 60), selected = false })
S.time_sel = { 12.0, 12.5 }
local ids = B.run("inpaint")
check(ids and #ids == 1, "inpaint returns the request id")
local d = S.last_dialog
check(d.n == 2 and d.labels[1] == "Prompt" and d.labels[2] == "Preset (optional)" and d.separator == "|",
  "the dialog: one label per field, | between values")
local doc = only_request()
check(doc.id == ids[1] and doc.address == "/bridge/inpaint" and doc.args[1] == "/m/a.wav", "address, id, file")
near(doc.args[2], 4.0, "start"); near(doc.args[3], 4.5, "end")
check(doc.args[4] == "rain, soft on a tin roof", "a comma in the prompt survives", doc.args[4])
local o = options(doc)
check(o.engine == "local" and o.preset == "room-tone" and o.project == "/proj/media" and o.keep == 1, "options",
  o.engine, o.preset, o.project, o.keep)
check(o.reverse == nil and o.variations == nil, "no reverse, one variation")
check(#S.started == 1 and S.started[1]:find(IMPORTER, 1, true), "the importer is started when it is not running")
check(reaper.GetExtState("InpaintBridge", "show_window") == "1", "the status window is asked for")
local entry = B.pending()[1]
check(entry.item == item.guid and entry.kind == "edit", "the request remembers the item's GUID")
near(entry.s0, 4.0, "and the range in source time")

-- Regenerate: no dialog, the last prompt, the next seed; the importer is running now
reaper.SetExtState("InpaintBridge", "importer_alive", tostring(reaper.time_precise()), false)
B.run("regenerate")
doc = only_request()
check(doc.args[4] == "rain, soft on a tin roof" and options(doc).seed == 1, "regenerate: last prompt, next seed")
check(#S.dialogs == 1 and #S.started == 1, "no dialog, and the running importer is not started again")

-- Settings: one label per field, checked before they are saved
S.inputs = { { "fal", "", "3", "20", "", "ask", "auto", spool } }
check(B.run("settings"), "settings saved")
check(#S.last_dialog.labels == #B.model.SETTINGS, "one label per field")
check(B.get("variations") == "3" and B.get("engine") == "fal", "values saved")
B.run("regenerate")
check(options(only_request()).variations == 3, "variations go with the request")
S.inputs = { { "fal", "", "lots", "20", "", "ask", "auto", spool } }
check(B.run("settings") == nil and S.messages[#S.messages]:find('Variations per request = "lots"'),
  "a bad setting is refused, naming the field and the value", S.messages[#S.messages])
check(B.get("variations") == "3", "nothing was saved")

-------------------------------------------------------------------------------- render first
fresh()
track = S.add_track()
item, take = S.add_item(track, 10, 8, { source = S.file_source("/m/a.wav", 60), offs = 2, fx = 1 })
other = S.add_item(track, 30, 4, { source = S.file_source("/m/b.wav", 60) })
local bystander = S.add_item(S.add_track(), 10, 8, { source = S.file_source("/m/c.wav", 60), selected = false })
S.time_sel = { 12.0, 12.5 }
S.message_answer = 7 -- No
check(B.run("regenerate") == nil and S.messages[#S.messages]:find("has FX"), "refused with the reason")
S.message_answer = 6 -- Yes
check(B.run("regenerate"), "rendered first")
check(#item.takes == 2 and #other.takes == 1 and #bystander.takes == 1, "only the target item is rendered")
check(other.selected and item.selected and not bystander.selected, "the selection is restored")
doc = only_request()
check(doc.args[1]:find("rendered%-1%.wav"), "the rendered take is the source", doc.args[1])
local render_id = B.render_command()
local ran = {}
for _, cmd in ipairs(S.commands) do ran[cmd] = true end
check(S.command_names[render_id] == "Item: Render items to new take" and ran[render_id],
  "the render action was found by its name")
S.command_names[41999], S.command_names[40601] = "Something else", ""
local _, why = B.render_command()
check(why and why:find("41999 is \"Something else\""), "no action with that name: said so", why)

-------------------------------------------------------------------------------- razor edits
fresh({ inputs = { { "a", "" }, { "b", "" }, { "c", "" } } })
local t1 = S.add_track()
local on_t1 = S.add_item(t1, 0, 20, { source = S.file_source("/m/t1.wav", 60), selected = false })
local t2 = S.add_track({ areas = { { 12, 12.5 } } })
local on_t2 = S.add_item(t2, 10, 8, { source = S.file_source("/m/t2.wav", 60), offs = 1, selected = false })
B.run("inpaint")
doc = only_request()
check(doc.args[1] == "/m/t2.wav", "a razor edit needs no selected item", doc.args[1])
near(doc.args[2], 3, "razor start in source time")
-- an envelope razor is not a range of audio
t2.areas = { { 12, 12.5, guid = "{ENV-GUID}" } }
check(B.run("inpaint") == nil and S.messages[#S.messages]:find("time selection"), "envelope razors are skipped")
-- fixed lanes: only the item in the razor's lane
local t3 = S.add_track({ freemode = 2, areas = { { 1, 2, top = 0.5, bottom = 1.0 } } })
S.add_item(t3, 0, 5, { source = S.file_source("/m/lane0.wav", 60), y = 0, h = 0.5, lane = 0, selected = false })
S.add_item(t3, 0, 5, { source = S.file_source("/m/lane1.wav", 60), y = 0.5, h = 0.5, lane = 1, selected = false })
t2.areas = {}
B.run("inpaint")
doc = only_request()
check(doc.args[1] == "/m/lane1.wav", "the razor's own lane", doc.args[1])
check(on_t1 and on_t2, "items exist")

-------------------------------------------------------------------------------- variations and repeats
fresh({ inputs = { { "rain", "" } } })
track = S.add_track()
item, take = S.add_item(track, 10, 8, { source = S.file_source("/m/a.wav", 60), offs = 2 })
local guid = item.guid
S.time_sel = { 12.0, 12.5 }
B.set("variations", "2")
local first = B.run("inpaint")[1]
reaper.SetExtState("InpaintBridge", "importer_alive", tostring(reaper.time_precise()), false)
local second = B.run("regenerate")[1]
requests()
-- the Regenerate result comes first; then one variation of the first request, then the other
local regenerated = "the model regenerated 4.000-5.000 s of the 3.900-5.100 s asked for"
result(second, { j3 = done_job(9, 3.0, 5.5, { notes = { regenerated, "fal-ai/x takes no seed" } }) })
check(B.import_results() == 1, "the regenerated take")
local _, notices = B.status_rows()
check(notices[#notices].text == regenerated and #S.messages == 0,
  "what the model really regenerated is listed in the status window, without a message box", notices[#notices].text)
result(first, { j1 = { state = "running", fraction = 0.5, seed = 7 }, j2 = done_job(8, 3.5, 5.0) }, false)
check(B.import_results() == 1, "one variation while the other runs")
result(first, { j1 = done_job(7, 3.5, 5.0), j2 = done_job(8, 3.5, 5.0) })
check(B.import_results() == 1, "the other variation; the imported one is not imported twice")
local pieces = track_items(track)
check(#pieces == 3, "split once into three pieces", #pieces)
check(pieces[1] == item and item.guid == guid, "the original is the left piece and keeps its GUID")
local region = pieces[2]
near(region.pos, 12.0, "region position"); near(region.len, 0.5, "region length")
check(#region.takes == 4, "every result is a take of the same region piece", #region.takes)
local names = {}
for i = 2, 4 do names[i - 1] = region.takes[i].name end
check(names[1] == "rain #9" and names[2] == "rain #8" and names[3] == "rain #7", "names", table.concat(names, ","))
near(region.takes[2].offs, 1.0, "take #9 lines up: source 4.0 s at the region's start, its patch starts at 3.0 s")
near(region.takes[3].offs, 0.5, "take #8 lines up (patch from 3.5 s)")
near(region.takes[4].offs, 0.5, "take #7 lines up, whatever take was active at import")
check(region.active == region.takes[4], "the newest take is active")
check(#S.undo == 3 and S.undo[1] == "Inpaint Bridge: rain #9" and S.undo[3] == "Inpaint Bridge: rain #7",
  "one undo block per import, named after the prompt and seed", S.undo[1])
balanced()
check(item.selected and region.selected, "the selection is as it was")
for i = 2, 4 do check(S.peaks[region.takes[i].source] == "built", "peaks built for the new source") end
check(S.peaks[take.source] == nil, "and not for anything else")
check(#B.pending() == 0, "both requests are done")
local ext = B.json.decode(select(2, reaper.GetSetMediaItemTakeInfo_String(region.takes[4], "P_EXT:inpaint_bridge", "", false)))
check(ext.origin.file == "/m/a.wav" and ext.seed == 7, "the take keeps its original and its seed")

-------------------------------------------------------------------------------- edits while the job runs
local function one_job_scene()
  fresh({ inputs = { { "fix", "" } } })
  track = S.add_track()
  item, take = S.add_item(track, 10, 8, { source = S.file_source("/m/a.wav", 60), offs = 2 })
  S.time_sel = { 12.0, 12.5 }
  local rid = B.run("inpaint")[1]
  requests()
  return rid
end

-- moved: the take follows the material
local rid = one_job_scene()
item.pos = 13
result(rid, { j = done_job(1, 3.5, 5.0) })
check(B.import_results() == 1, "moved item")
region = track_items(track)[2]
near(region.pos, 15.0, "the region moved with the item"); near(region.active.offs, 0.5, "and lines up")

-- trimmed at the start (offset and position move together)
rid = one_job_scene()
item.pos, item.len, take.offs = 11, 7, 3
result(rid, { j = done_job(1, 3.5, 5.0) })
check(B.import_results() == 1, "trimmed item")
near(track_items(track)[2].pos, 12.0, "same place after a trim")

-- split by the user before the range: the right piece gets the take
rid = one_job_scene()
local right = reaper.SplitMediaItem(item, 11)
result(rid, { j = done_job(1, 3.5, 5.0) })
check(B.import_results() == 1, "split item")
local pieces2 = track_items(track)
check(#pieces2 == 4 and pieces2[3].pos == 12.0 and #pieces2[3].takes == 2 and right.pos == 11, "on the right piece")

-- playrate changed meanwhile
rid = one_job_scene()
take.playrate = 2
result(rid, { j = done_job(1, 3.5, 5.0) })
check(B.import_results() == 1, "playrate changed")
region = track_items(track)[2]
near(region.pos, 11.0, "the range sits where the source is now"); near(region.len, 0.25, "shorter at rate 2")
near(region.active.playrate, 2, "the new take plays at the item's rate")

-- deleted or trimmed away: refused with a message, nothing changes
for _, spoil in ipairs({
  function() item.deleted = true; table.remove(S.items, 1) end,
  function() item.len = 1 end,
}) do
  rid = one_job_scene()
  spoil()
  local before = #S.items
  result(rid, { j = done_job(1, 3.5, 5.0) })
  check(B.import_results() == 0, "refused")
  check(S.messages[#S.messages]:find("was not placed") and S.messages[#S.messages]:find("left as it is"),
    "the message says why and that nothing changed", S.messages[#S.messages])
  check(#S.items == before and #S.undo == 0 and #B.pending() == 0, "the project is left as it is")
  balanced()
end

-------------------------------------------------------------------------------- swaps at the seam while playing
-- the transport plays through the region (12-12.5 s of the timeline, the item's range 12.0-12.5 s plus
-- handles): the new take waits until the play position has left it, and never switches inside it
local function playing_scene(swap)
  local rid = one_job_scene()
  if swap then B.set("swap", swap) end
  result(rid, { j = done_job(1, 3.5, 5.0) })
  S.play.state, S.play.pos = 1, 11.0  -- playing, before the region: nothing to wait for
  return rid
end

playing_scene()
S.play.pos = 12.2  -- inside the region when the result comes in
check(B.import_results() == 1, "imported while playing")
region = track_items(track)[2]
check(#region.takes == 2 and region.active == region.takes[1], "added, but the piece keeps its old take")
check(#B.waiting == 1 and #S.undo == 1, "waiting for the seam, the import is one undo point")
local t0, t1 = region.pos, region.pos + region.len
for _, at in ipairs({ 12.25, (12.25 + t1) / 2, t1 - 0.01 }) do  -- the cursor moves on inside the region
  S.play.pos = at
  check(B.swap_waiting() == 0 and region.active == region.takes[1], "no switch inside the region", at)
end
S.play.pos = t1 + 0.02  -- past the region's end
check(B.swap_waiting() == 1 and region.active == region.takes[2], "switched once the cursor left the region")
check(#B.waiting == 0 and S.undo[#S.undo]:find("switch to", 1, true), "its own undo point", S.undo[#S.undo])
balanced()

-- a loop over the region: the cursor never leaves it, the switch comes right after the loop wraps
playing_scene()
S.play.pos = t0 + 0.05
check(B.import_results() == 1 and #B.waiting == 1, "waiting in a loop")
region = track_items(track)[2]
S.play.pos = t1 - 0.02
check(B.swap_waiting() == 0 and region.active == region.takes[1], "not before the loop's end")
S.play.pos = t0 + 0.01  -- wrapped back to the loop's start
check(B.swap_waiting() == 1 and region.active == region.takes[2], "switched at the wrap")

-- stopped meanwhile: the switch happens at once; the background loop does it on its own
playing_scene()
S.play.pos = 12.2
B.import_results()
region = track_items(track)[2]
S.play.state = 0
B.background(nil)
check(region.active == region.takes[2] and #B.waiting == 0, "the importer's tick switched it when stopped")

-- the item deleted while its take waits: forgotten, nothing breaks
playing_scene()
S.play.pos = 12.2
B.import_results()
region = track_items(track)[2]
region.deleted = true
S.play.pos = 20
check(B.swap_waiting() == 0 and #B.waiting == 0, "a deleted item's take is forgotten")

-- the setting turns it off: the take is active at once, even inside the region
playing_scene("now")
S.play.pos = 12.2
check(B.import_results() == 1 and #B.waiting == 0, "no waiting")
region = track_items(track)[2]
check(region.active == region.takes[2], "switched at once, as asked")
S.play.state = 0

-------------------------------------------------------------------------------- a looped section
fresh({ inputs = { { "loop", "" } } })
track = S.add_track()
local section = S.section(S.file_source("/m/long.wav", 120), 20, 10, false)
item, take = S.add_item(track, 50, 30, { source = section, loop = true })
S.time_sel = { 62, 63 }
rid = B.run("inpaint")[1]
doc = only_request()
near(doc.args[2], 22, "wraps at the section's length and offset"); near(doc.args[3], 23, "end")
result(rid, { j = done_job(3, 21.5, 23.5) })
check(B.import_results() == 1, "looped import")
region = track_items(track)[2]
near(region.pos, 62, "second pass of the loop"); near(region.active.offs, 0.5, "section time 2.0 s minus patch 1.5 s")

-------------------------------------------------------------------------------- reversed takes
for _, stored_len in ipairs({ 0, 10 }) do
  fresh({ inputs = { { "backwards", "" } } })
  track = S.add_track()
  local rev_src = S.section(S.file_source("/m/c.wav", 120), 20, stored_len, true)
  if stored_len == 0 then rev_src = S.section(S.file_source("/m/c.wav", 30), 20, 0, true) end
  item, take = S.add_item(track, 40, 5, { source = rev_src })
  local neighbour = S.add_item(track, 50, 5, { source = S.file_source("/m/d.wav", 60) }) -- also selected
  S.time_sel = { 41, 42 }
  rid = B.run("inpaint")[1]
  doc = only_request()
  near(doc.args[2], 28, "reversed start"); near(doc.args[3], 29, "reversed end")
  check(options(doc).reverse == 1, "the daemon is asked for a reversed patch")
  result(rid, { j = done_job(1, 27.5, 29.5) })
  local commands = #S.commands
  check(B.import_results() == 1, "reversed import")
  check(#S.commands == commands, "no action ran: nothing reverses the take afterwards")
  region = track_items(track)[2]
  check(region.active.source.type == "WAVE", "the new take plays its (already reversed) file forwards")
  near(region.active.offs, 0.5, "the reversed patch lines up: file 29.5 s is patch 0, region starts at 29 s")
  check(#neighbour.takes == 1 and neighbour.active.source.file == "/m/d.wav", "nothing else changed")
end

-------------------------------------------------------------------------------- the new take sounds like the old one
one_job_scene()
take.playrate, take.ppitch, take.pitch, take.pitchmode, take.chanmode, take.vol, take.pan = 1, 0, 2, 5, 3, 0.5, -0.3
rid = B.pending()[1].id
result(rid, { j = done_job(1, 3.5, 5.0) })
B.import_results()
local new = track_items(track)[2].active
check(new.ppitch == 0 and new.pitch == 2 and new.pitchmode == 5 and new.chanmode == 3 and new.vol == 0.5
  and new.pan == -0.3 and new.playrate == 1, "playrate, preserve pitch, pitch, pitch mode, channels, volume, pan")

-------------------------------------------------------------------------------- regenerate after an import
S.time_sel = { 12.0, 12.5 }
for _, it in ipairs(S.items) do it.selected = (it == track_items(track)[2]) end
reaper.SetExtState("InpaintBridge", "importer_alive", tostring(reaper.time_precise()), false)
B.run("regenerate")
doc = only_request()
check(doc.args[1] == "/m/a.wav", "regenerate works on the original file, not the AI take", doc.args[1])
near(doc.args[2], 4.0, "the original range"); near(doc.args[3], 4.5, "end")

-------------------------------------------------------------------------------- failures
rid = one_job_scene()
result(rid, { j = { state = "failed", error = "fal: no key: set FAL_KEY", seed = 1 } })
check(B.import_results() == 0 and S.messages[#S.messages]:find("FAL_KEY"), "errors show in REAPER")
rid = one_job_scene()
local messages = #S.messages
result(rid, { j = { state = "cancelled", seed = 1 } })
check(B.import_results() == 0 and #B.pending() == 0 and #S.messages == messages, "a cancelled job goes quietly")

-------------------------------------------------------------------------------- the status window
rid = one_job_scene()
local window = dofile(here .. "../../reaper_scripts/inpaint_bridge/window.lua")
B.background(window)
check(S.window and S.window.name == "Inpaint Bridge", "the first request opens the window")
result(rid, { j9 = { state = "running", fraction = 0.5, seed = 4, engine = "local" } }, false)
S.drawn = {}
S.deferred()
local text = table.concat(S.drawn, "\n")
check(text:find("running 50%%") and text:find('"fix"') and text:find("#4") and text:find("local"), "the row", text)
check(text:find("Cancel"), "a Cancel button")
-- click Cancel
local cell = B.model.layout(select(1, B.status_rows()), gfx.w)[1]
gfx.mouse_x, gfx.mouse_y, gfx.mouse_cap = cell.button.x + 3, cell.button.y + 3, 1
S.deferred()
gfx.mouse_cap = 0
local cancel = requests()
check(#cancel == 1 and cancel[1].address == "/bridge/cancel" and cancel[1].args[1] == "j9", "Cancel asks the daemon")
S.deferred()
check(#requests() == 0, "one click, one request")
-- the user closes the window: it stays closed, and where it was docked is kept
S.window.dock = 1
S.gfx_chars = { -1 }
S.deferred()
check(S.window == nil and reaper.GetExtState("InpaintBridge", "window_dock") == "1", "closed, dock state kept")
S.deferred()
check(S.window == nil, "it stays closed until asked for")
B.run("show_status")
S.deferred()
check(S.window ~= nil and S.window.dock == 1, "Show status opens it again where it was")
-- status window turned off: requests do not open it
B.set("status_window", "off")
S.inputs = { { "quiet", "" } }
B.run("inpaint")
check(reaper.GetExtState("InpaintBridge", "show_window") ~= "1", "no window when turned off")
balanced()
print("OK")
