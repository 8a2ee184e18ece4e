-- End to end: the REAPER action writes a spool request, the daemon (started by pytest) runs it
-- on the local engine, and the background import adds the take in the fake project.
-- usage: lua5.4 e2e.lua SPOOL SOURCE_WAV PROJECT_MEDIA_FOLDER
local here = arg[0]:match("^(.*[/\\])") or "./"
local spool, wav, project = arg[1], arg[2], arg[3]
local F = dofile(here .. "fake_reaper.lua")
local script = here .. "../../reaper_scripts/Inpaint Bridge - Inpaint time selection.lua"
reaper, S = F.new({ project_path = project, inputs = { "|" }, script = script })
reaper.SetExtState("InpaintBridge", "spool", spool, true)
reaper.SetExtState("InpaintBridge", "engine", "local", true)
local track = S.add_track()
local item, take = S.add_item(track, 10, 8, { source = S.source(wav, 12) })
take.offs = 2
S.time_sel = { 13.0, 13.2 } -- source 5.0 to 5.2 s

dofile(script) -- the action, exactly as REAPER runs it
local B = dofile(here .. "../../reaper_scripts/inpaint_bridge/core.lua")
F.check(#B.pending() == 1, "the request waits", tostring(#B.pending()))

local deadline = os.time() + 60
while B.import_results() == 0 do
  F.check(os.time() < deadline, "no result from the daemon within 60 s")
  F.check(#S.messages == 0, "an error was shown", S.messages[1] or "")
  os.execute("sleep 0.1")
end
local mid = S.items[2]
F.check(#S.items == 3 and #mid.takes == 2 and mid.active == mid.takes[2], "a new active take on the split region")
local path = mid.active.source.file
F.check(path:sub(1, #project) == project, "the take is in the project's media folder", path)
F.check(io.open(path, "rb") ~= nil, "the take file exists", path)
F.near(mid.active.offs, 0.5, "the patch (handles of 0.5 s) lines up with the region")
F.check(#S.undo == 1 and S.commands[#S.commands] == 40047, "one undo block, then peaks")
print("OK " .. path)
