-- The actions: the request JSON in the spool, the dialog, regenerate, render-first, and the import.
local here = arg[0]:match("^(.*[/\\])") or "./"
local F = dofile(here .. "fake_reaper.lua")
local spool = assert(os.getenv("SPOOL"), "SPOOL must name a temporary folder")
os.execute('mkdir -p "' .. spool .. '/requests" "' .. spool .. '/results"')
reaper, S = F.new({ project_path = "/proj/media", inputs = { "rain, soft on a tin roof|room-tone" } })
local B = dofile(here .. "../../reaper_scripts/inpaint_bridge/core.lua")
local check, near = F.check, F.near
B.set("spool", spool)
B.set("engine", "local")

local track = S.add_track()
local item, take = S.add_item(track, 10, 8, { source = S.source("/m/a.wav", 60) })
take.offs = 2
S.time_sel = { 12.0, 12.5 }

local function only_request()
  local p = io.popen('ls "' .. spool .. '/requests"')
  local names = {}
  for name in p:lines() do names[#names + 1] = name end
  p:close()
  check(#names == 1, "one request file", tostring(#names))
  local path = spool .. "/requests/" .. names[1]
  local doc = assert(B.json_decode(B.read_file(path)))
  os.remove(path)
  return doc
end

-- Inpaint time selection: the dialog's separator keeps commas in the prompt
local id = B.run("inpaint")
check(id, "inpaint returns the request id")
local doc = only_request()
check(doc.id == id and doc.address == "/bridge/inpaint", "address and id")
check(doc.args[1] == "/m/a.wav", "source file")
near(doc.args[2], 4.0, "start"); near(doc.args[3], 4.5, "end")
check(doc.args[4] == "rain, soft on a tin roof", "prompt with a comma", doc.args[4])
local opts = {}
for i = 5, #doc.args, 2 do opts[doc.args[i]] = doc.args[i + 1] end
check(opts.engine == "local" and opts.preset == "room-tone" and opts.project == "/proj/media", "options",
      tostring(opts.engine), tostring(opts.preset), tostring(opts.project))
check(B.get("last_prompt") == "rain, soft on a tin roof", "the prompt is remembered")
check(S.last_dialog.captions:find("separator=|", 1, true), "dialog separator")

-- Regenerate: no dialog, same prompt, next seed
B.run("regenerate")
doc = only_request()
opts = {}
for i = 5, #doc.args, 2 do opts[doc.args[i]] = doc.args[i + 1] end
check(doc.args[4] == "rain, soft on a tin roof" and opts.seed == 1, "regenerate uses the last prompt and a new seed")
check(#B.pending() == 2, "both requests wait for results")

-- a take with FX: refused with the reason, or rendered first when the user says so
take.fx = 1
S.message_answer = 7 -- No
check(B.run("regenerate") == nil and S.messages[#S.messages]:find("has FX"), "refused with the reason")
S.message_answer = 6 -- Yes: render to a new take, then use it
check(B.run("regenerate"), "rendered first")
check(S.commands[#S.commands] == 41999, "render items to new take ran")
doc = only_request()
check(doc.args[1]:find("rendered%-1%.wav"), "the rendered file is the source", doc.args[1])
item.takes[#item.takes] = nil
item.active = take
take.fx = 0
B.set("render_first", "ask")

-- the import: a finished result becomes a take on the split-out region, in one undo block
local list = B.pending()
local function result(rid, jobs)
  local f = assert(io.open(spool .. "/results/" .. rid .. ".json", "w"))
  f:write(B.json_encode({ id = rid, finished = true, jobs = jobs, error = B.null }))
  f:close()
end
result(list[1].id, { j1 = { state = "done", take_path = "/proj/media/a.patch.wav", take_start = 3.5, take_end = 5.0,
                            seed = 7 },
                     j2 = { state = "done", take_path = "/proj/media/a.patch-2.wav", take_start = 3.5,
                            take_end = 5.0, seed = 8 } })
check(B.import_results() == 2, "two takes imported")
check(#S.items == 3, "split into three items", tostring(#S.items))
local mid = S.items[2]
near(mid.pos, 12.0, "region position"); near(mid.len, 0.5, "region length")
near(S.items[1].len, 2.0, "left part"); near(S.items[3].pos, 12.5, "right part")
check(#mid.takes == 3 and mid.active == mid.takes[3], "two new takes, the last active")
check(mid.takes[2].source.file == "/proj/media/a.patch.wav" and mid.takes[2].name == "rain, soft on a tin roof #7", "take name")
near(mid.takes[2].offs, 0.5, "the patch lines up: file 4.0 s at the region's start, patch starts at 3.5 s")
check(item.takes[1].source.file == "/m/a.wav", "the original take is untouched")
check(#S.undo == 1 and S.undo[1]:find("rain"), "one undo block")
check(S.open_blocks == 0 and S.ui_refresh == 0, "balanced undo block and UI refresh")
check(S.commands[#S.commands] == 40047, "peaks rebuilt")
check(#B.pending() == 2, "the imported request is forgotten, the others wait")

-- a failed job shows its error; nothing is added
result(list[2].id, { j3 = { state = "failed", error = "fal: no key: set FAL_KEY" } })
check(B.import_results() == 0 and S.messages[#S.messages]:find("FAL_KEY"), "errors show in REAPER")
result(list[3].id, { j5 = { state = "cancelled" } })
check(B.import_results() == 0 and #B.pending() == 0, "a cancelled request is let go quietly")

-- reversed sources: the new take is reversed too, and lines up from the end
local rev_item, rev_take = S.add_item(track, 40, 5, { source = S.source("/m/c.wav", 120, { offs = 20, len = 10, rev = true }) })
for _, it in ipairs(S.items) do it.selected = (it == rev_item) end
S.time_sel = { 41, 42 }
S.inputs = { "backwards|" }
B.run("inpaint")
doc = only_request()
near(doc.args[2], 28, "reversed start"); near(doc.args[3], 29, "reversed end")
list = B.pending()
result(list[1].id, { j4 = { state = "done", take_path = "/proj/media/c.patch.wav", take_start = 27.5, take_end = 29.5,
                            seed = 1 } })
check(B.import_results() == 1, "reversed import")
local region = S.items[#S.items - 1]
check(region.active.reversed, "the new take is reversed")
near(region.active.offs, 0.5, "reversed take lines up: patch end 29.5 s minus file 29 s at the region start")
print("OK")
