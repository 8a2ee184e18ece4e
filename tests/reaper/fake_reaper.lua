-- A fake of the ReaScript API, written from REAPER's documented behaviour (reaper-sdk
-- reaper_plugin_functions.h, the ReaScript help page, the state-chunk definitions), for the
-- Inpaint Bridge scripts under Lua 5.4.
--
-- What it models, as REAPER documents it:
--   * SplitMediaItem: the original item becomes the left-hand piece (it keeps its GUID); the
--     right-hand piece is a new item whose takes start later in their sources by the split
--     distance times each take's playrate.
--   * Section and reverse sources wrap a parent; PCM_Source_GetSectionInfo reports offset,
--     length and reverse; a reverse-only wrapper is stored with LENGTH 0 (to the parent's end).
--   * Actions act on every selected item ("Item: Render items to new take", "Toggle take reverse").
--   * PCM_Source_CreateFromFile reads the real length from the WAV header.
--   * GetUserInputs splits its captions on commas whatever the values' separator.
--   * Undo blocks and UI-refresh holds must balance.
-- What REAPER does where the documentation is silent comes from a probe report
-- (reaper_scripts/tools/Inpaint Bridge - Probe REAPER.lua; fixtures in tests/reaper/fixtures):
-- the reverse-only section length, the render action's command id, what a split copies.
-- Any function or property it does not model raises at once.

local here = arg and arg[0] and arg[0]:match("^(.*[/\\])") or "./"
local F = {}
F.HERE = here
F.json = dofile(here .. "../../reaper_scripts/inpaint_bridge/json.lua")

function F.load_report(path)
  local f = assert(io.open(path, "rb"), "no probe report at " .. path)
  local report = assert(F.json.decode(f:read("a")))
  f:close()
  return report
end

F.DOCUMENTED = here .. "fixtures/documented.json"

local function loud(what)
  return setmetatable({}, { __index = function(_, k)
    error("fake REAPER: " .. what .. tostring(k) .. " is not modelled; model it from REAPER's documentation first", 2)
  end })
end

--- The length in seconds of a WAV file, from its header; nil when there is no such file.
function F.wav_length(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local head = f:read(12)
  if not head or #head < 12 or head:sub(1, 4) ~= "RIFF" or head:sub(9, 12) ~= "WAVE" then
    f:close()
    error("fake REAPER: " .. path .. " is not a WAV file; only WAV headers are modelled")
  end
  local sr, block, frames
  while true do
    local h = f:read(8)
    if not h or #h < 8 then break end
    local id, size = h:sub(1, 4), string.unpack("<I4", h, 5)
    if id == "fmt " then
      local fmt = f:read(size)
      sr, block = string.unpack("<I4", fmt, 5), string.unpack("<I2", fmt, 13)
      if size % 2 == 1 then f:seek("cur", 1) end
    elseif id == "data" then
      frames = size // block
      break
    else
      f:seek("cur", size + size % 2)
    end
  end
  f:close()
  assert(sr and frames, "fake REAPER: " .. path .. " has no fmt or data chunk")
  return frames / sr
end

function F.new(opts)
  opts = opts or {}
  local report = opts.report or F.load_report(opts.report_path or F.DOCUMENTED)
  local S = {
    items = {}, tracks = {}, ext = {}, projext = {}, commands = {}, messages = {}, undo = {}, console = {},
    inputs = opts.inputs or {}, time_sel = { 0, 0 }, project_path = opts.project_path or "",
    resource_path = opts.resource_path or "/tmp", os = opts.os or "Linux", clock = 0, ui_refresh = 0,
    open_blocks = 0, script = opts.script or "", seq = 0, scripts = {}, started = {}, peaks = {},
    report = report, gfx_chars = {}, dialogs = {}, play = { state = 0, pos = 0 },
  }
  S.command_names = {
    [41051] = "Item properties: Toggle take reverse",
    [40125] = "Take: Switch items to next take",
    [40126] = "Take: Switch items to previous take",
  }
  for id, name in pairs(report.render_commands or {}) do S.command_names[tonumber(id)] = name end
  local r = {}

  local function next_guid()
    S.seq = S.seq + 1
    return string.format("{00000000-0000-0000-0000-%012d}", S.seq)
  end
  local function check(obj, kind, fn)
    if type(obj) ~= "table" or obj.kind ~= kind or obj.deleted then
      error(string.format("fake REAPER: %s: expected a live %s, got %s", fn, kind, tostring(obj)), 3)
    end
    return obj
  end
  local function track_index(track)
    for i, t in ipairs(S.tracks) do if t == track then return i end end
    return math.huge
  end
  --- Items in REAPER's order: by track, then position.
  local function ordered(filter)
    local out = {}
    for _, it in ipairs(S.items) do if not filter or filter(it) then out[#out + 1] = it end end
    table.sort(out, function(a, b)
      local ta, tb = track_index(a.track), track_index(b.track)
      if ta ~= tb then return ta < tb end
      if a.pos ~= b.pos then return a.pos < b.pos end
      return a.seq < b.seq
    end)
    return out
  end

  ------------------------------------------------------------------ sources
  local function file_source(file, len)
    return { kind = "PCM_source", type = "WAVE", file = file, len = len }
  end
  local function effective_len(src)
    if src.type ~= "SECTION" then return src.len end
    if src.len and src.len > 0 then return src.len end
    return math.max(0, effective_len(src.parent) - src.offs)
  end
  S.file_source = file_source
  function S.section(parent, offs, len, rev)
    return { kind = "PCM_source", type = "SECTION", parent = parent, offs = offs, len = len or 0, rev = rev or false }
  end
  function S.midi_source(len) return { kind = "PCM_source", type = "MIDI", len = len } end
  S.effective_len = effective_len

  function r.PCM_Source_CreateFromFile(file)
    local len = F.wav_length(file)
    local src = file_source(file, len or 0)
    src.offline = len == nil
    return src
  end
  function r.GetMediaSourceParent(src) check(src, "PCM_source", "GetMediaSourceParent"); return src.parent end
  function r.PCM_Source_GetSectionInfo(src)
    check(src, "PCM_source", "PCM_Source_GetSectionInfo")
    if src.type ~= "SECTION" then return false, 0, 0, false end
    local len = src.len
    local probed = (report.reverse or {}).section_info or {}
    if len == 0 and probed.len ~= 0 then len = effective_len(src) end
    return true, src.offs, len, src.rev
  end
  function r.GetMediaSourceFileName(src, _)
    check(src, "PCM_source", "GetMediaSourceFileName")
    return src.type == "WAVE" and src.file or ""
  end
  function r.GetMediaSourceLength(src)
    check(src, "PCM_source", "GetMediaSourceLength")
    return effective_len(src), false
  end
  function r.GetMediaSourceType(src, _) check(src, "PCM_source", "GetMediaSourceType"); return src.type end
  function r.PCM_Source_BuildPeaks(src, mode)
    check(src, "PCM_source", "PCM_Source_BuildPeaks")
    if mode == 0 then
      if S.peaks[src] == "built" then return 0 end
      S.peaks[src] = 3
      return 100
    elseif mode == 1 then
      assert(type(S.peaks[src]) == "number", "PCM_Source_BuildPeaks(src, 1) before (src, 0)")
      S.peaks[src] = math.max(0, S.peaks[src] - 1)
      return S.peaks[src] * 33
    elseif mode == 2 then
      assert(S.peaks[src] == 0, "PCM_Source_BuildPeaks(src, 2) before the build ran to 0")
      S.peaks[src] = "built"
      return 0
    end
    error("PCM_Source_BuildPeaks: mode must be 0, 1 or 2")
  end

  ------------------------------------------------------------------ tracks
  function S.add_track(opts2)
    opts2 = opts2 or {}
    local t = { kind = "MediaTrack", guid = next_guid(), areas = opts2.areas or {}, freemode = opts2.freemode or 0, ext = {} }
    S.tracks[#S.tracks + 1] = t
    return t
  end
  function r.CountTracks() return #S.tracks end
  function r.GetTrack(_, idx) return S.tracks[idx + 1] end
  function r.InsertTrackAtIndex(idx, _)
    local t = { kind = "MediaTrack", guid = next_guid(), areas = {}, freemode = 0, ext = {} }
    table.insert(S.tracks, idx + 1, t)
  end
  function r.DeleteTrack(track)
    check(track, "MediaTrack", "DeleteTrack")
    for i = #S.items, 1, -1 do
      if S.items[i].track == track then S.items[i].deleted = true; table.remove(S.items, i) end
    end
    for i, t in ipairs(S.tracks) do if t == track then table.remove(S.tracks, i); break end end
    track.deleted = true
  end
  local function razor_string(track, ext)
    local parts = {}
    for _, a in ipairs(track.areas) do
      if ext then
        local s = string.format("%.14g %.14g", a[1], a[2])
        if a.guid or a.top then s = s .. string.format(' "%s"', a.guid or "") end
        if a.top then s = s .. string.format(" %.14g %.14g", a.top, a.bottom) end
        parts[#parts + 1] = s
      else
        parts[#parts + 1] = string.format('%.14g %.14g "%s"', a[1], a[2], a.guid or "")
      end
    end
    return table.concat(parts, ext and "," or " ")
  end
  function r.GetSetMediaTrackInfo_String(track, key, value, set)
    check(track, "MediaTrack", "GetSetMediaTrackInfo_String")
    if key == "GUID" then assert(not set, "the fake does not set GUIDs"); return true, track.guid end
    if key == "P_RAZOREDITS" or key == "P_RAZOREDITS_EXT" then
      assert(not set, "the fake does not set razor edits from scripts")
      return true, razor_string(track, key == "P_RAZOREDITS_EXT")
    end
    local ext = key:match("^P_EXT:(.+)$")
    if ext then
      if set then track.ext[ext] = value end
      return true, track.ext[ext] or ""
    end
    error("fake REAPER: track string " .. key .. " is not modelled")
  end
  function r.GetMediaTrackInfo_Value(track, key)
    check(track, "MediaTrack", "GetMediaTrackInfo_Value")
    if key == "I_FREEMODE" then return track.freemode end
    error("fake REAPER: track value " .. key .. " is not modelled")
  end

  ------------------------------------------------------------------ items and takes
  local function new_take(item, o)
    o = o or {}
    return { kind = "MediaItem_Take", item = item, guid = next_guid(), source = o.source, offs = o.offs or 0,
             playrate = o.playrate or 1, ppitch = o.ppitch or 1, pitch = o.pitch or 0, pitchmode = o.pitchmode or -1,
             chanmode = o.chanmode or 0, vol = o.vol or 1, pan = o.pan or 0, name = o.name or "",
             stretch = o.stretch or 0, fx = o.fx or 0, ext = {} }
  end
  local function new_item(track, pos, len)
    S.seq = S.seq + 1
    local item = { kind = "MediaItem", track = track, guid = next_guid(), pos = pos, len = len, loop = 0,
                   selected = false, takes = {}, ext = {}, seq = S.seq, y = 0, h = 1, lane = 0 }
    S.items[#S.items + 1] = item
    return item
  end
  --- A test builder: an item with one take (``o.source`` its source) at pos, len.
  function S.add_item(track, pos, len, o)
    local item = new_item(track, pos, len)
    item.selected = o.selected ~= false
    item.loop = o.loop and 1 or 0
    item.y, item.h, item.lane = o.y or 0, o.h or 1, o.lane or 0
    local take = new_take(item, o)
    item.takes[1], item.active = take, take
    return item, take
  end
  function S.add_take(item, o)
    local take = new_take(item, o)
    item.takes[#item.takes + 1] = take
    return take
  end

  function r.CountMediaItems() return #S.items end
  function r.GetMediaItem(_, idx) return ordered()[idx + 1] end
  function r.CountTrackMediaItems(track)
    return #ordered(function(it) return it.track == track end)
  end
  function r.GetTrackMediaItem(track, idx) return ordered(function(it) return it.track == track end)[idx + 1] end
  function r.AddMediaItemToTrack(track) check(track, "MediaTrack", "AddMediaItemToTrack"); return new_item(track, 0, 0) end
  function r.CountSelectedMediaItems() return #ordered(function(it) return it.selected end) end
  function r.GetSelectedMediaItem(_, idx) return ordered(function(it) return it.selected end)[idx + 1] end
  function r.SetMediaItemSelected(item, sel) check(item, "MediaItem", "SetMediaItemSelected").selected = sel and true or false end
  function r.IsMediaItemSelected(item) return check(item, "MediaItem", "IsMediaItemSelected").selected end
  function r.SelectAllMediaItems(_, sel) for _, it in ipairs(S.items) do it.selected = sel and true or false end end
  function r.GetMediaItem_Track(item) return check(item, "MediaItem", "GetMediaItem_Track").track end
  function r.ValidatePtr2(_, ptr, kind)
    return type(ptr) == "table" and not ptr.deleted and (ptr.kind .. "*") == kind
  end
  local item_keys = { D_POSITION = "pos", D_LENGTH = "len", B_LOOPSRC = "loop", F_FREEMODE_Y = "y", F_FREEMODE_H = "h",
                      I_FIXEDLANE = "lane" }
  function r.GetMediaItemInfo_Value(item, key)
    check(item, "MediaItem", "GetMediaItemInfo_Value")
    if key == "B_UISEL" then return item.selected and 1 or 0 end
    local field = item_keys[key] or error("fake REAPER: item value " .. key .. " is not modelled")
    return item[field]
  end
  function r.SetMediaItemInfo_Value(item, key, value)
    check(item, "MediaItem", "SetMediaItemInfo_Value")
    local field = item_keys[key] or error("fake REAPER: item value " .. key .. " is not modelled")
    item[field] = value
    return true
  end
  function r.GetSetMediaItemInfo_String(item, key, value, set)
    check(item, "MediaItem", "GetSetMediaItemInfo_String")
    if key == "GUID" then assert(not set, "the fake does not set GUIDs"); return true, item.guid end
    local ext = key:match("^P_EXT:(.+)$")
    if ext then
      if set then item.ext[ext] = value end
      return true, item.ext[ext] or ""
    end
    error("fake REAPER: item string " .. key .. " is not modelled")
  end
  function r.CountTakes(item) return #check(item, "MediaItem", "CountTakes").takes end
  function r.GetTake(item, idx) return check(item, "MediaItem", "GetTake").takes[idx + 1] end
  function r.GetActiveTake(item) return check(item, "MediaItem", "GetActiveTake").active end
  function r.SetActiveTake(take) check(take, "MediaItem_Take", "SetActiveTake").item.active = take end
  function r.GetMediaItemTake_Item(take) return check(take, "MediaItem_Take", "GetMediaItemTake_Item").item end
  function r.GetMediaItemTake_Track(take) return check(take, "MediaItem_Take", "GetMediaItemTake_Track").item.track end
  function r.TakeIsMIDI(take)
    local src = check(take, "MediaItem_Take", "TakeIsMIDI").source
    return src ~= nil and src.type == "MIDI"
  end
  function r.GetTakeNumStretchMarkers(take) return check(take, "MediaItem_Take", "GetTakeNumStretchMarkers").stretch end
  function r.TakeFX_GetCount(take) return check(take, "MediaItem_Take", "TakeFX_GetCount").fx end
  local take_keys = { D_STARTOFFS = "offs", D_PLAYRATE = "playrate", B_PPITCH = "ppitch", D_PITCH = "pitch",
                      I_PITCHMODE = "pitchmode", I_CHANMODE = "chanmode", D_VOL = "vol", D_PAN = "pan" }
  function r.GetMediaItemTakeInfo_Value(take, key)
    check(take, "MediaItem_Take", "GetMediaItemTakeInfo_Value")
    return take[take_keys[key] or error("fake REAPER: take value " .. key .. " is not modelled")]
  end
  function r.SetMediaItemTakeInfo_Value(take, key, value)
    check(take, "MediaItem_Take", "SetMediaItemTakeInfo_Value")
    take[take_keys[key] or error("fake REAPER: take value " .. key .. " is not modelled")] = value
    return true
  end
  function r.GetSetMediaItemTakeInfo_String(take, key, value, set)
    check(take, "MediaItem_Take", "GetSetMediaItemTakeInfo_String")
    if key == "GUID" then assert(not set, "the fake does not set GUIDs"); return true, take.guid end
    if key == "P_NAME" then
      if set then take.name = value end
      return true, take.name
    end
    local ext = key:match("^P_EXT:(.+)$")
    if ext then
      if set then take.ext[ext] = value end
      return true, take.ext[ext] or ""
    end
    error("fake REAPER: take string " .. key .. " is not modelled")
  end
  function r.GetMediaItemTake_Source(take) return check(take, "MediaItem_Take", "GetMediaItemTake_Source").source end
  function r.AddTakeToMediaItem(item)
    local take = new_take(check(item, "MediaItem", "AddTakeToMediaItem"))
    item.takes[#item.takes + 1] = take
    return take
  end
  function r.SetMediaItemTake_Source(take, src)
    check(take, "MediaItem_Take", "SetMediaItemTake_Source")
    take.source = check(src, "PCM_source", "SetMediaItemTake_Source")
    return true
  end
  function r.UpdateItemInProject(item) check(item, "MediaItem", "UpdateItemInProject") end

  function r.SplitMediaItem(item, pos)
    check(item, "MediaItem", "SplitMediaItem")
    if pos <= item.pos or pos >= item.pos + item.len then return nil end
    local split = report.split or {}
    local right = new_item(item.track, pos, item.pos + item.len - pos)
    right.loop, right.y, right.h, right.lane = item.loop, item.y, item.h, item.lane
    right.selected = split.selection_copied ~= false and item.selected
    if split.item_ext_copied ~= false then for k, v in pairs(item.ext) do right.ext[k] = v end end
    for i, t in ipairs(item.takes) do
      local copy = new_take(right, t)
      copy.name, copy.stretch, copy.fx = t.name, t.stretch, t.fx
      copy.offs = t.offs + (pos - item.pos) * t.playrate
      if split.take_ext_copied ~= false then for k, v in pairs(t.ext) do copy.ext[k] = v end end
      right.takes[i] = copy
      if item.active == t then right.active = copy end
    end
    item.len = pos - item.pos
    return right
  end

  ------------------------------------------------------------------ actions
  local function selected_items() return ordered(function(it) return it.selected end) end
  local handlers = {}
  handlers["Item properties: Toggle take reverse"] = function()
    for _, item in ipairs(selected_items()) do
      local take = item.active
      if take and take.source then
        local src, outer = take.source, nil
        local len_before = effective_len(src)
        if src.type == "SECTION" and src.rev then
          outer = (src.offs == 0 and src.len == 0) and src.parent or S.section(src.parent, src.offs, src.len, false)
        elseif src.type == "SECTION" then
          outer = S.section(src.parent, src.offs, src.len, true)
        else
          outer = S.section(src, 0, 0, true)
        end
        take.source = outer
        -- the item keeps sounding the same stretch of audio, played the other way
        take.offs = len_before - (take.offs + item.len * take.playrate)
      end
    end
  end
  handlers["Item: Render items to new take"] = function()
    for _, item in ipairs(selected_items()) do
      S.renders = (S.renders or 0) + 1
      local file = (S.project_path ~= "" and S.project_path or "/tmp") .. "/rendered-" .. S.renders .. ".wav"
      local take = new_take(item, { source = file_source(file, item.len), name = "rendered" })
      item.takes[#item.takes + 1] = take
      item.active = take
    end
  end
  local function switch(step)
    return function()
      for _, item in ipairs(selected_items()) do
        for i, t in ipairs(item.takes) do
          if t == item.active then item.active = item.takes[(i - 1 + step) % #item.takes + 1]; break end
        end
      end
    end
  end
  handlers["Take: Switch items to next take"] = switch(1)
  handlers["Take: Switch items to previous take"] = switch(-1)

  function r.kbd_getTextFromCmd(cmd, _) return S.command_names[cmd] or "" end
  function r.Main_OnCommand(cmd, _)
    S.commands[#S.commands + 1] = cmd
    if S.started_ids and S.started_ids[cmd] then S.started[#S.started + 1] = S.started_ids[cmd]; return end
    local handler = handlers[S.command_names[cmd] or ""]
    if not handler then error("fake REAPER: action " .. tostring(cmd) .. " is not modelled") end
    handler()
  end
  function r.AddRemoveReaScript(add, section, path, _)
    assert(add and section == 0, "the fake only adds scripts to the main section")
    S.started_ids = S.started_ids or {}
    if not S.scripts[path] then
      S.next_script = (S.next_script or 55000) + 1
      S.scripts[path], S.started_ids[S.next_script] = S.next_script, path
    end
    return S.scripts[path]
  end

  ------------------------------------------------------------------ state, dialogs, undo
  function r.GetExtState(section, key) return S.ext[section .. "/" .. key] or "" end
  function r.SetExtState(section, key, value, _)
    assert(not tostring(value):find("\n"), "ExtState values may not contain newlines")
    S.ext[section .. "/" .. key] = tostring(value)
  end
  function r.DeleteExtState(section, key, _) S.ext[section .. "/" .. key] = nil end
  function r.GetProjExtState(_, section, key)
    local v = S.projext[section .. "/" .. key] or ""
    return #v, v
  end
  function r.SetProjExtState(_, section, key, value) S.projext[section .. "/" .. key] = value; return 1 end
  -- the transport: tests set S.play.state (1 playing, 2 paused, 5 recording) and move S.play.pos
  function r.GetPlayState() return S.play.state end
  function r.GetPlayPosition2() return S.play.pos end
  function r.GetOS() return S.os end
  function r.GetAppVersion() return report.reaper or "7.0/fake" end
  function r.time_precise() S.clock = S.clock + 0.001; return S.clock end
  function r.GetProjectPath(_) return S.project_path end
  function r.GetResourcePath() return S.resource_path end
  function r.get_action_context() return false, S.script, 0, 0, 0, 0, 0, "" end
  function r.ShowMessageBox(msg, _, kind)
    S.messages[#S.messages + 1] = msg
    if kind == 4 then return S.message_answer or 7 end
    return 1
  end
  function r.ShowConsoleMsg(msg) S.console[#S.console + 1] = msg end
  function r.GetUserInputs(title, n, captions, defaults)
    assert(n >= 1 and n <= 16, "GetUserInputs takes 1 to 16 fields")
    local labels, separator, extrawidth = {}, ",", nil
    for field in (captions .. ","):gmatch("(.-),") do
      local key, v = field:match("^(%a+)=(.*)$")
      if key == "separator" then separator = v
      elseif key == "extrawidth" then extrawidth = tonumber(v)
      else labels[#labels + 1] = field end
    end
    if #labels ~= n then
      error(string.format("GetUserInputs: %d fields but the captions split (on commas) into %d labels: %s",
        n, #labels, captions), 2)
    end
    local given = 1
    for _ in defaults:gmatch(separator:gsub("%p", "%%%0")) do given = given + 1 end
    assert(defaults == "" or given <= n, "GetUserInputs: more default values than fields")
    local dialog = { title = title, n = n, labels = labels, defaults = defaults, separator = separator,
                     extrawidth = extrawidth }
    S.dialogs[#S.dialogs + 1] = dialog
    S.last_dialog = dialog
    local answer = table.remove(S.inputs, 1)
    if answer == nil or answer == false then return false, "" end
    if type(answer) == "table" then answer = table.concat(answer, separator) end
    return true, answer
  end
  function r.defer(fn) S.deferred = fn end
  function r.atexit(fn) S.at_exit = fn end
  function r.PreventUIRefresh(d)
    S.ui_refresh = S.ui_refresh + d
    assert(S.ui_refresh >= 0, "PreventUIRefresh(-1) without PreventUIRefresh(1)")
  end
  function r.UpdateArrange() S.arranged = true end
  function r.UpdateTimeline() end
  function r.Undo_BeginBlock2(_) S.open_blocks = S.open_blocks + 1 end
  function r.Undo_EndBlock2(_, name, _)
    assert(S.open_blocks > 0, "Undo_EndBlock2 without Undo_BeginBlock2")
    S.open_blocks = S.open_blocks - 1
    S.undo[#S.undo + 1] = name
  end
  function r.GetSet_LoopTimeRange2(_, isSet, isLoop, _, _, _)
    assert(isSet == false and isLoop == false, "the fake only reads the time selection")
    return S.time_sel[1], S.time_sel[2]
  end

  ------------------------------------------------------------------ gfx (the status window)
  local g = { w = 620, h = 240, x = 0, y = 0, mouse_x = 0, mouse_y = 0, mouse_cap = 0 }
  S.drawn = {}
  function g.init(name, w, h, dock) S.window = { name = name, dock = dock }; g.w, g.h = w, h; return 1 end
  function g.quit() S.window = nil end
  function g.dock(v) if v == -1 then return S.window and S.window.dock or 0 end; S.window.dock = v end
  function g.getchar()
    assert(S.window, "gfx.getchar without a window")
    local c = table.remove(S.gfx_chars, 1)
    return c or 0
  end
  function g.setfont() end
  function g.set() end
  function g.rect() end
  function g.measurestr(s) return #s * 7, 14 end
  function g.drawstr(s) S.drawn[#S.drawn + 1] = s end
  function g.update() S.frames = (S.frames or 0) + 1 end
  S.gfx = setmetatable(g, getmetatable(loud("gfx.")))

  setmetatable(r, getmetatable(loud("reaper.")))
  return r, S
end

--- Write a silent 16-bit mono WAV of ``seconds`` (a take file for the fake to read).
function F.write_wav(path, seconds, sr)
  sr = sr or 48000
  local bytes = math.floor(seconds * sr + 0.5) * 2
  local f = assert(io.open(path, "wb"))
  f:write("RIFF", string.pack("<I4", 36 + bytes), "WAVE", "fmt ",
    string.pack("<I4I2I2I4I4I2I2", 16, 1, 1, sr, sr * 2, 2, 16), "data", string.pack("<I4", bytes), string.rep("\0", bytes))
  f:close()
  return path
end

-- assertion helpers shared by the Lua tests
function F.check(cond, msg, ...)
  if not cond then
    local extra = {}
    for _, v in ipairs({ ... }) do extra[#extra + 1] = tostring(v) end
    error((msg or "check failed") .. " " .. table.concat(extra, " "), 2)
  end
end

function F.near(a, b, msg, tol)
  if type(a) ~= "number" or math.abs(a - b) > (tol or 1e-9) then
    error(string.format("%s: %s ~= %.12f", msg or "near", tostring(a), b), 2)
  end
end

return F
