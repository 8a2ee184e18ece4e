-- @description Inpaint Bridge: Probe REAPER (writes a report for the developers)
-- @about
--   Run once in a new, empty project. It adds a track of its own, checks how this REAPER
--   splits items, reverses takes, reports section sources, names the render action and
--   sets up new takes, removes the track again, and writes inpaint-bridge-probe.json into
--   REAPER's resource folder. Attach that file to an issue so the scripts' tests replay it.
-- @noindex
local dir = ({ reaper.get_action_context() })[2]:match("^(.*[/\\])") or ""
local json = dofile(dir .. "../inpaint_bridge/json.lua")
local SEP = package.config:sub(1, 1)
local TITLE = "Inpaint Bridge: probe"

local function round(v) return math.floor(v * 1e6 + 0.5) / 1e6 end

--- A 2 s mono 16-bit sine at 48 kHz: a real file for REAPER to read.
local function write_wav(path)
  local sr, frames = 48000, 96000
  local samples = {}
  for i = 0, frames - 1 do
    samples[#samples + 1] = string.pack("<i2", math.floor(8000 * math.sin(2 * math.pi * 440 * i / sr)))
  end
  local data = table.concat(samples)
  local f = assert(io.open(path, "wb"))
  f:write("RIFF", string.pack("<I4", 36 + #data), "WAVE", "fmt ",
    string.pack("<I4I2I2I4I4I2I2", 16, 1, 1, sr, sr * 2, 2, 16), "data", string.pack("<I4", #data), data)
  f:close()
end

local function guid_of(get, obj)
  local _, g = get(obj, "GUID", "", false)
  return g
end

local function probe(report, wav)
  reaper.InsertTrackAtIndex(reaper.CountTracks(0), true)
  local track = reaper.GetTrack(0, reaper.CountTracks(0) - 1)
  local function new_item(pos, len, offs, rate)
    local item = reaper.AddMediaItemToTrack(track)
    reaper.SetMediaItemInfo_Value(item, "D_POSITION", pos)
    reaper.SetMediaItemInfo_Value(item, "D_LENGTH", len)
    local take = reaper.AddTakeToMediaItem(item)
    reaper.SetMediaItemTake_Source(take, reaper.PCM_Source_CreateFromFile(wav))
    reaper.SetMediaItemTakeInfo_Value(take, "D_STARTOFFS", offs)
    reaper.SetMediaItemTakeInfo_Value(take, "D_PLAYRATE", rate)
    reaper.SetActiveTake(take)
    return item, take
  end
  local function select_only(item)
    for i = 0, reaper.CountMediaItems(0) - 1 do
      local it = reaper.GetMediaItem(0, i)
      reaper.SetMediaItemSelected(it, it == item)
    end
  end

  -- a new take before anything is set on it
  local blank = reaper.AddTakeToMediaItem(reaper.AddMediaItemToTrack(track))
  report.new_take = {}
  for _, key in ipairs({ "D_STARTOFFS", "D_PLAYRATE", "D_PITCH", "I_CHANMODE", "D_VOL", "D_PAN" }) do
    report.new_take[key] = round(reaper.GetMediaItemTakeInfo_Value(blank, key))
  end

  -- the file's length as REAPER reads it, and P_EXT on a take
  local item, take = new_item(1, 1, 0.25, 1.5)
  report.file_length = round(reaper.GetMediaSourceLength(reaper.GetMediaItemTake_Source(take)))
  reaper.GetSetMediaItemTakeInfo_String(take, "P_EXT:inpaint_bridge_probe", "take", true)
  reaper.GetSetMediaItemInfo_String(item, "P_EXT:inpaint_bridge_probe", "item", true)
  local _, back = reaper.GetSetMediaItemTakeInfo_String(take, "P_EXT:inpaint_bridge_probe", "", false)
  report.take_ext_round_trip = back == "take"

  -- split in the middle
  select_only(item)
  local item_guid, take_guid = guid_of(reaper.GetSetMediaItemInfo_String, item),
    guid_of(reaper.GetSetMediaItemTakeInfo_String, take)
  local right = reaper.SplitMediaItem(item, 1.5)
  report.split = { returns_right = right ~= nil }
  if right then
    local rtake = reaper.GetActiveTake(right)
    local _, text = reaper.GetSetMediaItemTakeInfo_String(rtake, "P_EXT:inpaint_bridge_probe", "", false)
    local _, itext = reaper.GetSetMediaItemInfo_String(right, "P_EXT:inpaint_bridge_probe", "", false)
    report.split = {
      returns_right = true,
      left_keeps_guid = guid_of(reaper.GetSetMediaItemInfo_String, item) == item_guid,
      left_length = round(reaper.GetMediaItemInfo_Value(item, "D_LENGTH")),
      right_position = round(reaper.GetMediaItemInfo_Value(right, "D_POSITION")),
      right_length = round(reaper.GetMediaItemInfo_Value(right, "D_LENGTH")),
      right_take_offset = round(reaper.GetMediaItemTakeInfo_Value(rtake, "D_STARTOFFS")),
      right_take_guid_new = guid_of(reaper.GetSetMediaItemTakeInfo_String, rtake) ~= take_guid,
      take_ext_copied = text == "take",
      item_ext_copied = itext == "item",
      selection_copied = reaper.IsMediaItemSelected(right),
    }
  end

  -- take reverse on one selected item, with another item beside it
  local rev_item, rev_take = new_item(4, 1, 0.25, 1)
  local _, other_take = new_item(6, 1, 0.25, 1)
  select_only(rev_item)
  reaper.Main_OnCommand(41051, 0) -- Item properties: Toggle take reverse
  local src = reaper.GetMediaItemTake_Source(rev_take)
  local ok, offs, len, rev = reaper.PCM_Source_GetSectionInfo(src)
  report.reverse = {
    wraps_in_section = reaper.GetMediaSourceParent(src) ~= nil,
    section_info = { ok = ok, offs = round(offs), len = round(len), rev = rev },
    source_length = round(reaper.GetMediaSourceLength(src)),
    start_offset = round(reaper.GetMediaItemTakeInfo_Value(rev_take, "D_STARTOFFS")),
    other_items_untouched = reaper.GetMediaSourceParent(reaper.GetMediaItemTake_Source(other_take)) == nil,
  }

  -- which command ids carry the render action's name here
  report.render_commands = {}
  for _, id in ipairs({ 41999, 40601 }) do report.render_commands[tostring(id)] = reaper.kbd_getTextFromCmd(id, 0) end

  reaper.DeleteTrack(track)
end

if reaper.CountMediaItems(0) > 0 then
  reaper.ShowMessageBox("Run the probe in a new, empty project (File > New project): it adds and removes a track "
    .. "of its own and must not touch your work.", TITLE, 0)
  return
end
local folder = reaper.GetResourcePath()
local wav = folder .. SEP .. "inpaint-bridge-probe.wav"
local out = folder .. SEP .. "inpaint-bridge-probe.json"
write_wav(wav)
local report = { probe = 1, reaper = reaper.GetAppVersion(), os = reaper.GetOS() }
reaper.Undo_BeginBlock2(0)
reaper.PreventUIRefresh(1)
local ok, err = pcall(probe, report, wav)
reaper.PreventUIRefresh(-1)
reaper.Undo_EndBlock2(0, TITLE, -1)
os.remove(wav)
if not ok then report.error = tostring(err) end
local f = io.open(out, "wb")
if not f then
  reaper.ShowMessageBox("Cannot write " .. out, TITLE, 0)
  return
end
f:write(json.encode(report))
f:close()
reaper.ShowMessageBox("The report is in\n" .. out .. "\n\nPlease attach it to an issue at "
  .. "https://github.com/inpaint-bridge/inpaint-bridge/issues (title: REAPER probe report).", TITLE, 0)
