-- End to end: the REAPER action writes spool requests, the daemon (started by pytest) runs them
-- on the local engine, and the background import adds the takes in the fake project: two
-- variations on an item the user moves while they run, and a take that plays its file reversed.
-- usage: lua5.4 e2e.lua SPOOL SOURCE_WAV PROJECT_MEDIA_FOLDER
local here = arg[0]:match("^(.*[/\\])") or "./"
local spool, wav, project = arg[1], arg[2], arg[3]
local F = dofile(here .. "fake_reaper.lua")
local script = here .. "../../reaper_scripts/Inpaint Bridge - Inpaint time selection.lua"
local S
reaper, S = F.new({ project_path = project, inputs = { { "", "" }, { "", "" } }, script = script })
reaper.SetExtState("InpaintBridge", "spool", spool, true)
reaper.SetExtState("InpaintBridge", "engine", "local", true)
reaper.SetExtState("InpaintBridge", "variations", "2", true)
local track = S.add_track()
local item = S.add_item(track, 10, 8, { source = reaper.PCM_Source_CreateFromFile(wav), offs = 2 })
local rev_track = S.add_track()
local rev_item = S.add_item(rev_track, 40, 5, { source = S.section(reaper.PCM_Source_CreateFromFile(wav), 0, 0, true),
                                                 selected = false })
F.near(reaper.GetMediaSourceLength(item.active.source), 12, "the source's length from its WAV header")
S.time_sel = { 13.0, 13.2 } -- source 5.0 to 5.2 s
dofile(script) -- the action, exactly as REAPER runs it
item.pos = 20 -- the user moves the item while the jobs run
item.selected, rev_item.selected = false, true
S.time_sel = { 41.0, 41.2 } -- the reversed take: file 10.8 to 11.0 s
reaper.SetExtState("InpaintBridge", "variations", "1", true)
dofile(script)
local B = dofile(here .. "../../reaper_scripts/inpaint_bridge/core.lua")
F.check(#B.pending() == 2, "both requests wait", #B.pending())

local deadline = os.time() + 90
while #B.pending() > 0 do
  B.import_results()
  F.check(os.time() < deadline, "no results from the daemon within 90 s")
  F.check(#S.messages == 0, "an error was shown", S.messages[1] or "")
  os.execute("sleep 0.1")
end
local region
for _, it in ipairs(S.items) do if it.track == track and math.abs(it.pos - 23) < 1e-9 then region = it end end
F.check(region and #region.takes == 3, "both variations on one region piece where the material moved to")
F.near(region.len, 0.2, "region length")
local paths = {}
for i = 2, 3 do
  local take = region.takes[i]
  F.check(take.source.file:sub(1, #project) == project, "the take is in the project's media folder", take.source.file)
  F.near(take.offs, 0.5, "the patch (handles of 0.5 s) lines up with the region")
  paths[#paths + 1] = take.source.file
end
F.check(region.takes[2].name ~= region.takes[3].name, "two seeds", region.takes[2].name, region.takes[3].name)
local rev_region
for _, it in ipairs(S.items) do if it.track == rev_track and math.abs(it.pos - 41) < 1e-9 then rev_region = it end end
F.check(rev_region and #rev_region.takes == 2, "the reversed item's region has its take")
F.near(rev_region.active.offs, 0.5, "the reversed patch lines up")
paths[#paths + 1] = rev_region.active.source.file
F.check(#S.undo == 3 and S.open_blocks == 0, "one undo block per take")
print("OK " .. table.concat(paths, " "))
