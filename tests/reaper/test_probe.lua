-- The probe script, run against the fake configured by a probe report, must write that same
-- report: the fake replays what REAPER was seen (or documented) to do.
-- usage: lua5.4 test_probe.lua REPORT.json OUT_FOLDER
local here = arg[0]:match("^(.*[/\\])") or "./"
local F = dofile(here .. "fake_reaper.lua")
local check = F.check
local fixture_path, out = assert(arg[1], "REPORT"), assert(arg[2], "OUT_FOLDER")
local fixture = F.load_report(fixture_path)
local script = here .. "../../reaper_scripts/tools/Inpaint Bridge - Probe REAPER.lua"
local S
reaper, S = F.new({ report = fixture, resource_path = out, script = script })
dofile(script)
check(#S.messages == 1 and S.messages[1]:find("inpaint%-bridge%-probe%.json"), "the user is told where the report is")
local got = F.load_report(out .. "/inpaint-bridge-probe.json")
check(got.error == nil, "the probe ran through", tostring(got.error))

local function same(a, b, path)
  if type(a) == "table" and type(b) == "table" then
    for k, v in pairs(a) do same(v, b[k], path .. "." .. k) end
    for k in pairs(b) do check(a[k] ~= nil, "the report has " .. path .. "." .. k .. ", the fixture does not") end
  elseif type(a) == "number" and type(b) == "number" then
    check(math.abs(a - b) < 1e-6, path, a, b)
  else
    check(a == b, path, tostring(a), tostring(b))
  end
end
for key, value in pairs(fixture) do
  if key ~= "reaper" and key ~= "os" and key ~= "notes" then same(value, got[key], key) end
end
for key in pairs(got) do
  check(fixture[key] ~= nil or key == "reaper" or key == "os", "the fixture lacks " .. key)
end
check(#S.tracks == 0 and #S.items == 0, "the probe removed what it added")
check(S.open_blocks == 0 and S.ui_refresh == 0, "balanced")
check(io.open(out .. "/inpaint-bridge-probe.wav", "rb") == nil, "its test file is removed")

-- never on a project with items in it
os.remove(out .. "/inpaint-bridge-probe.json")
reaper, S = F.new({ report = fixture, resource_path = out, script = script })
S.add_item(S.add_track(), 0, 1, { source = S.file_source("/m/x.wav", 1) })
dofile(script)
check(S.messages[1]:find("empty project") and io.open(out .. "/inpaint-bridge-probe.json") == nil,
  "refused in a project with items")
print("OK")
