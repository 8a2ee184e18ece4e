-- @noindex
-- Inpaint Bridge for REAPER: the host layer, the only part that calls reaper.*.
--
-- REAPER's Lua has no sockets, so the actions talk to the inpaint-bridge daemon through its
-- spool folder: a request is written atomically into <spool>/requests/<id>.json and the
-- daemon keeps <spool>/results/<id>.json up to date. The background action imports each
-- finished job as a new take (one undo block each) and draws the status window.
--
-- What a later step needs is stored on the object it belongs to: a request remembers the
-- item's GUID and the range in the take's source time; an imported take carries, in its
-- P_EXT:inpaint_bridge value, the original file and how its own time maps onto it.

local here = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or "./"
local json = dofile(here .. "json.lua")
local model = dofile(here .. "model.lua")

local M = { json = json, model = model, null = json.null }
M.VERSION = "0.2.0"
M.SECTION = "InpaintBridge"
M.EXT = "P_EXT:inpaint_bridge"
M.SCRIPTS = here:match("^(.*[/\\])[^/\\]+[/\\]$") or here
M.IMPORTER = "Inpaint Bridge - Import results (background).lua"
M.RENDER_ACTION = "Item: Render items to new take"
M.RENDER_CANDIDATES = { 41999, 40601 }

--- Whether this REAPER has an API function (extensions and newer versions add some).
function M.has(name)
  local ok, fn = pcall(function() return reaper[name] end)
  return ok and fn ~= nil
end

-------------------------------------------------------------------------------- settings

local DEFAULTS = { last_prompt = "", last_seed = "0", separator = "|" }
for _, s in ipairs(model.SETTINGS) do DEFAULTS[s.key] = s.default end

function M.get(key)
  local v = reaper.GetExtState(M.SECTION, key)
  if v == nil or v == "" then return DEFAULTS[key] or "" end
  return v
end

function M.set(key, value)
  reaper.SetExtState(M.SECTION, key, tostring(value), true)
end

local function sep() return package.config:sub(1, 1) end

function M.join(...) return table.concat({ ... }, sep()) end

function M.spool_folder()
  local custom = M.get("spool")
  if custom ~= "" then return custom end
  local os_name = reaper.GetOS()
  if os_name:match("^Win") then
    return M.join(os.getenv("LOCALAPPDATA") or "", "inpaint-bridge", "spool")
  elseif os_name:match("^OSX") or os_name:match("^macOS") then
    return M.join(os.getenv("HOME") or "", "Library", "Application Support", "inpaint-bridge", "spool")
  end
  local data = os.getenv("XDG_DATA_HOME")
  if not data or data == "" then data = M.join(os.getenv("HOME") or "", ".local", "share") end
  return M.join(data, "inpaint-bridge", "spool")
end

-------------------------------------------------------------------------------- files

local function write_atomic(path, text)
  local tmp = path .. ".part"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  f:write(text)
  f:close()
  os.remove(path)
  local ok, rerr = os.rename(tmp, path)
  if not ok then return nil, rerr end
  return true
end

function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-------------------------------------------------------------------------------- reading takes

local function take_string(take, key)
  local _, v = reaper.GetSetMediaItemTakeInfo_String(take, key, "", false)
  return v or ""
end

local function item_guid(item)
  local _, g = reaper.GetSetMediaItemInfo_String(item, "GUID", "", false)
  return g
end

--- A take as the model sees it: {origin, start, rate}, or nil and why it cannot be mapped.
-- An imported take answers for the original it stands for (its P_EXT value).
function M.read_take(take)
  if not take then return nil, "the item has no active take" end
  local rate = reaper.GetMediaItemTakeInfo_Value(take, "D_PLAYRATE")
  local offs = reaper.GetMediaItemTakeInfo_Value(take, "D_STARTOFFS")
  local stored = take_string(take, M.EXT)
  if stored ~= "" then
    local ext = json.decode(stored)
    if type(ext) == "table" and type(ext.origin) == "table" and tonumber(ext.delta) then
      return { origin = ext.origin, start = offs + ext.delta, rate = rate, imported = ext }
    end
  end
  if reaper.TakeIsMIDI(take) then return nil, "it is a MIDI take; only audio can be regenerated" end
  local src = reaper.GetMediaItemTake_Source(take)
  local chain = {}
  local parent = src and reaper.GetMediaSourceParent(src)
  while parent do
    local ok, offs_s, len_s, rev = reaper.PCM_Source_GetSectionInfo(src)
    if ok then chain[#chain + 1] = { offs = offs_s, len = len_s, rev = rev } end
    src = parent
    parent = reaper.GetMediaSourceParent(src)
  end
  local file = src and reaper.GetMediaSourceFileName(src, "") or ""
  if file == "" then return nil, "the take has no source file (in-project MIDI, or an empty take)" end
  local len = reaper.GetMediaSourceLength(src)
  return { origin = model.origin(chain, { file = file, len = len }), start = offs, rate = rate }
end

local function needs_render(take)
  if reaper.GetTakeNumStretchMarkers(take) > 0 then return "the take has stretch markers, which move audio in time" end
  if reaper.TakeFX_GetCount(take) > 0 then return "the take has FX, so what you hear is not the file" end
end

local function read_place(item)
  return { pos = reaper.GetMediaItemInfo_Value(item, "D_POSITION"), len = reaper.GetMediaItemInfo_Value(item, "D_LENGTH"),
           loop = reaper.GetMediaItemInfo_Value(item, "B_LOOPSRC") ~= 0 }
end

--- Map project time [t0, t1) on an item's active take; nil, why, and "render" when rendering would help.
function M.map_item(item, t0, t1)
  local take = reaper.GetActiveTake(item)
  if take and take_string(take, M.EXT) == "" and not reaper.TakeIsMIDI(take) then
    local why = needs_render(take)
    if why then return nil, why, "render" end
  end
  local t, why = M.read_take(take)
  if not t then return nil, why end
  local range, rwhy = model.map_range(read_place(item), t, t0, t1)
  if not range then return nil, rwhy end
  range.origin = t.origin
  return range
end

-------------------------------------------------------------------------------- what to work on

--- Razor areas over media items on every track, honouring fixed lanes: {item, t0, t1, how} each.
function M.razor_targets()
  local out = {}
  for ti = 0, reaper.CountTracks(0) - 1 do
    local track = reaper.GetTrack(0, ti)
    local _, areas = reaper.GetSetMediaTrackInfo_String(track, "P_RAZOREDITS_EXT", "", false)
    for area in (areas or ""):gmatch("[^,]+") do
      local a, b, guid, rest = area:match('^%s*(%S+)%s+(%S+)%s+"([^"]*)"%s*(.*)$')
      if not a then a, b = area:match("^%s*(%S+)%s+(%S+)%s*$"); guid, rest = "", "" end
      local top, bottom = (rest or ""):match("^(%S+)%s+(%S+)")
      a, b, top, bottom = tonumber(a), tonumber(b), tonumber(top), tonumber(bottom)
      if a and b and b > a and guid == "" then -- an empty GUID: media items, not an envelope
        for ii = 0, reaper.CountTrackMediaItems(track) - 1 do
          local item = reaper.GetTrackMediaItem(track, ii)
          local p = read_place(item)
          local in_time = p.pos < b and a < p.pos + p.len
          local in_lane = true
          if top and bottom then
            local y = reaper.GetMediaItemInfo_Value(item, "F_FREEMODE_Y")
            local h = reaper.GetMediaItemInfo_Value(item, "F_FREEMODE_H")
            in_lane = y < bottom - 1e-9 and top < y + h - 1e-9
          end
          if in_time and in_lane then out[#out + 1] = { item = item, t0 = a, t1 = b, how = "razor edit" } end
        end
      end
    end
  end
  return out
end

--- The ranges to regenerate: razor edits first (no item selection needed), else the time
-- selection over the selected items. Returns a list, or nil and what to do.
function M.targets()
  local razor = M.razor_targets()
  if #razor > 0 then return razor end
  local s, e = reaper.GetSet_LoopTimeRange2(0, false, false, 0, 0, false)
  if e <= s then return nil, "Make a time selection (or a razor edit) over an audio item first." end
  local out = {}
  for i = 0, reaper.CountSelectedMediaItems(0) - 1 do
    local item = reaper.GetSelectedMediaItem(0, i)
    local p = read_place(item)
    if p.pos < e and s < p.pos + p.len then out[#out + 1] = { item = item, t0 = s, t1 = e, how = "time selection" } end
  end
  if #out == 0 then return nil, "Select the audio item under the time selection (or use a razor edit)." end
  return out
end

-------------------------------------------------------------------------------- selection

local function save_selection()
  local saved = {}
  for i = 0, reaper.CountMediaItems(0) - 1 do
    local item = reaper.GetMediaItem(0, i)
    saved[#saved + 1] = { item = item, selected = reaper.IsMediaItemSelected(item) }
  end
  return saved
end

local function restore_selection(saved)
  for _, s in ipairs(saved) do
    if reaper.ValidatePtr2(0, s.item, "MediaItem*") then reaper.SetMediaItemSelected(s.item, s.selected) end
  end
end

-------------------------------------------------------------------------------- render first

--- The command id of "Item: Render items to new take", checked by name (ids differ between sources).
function M.render_command()
  local seen = {}
  for _, id in ipairs(M.RENDER_CANDIDATES) do
    local name = reaper.kbd_getTextFromCmd(id, 0) or ""
    if name == M.RENDER_ACTION then return id end
    seen[#seen + 1] = string.format("%d is %q", id, name)
  end
  return nil, "this REAPER has no action named \"" .. M.RENDER_ACTION .. "\" (" .. table.concat(seen, ", ") ..
    "); render the item yourself and run the action again"
end

--- Render only ``item`` to a new take (the others are deselected and restored).
local function render_item(item)
  local cmd, why = M.render_command()
  if not cmd then return nil, why end
  local saved = save_selection()
  for _, s in ipairs(saved) do reaper.SetMediaItemSelected(s.item, s.item == item) end
  reaper.Main_OnCommand(cmd, 0)
  restore_selection(saved)
  return true
end

-------------------------------------------------------------------------------- requests

local function load_list(key)
  local _, raw = reaper.GetProjExtState(0, M.SECTION, key)
  local value = raw ~= "" and json.decode(raw)
  return type(value) == "table" and value or {}
end

local function save_list(key, list)
  reaper.SetProjExtState(0, M.SECTION, key, json.encode(list))
end

function M.pending() return load_list("pending") end

local function new_id()
  return string.format("reaper-%d-%06d", math.floor(reaper.time_precise() * 1000), math.random(0, 999999))
end

--- Something for the user to read: the status window lists it, and a message box shows it.
function M.notice(text, quiet)
  local list = load_list("notices")
  list[#list + 1] = { at = os.time(), text = text }
  while #list > 8 do table.remove(list, 1) end
  save_list("notices", list)
  if not quiet then reaper.ShowMessageBox(text, "Inpaint Bridge", 0) end
end

--- Write one spool request; remember it (``meta``) until its result has been dealt with.
function M.send(address, args, meta)
  local folder = M.spool_folder()
  local id = new_id()
  local ok, err = write_atomic(M.join(folder, "requests", id .. ".json"),
    json.encode({ id = id, address = address, args = args or {} }))
  if not ok then
    return nil, "cannot write to the spool folder " .. folder .. " (" .. tostring(err) ..
      "): is `inpaint-bridge serve` running, and is the folder set in Settings?"
  end
  local list = M.pending()
  meta = meta or { kind = "control" }
  meta.id, meta.sent_at = id, os.time()
  list[#list + 1] = meta
  save_list("pending", list)
  return id
end

--- Start the background importer when it is not running (it shows the status window).
function M.ensure_importer()
  local alive = tonumber(reaper.GetExtState(M.SECTION, "importer_alive"))
  if alive and reaper.time_precise() - alive < 2 then return true end
  if not M.has("AddRemoveReaScript") then return false end
  local cmd = reaper.AddRemoveReaScript(true, 0, M.SCRIPTS .. M.IMPORTER, true)
  if cmd and cmd ~= 0 then
    reaper.SetExtState(M.SECTION, "importer_alive", tostring(reaper.time_precise()), false)
    reaper.Main_OnCommand(cmd, 0)
    return true
  end
  return false
end

local function project_folder()
  local path = reaper.GetProjectPath("")
  return path ~= "" and path or nil
end

local function request_one(target, operation, prompt, extra)
  local item = target.item
  local range, reason, fix = M.map_item(item, target.t0, target.t1)
  if not range and fix == "render" then
    local choice = M.get("render_first")
    if choice == "ask" then
      choice = reaper.ShowMessageBox("This take cannot be mapped to its file: " .. reason ..
        ".\n\nRender the item to a new take first and use that?", "Inpaint Bridge", 4) == 6 and "yes" or "no"
    end
    if choice == "yes" then
      local ok, why = render_item(item)
      if not ok then return nil, "Cannot render first: " .. why .. "." end
      range, reason = M.map_item(item, target.t0, target.t1)
    end
  end
  if not range then return nil, "Cannot regenerate this " .. target.how .. ": " .. reason .. "." end
  local args = { range.origin.file, range.file_start, range.file_end, prompt or "" }
  local options = { engine = M.get("engine"), preset = M.get("preset"), fade_ms = tonumber(M.get("fade_ms")),
                    context = tonumber(M.get("context")), project = project_folder(),
                    variations = tonumber(M.get("variations")) ~= 1 and tonumber(M.get("variations")) or nil,
                    reverse = range.reversed and 1 or nil, keep = 1 }
  for k, v in pairs(extra or {}) do options[k] = v end
  local keys = {}
  for k in pairs(options) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = options[k]
    if v ~= nil and v ~= "" then args[#args + 1] = k; args[#args + 1] = v end
  end
  return M.send("/bridge/" .. operation, args, {
    kind = "edit", operation = operation, prompt = prompt or "", engine = M.get("engine"),
    item = item_guid(item), item_pos = reaper.GetMediaItemInfo_Value(item, "D_POSITION"),
    project_start = range.project_start, origin = range.origin, s0 = range.s0, s1 = range.s1, imported = {},
  })
end

--- Build and send an edit request for every target (razor areas, or the time selection on the
-- selected items). Returns the request ids, or nil and what went wrong.
function M.request_edit(operation, prompt, extra)
  local targets, why = M.targets()
  if not targets then return nil, why end
  local ids, errors = {}, {}
  for _, target in ipairs(targets) do
    local id, err = request_one(target, operation, prompt, extra)
    if id then ids[#ids + 1] = id else errors[#errors + 1] = err end
  end
  if #ids > 0 then
    if M.get("status_window") ~= "off" then reaper.SetExtState(M.SECTION, "show_window", "1", false) end
    M.ensure_importer()
  end
  if #errors > 0 then return (#ids > 0 and ids or nil), table.concat(errors, "\n") end
  return ids
end

-------------------------------------------------------------------------------- importing results

local function find_item_by_guid(guid)
  for i = 0, reaper.CountMediaItems(0) - 1 do
    local item = reaper.GetMediaItem(0, i)
    if item_guid(item) == guid then return item end
  end
end

--- The items of a track as the model's plain tables (with the item pointers beside them).
local function read_items(track)
  local items, pointers = {}, {}
  for i = 0, reaper.CountTrackMediaItems(track) - 1 do
    local item = reaper.GetTrackMediaItem(track, i)
    local p = read_place(item)
    p.guid, p.takes, p.active = item_guid(item), {}, 1
    local active = reaper.GetActiveTake(item)
    for k = 0, reaper.CountTakes(item) - 1 do
      local take = reaper.GetTake(item, k)
      p.takes[k + 1] = M.read_take(take) or {}
      p.takes[k + 1].pointer = take
      if take == active then p.active = k + 1 end
    end
    items[#items + 1], pointers[#items + 1] = p, item
  end
  return items, pointers
end

--- Split ``item`` so that one piece covers exactly [t0, t1); the original stays the left piece.
local function region_item(item, t0, t1)
  local p = read_place(item)
  if t1 < p.pos + p.len - model.EPS then reaper.SplitMediaItem(item, t1) end
  if t0 > p.pos + model.EPS then
    local right = reaper.SplitMediaItem(item, t0)
    if right then return right end
  end
  return item
end

local COPIED = { "D_PLAYRATE", "B_PPITCH", "D_PITCH", "I_PITCHMODE", "I_CHANMODE", "D_VOL", "D_PAN" }

local function build_peaks(src)
  if reaper.PCM_Source_BuildPeaks(src, 0) ~= 0 then
    for _ = 1, 100000 do
      if reaper.PCM_Source_BuildPeaks(src, 1) == 0 then break end
    end
    reaper.PCM_Source_BuildPeaks(src, 2)
  end
end

--- Where a finished job's take goes: {item, t0, t1, ref, ref_start, delta}, or nil and why.
-- Nothing in the project changes here.
function M.plan_take(entry, job)
  local delta, bad = model.check_patch(entry, job)
  if not delta then return nil, bad end
  local home = find_item_by_guid(entry.item)
  if not home then return nil, "the item it was made on has been deleted" end
  local items, pointers = read_items(reaper.GetMediaItem_Track(home))
  local found, why = model.locate(entry, items)
  if not found then return nil, why end
  local place = items[found.item]
  return { item = pointers[found.item], place = place, ref = place.takes[found.take], t0 = found.t0, t1 = found.t1,
           delta = delta }
end

--- Takes added while the transport played inside their region, waiting to become active at its seam:
-- {item, take, name, last} (``last``: the play position when it was last looked at).
M.waiting = {}

local function play_position()
  return reaper.GetPlayState() & 1 == 1, reaper.GetPlayPosition2()
end

local function region_of(item)
  local t0 = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
  return t0, t0 + reaper.GetMediaItemInfo_Value(item, "D_LENGTH")
end

--- Make each waiting take active once the play position allows it (see model.may_swap); each switch
-- is its own undo point. A take whose item was deleted meanwhile is forgotten. Returns how many switched.
function M.swap_waiting()
  if #M.waiting == 0 then return 0 end
  local playing, pos = play_position()
  local keep, swapped = {}, 0
  for _, w in ipairs(M.waiting) do
    if reaper.ValidatePtr2(0, w.item, "MediaItem*") and reaper.ValidatePtr2(0, w.take, "MediaItem_Take*") then
      local t0, t1 = region_of(w.item)
      if model.may_swap(t0, t1, { playing = playing, pos = pos, last = w.last }) then
        reaper.Undo_BeginBlock2(0)
        reaper.SetActiveTake(w.take)
        reaper.UpdateItemInProject(w.item)
        reaper.Undo_EndBlock2(0, "Inpaint Bridge: switch to " .. w.name, -1)
        swapped = swapped + 1
      else
        w.last = pos
        keep[#keep + 1] = w
      end
    end
  end
  M.waiting = keep
  if swapped > 0 then reaper.UpdateArrange() end
  return swapped
end

--- Add the patch as a new take on the piece of the item that covers the range, and make it the
-- active take: at once, or, while the transport plays inside that piece, at its seam (M.waiting).
function M.place_take(plan, entry, job)
  local item = region_item(plan.item, plan.t0, plan.t1)
  local ref = plan.ref
  -- the reference take's source time at the region's start (a split advances it by the playrate)
  local ref_start = ref.start + (reaper.GetMediaItemInfo_Value(item, "D_POSITION") - plan.place.pos) * ref.rate
  local length = entry.origin.length
  if plan.place.loop and length > 0 then ref_start = ref_start % length end
  local playing_before = reaper.GetActiveTake(item)
  local take = reaper.AddTakeToMediaItem(item)
  local src = reaper.PCM_Source_CreateFromFile(job.take_path)
  reaper.SetMediaItemTake_Source(take, src)
  for _, key in ipairs(COPIED) do
    reaper.SetMediaItemTakeInfo_Value(take, key, reaper.GetMediaItemTakeInfo_Value(ref.pointer, key))
  end
  reaper.SetMediaItemTakeInfo_Value(take, "D_STARTOFFS", ref_start - plan.delta)
  reaper.GetSetMediaItemTakeInfo_String(take, "P_NAME", model.take_name(entry, job), true)
  reaper.GetSetMediaItemTakeInfo_String(take, M.EXT, json.encode({
    origin = entry.origin, delta = plan.delta, job = job.id, seed = job.seed, prompt = entry.prompt,
    manifest = job.manifest_path,
  }), true)
  local playing, pos = play_position()
  local t0, t1 = region_of(item)
  if M.get("swap") ~= "now" and not model.may_swap(t0, t1, { playing = playing, pos = pos }) then
    if playing_before then reaper.SetActiveTake(playing_before) end  -- it sounds as it did until its seam
    M.waiting[#M.waiting + 1] = { item = item, take = take, name = model.take_name(entry, job), last = pos }
  else
    reaper.SetActiveTake(take)
  end
  reaper.UpdateItemInProject(item)
  build_peaks(src)
  return take
end

local function import_job(entry, job)
  local plan, why = M.plan_take(entry, job)
  if not plan then return nil, why .. "; the project was left as it is" end
  local saved = save_selection()
  reaper.Undo_BeginBlock2(0)
  reaper.PreventUIRefresh(1)
  local ok, err = pcall(M.place_take, plan, entry, job)
  restore_selection(saved)
  reaper.PreventUIRefresh(-1)
  reaper.Undo_EndBlock2(0, "Inpaint Bridge: " .. model.take_name(entry, job), -1)
  if not ok then return nil, tostring(err) end
  return true
end

--- Import every finished job of this project's pending requests; each take in its own undo block.
-- Returns how many takes were added.
function M.import_results()
  local list = M.pending()
  if #list == 0 then return 0 end
  local folder = M.join(M.spool_folder(), "results")
  local added, keep, errors, notes = 0, {}, {}, {}
  for _, entry in ipairs(list) do
    local path = M.join(folder, entry.id .. ".json")
    local text = M.read_file(path)
    local doc = text and json.decode(text)
    local finished = false
    if type(doc) == "table" then
      local ids = {}
      for job_id in pairs(type(doc.jobs) == "table" and doc.jobs or {}) do ids[#ids + 1] = job_id end
      table.sort(ids)
      entry.imported = entry.imported or {}
      for _, job_id in ipairs(ids) do
        local job = doc.jobs[job_id]
        job.id = job_id
        if job.state == "done" and not entry.imported[job_id] and entry.kind == "edit" then
          entry.imported[job_id] = true
          local take, err = import_job(entry, job)
          if take then
            added = added + 1
            for _, note in ipairs(type(job.notes) == "table" and job.notes or {}) do  -- what the model really did
              if tostring(note):find("regenerated", 1, true) then notes[#notes + 1] = tostring(note) end
            end
          else
            errors[#errors + 1] = "The take " .. tostring(job.take_path) .. " was not placed: " .. err .. "."
          end
        elseif job.state == "failed" and not entry.imported[job_id] then
          entry.imported[job_id] = true
          errors[#errors + 1] = tostring(job.error)
        end
      end
      finished = doc.finished == true
      if finished and type(doc.error) == "string" and #ids == 0 then errors[#errors + 1] = doc.error end
    end
    if finished then os.remove(path) else keep[#keep + 1] = entry end
  end
  save_list("pending", keep)
  if added > 0 then reaper.UpdateArrange() end
  if #notes > 0 then M.notice(table.concat(notes, "\n"), true) end  -- listed in the status window
  if #errors > 0 then M.notice(table.concat(errors, "\n")) end
  return added
end

--- The status window's rows for this project.
function M.status_rows()
  local list = M.pending()
  local folder = M.join(M.spool_folder(), "results")
  local results = {}
  for _, entry in ipairs(list) do
    local text = M.read_file(M.join(folder, entry.id .. ".json"))
    local doc = text and json.decode(text)
    if type(doc) == "table" then results[entry.id] = doc end
  end
  return model.rows(list, results, os.time()), load_list("notices")
end

--- Act on a click in the status window.
function M.act(action)
  if action.cancel_job then
    local id, err = M.send("/bridge/cancel", { action.cancel_job })
    if not id then M.notice(err) end
  elseif action.drop_request then
    -- not picked up by the daemon yet: take the request back
    os.remove(M.join(M.spool_folder(), "requests", action.drop_request .. ".json"))
    local keep = {}
    for _, entry in ipairs(M.pending()) do if entry.id ~= action.drop_request then keep[#keep + 1] = entry end end
    save_list("pending", keep)
  end
end

-------------------------------------------------------------------------------- the actions

local function ask_prompt(title)
  local separator = M.get("separator")
  local captions = model.captions({ "Prompt", "Preset (optional)" }, separator)
  local defaults = M.get("last_prompt") .. separator .. M.get("preset")
  local ok, values = reaper.GetUserInputs(title, 2, captions, defaults)
  if not ok then return nil end
  local v = model.split_values(values, separator, 2)
  M.set("last_prompt", v[1])
  M.set("preset", v[2])
  return v[1]
end

local function report(ids, err)
  if err then M.notice(err) end
  return ids
end

-- An imported take maps through its stored origin (M.read_take), so Regenerate on it
-- regenerates the original file's range, never the AI take.
M.actions = {}

function M.actions.inpaint()
  local prompt = ask_prompt("Inpaint Bridge: regenerate the selection")
  if prompt == nil then return end
  return report(M.request_edit("inpaint", prompt))
end

function M.actions.regenerate()
  local seed = (tonumber(M.get("last_seed")) or 0) + 1
  M.set("last_seed", seed)
  return report(M.request_edit("inpaint", M.get("last_prompt"), { seed = seed }))
end

function M.actions.transform()
  local prompt = ask_prompt("Inpaint Bridge: transform the selection")
  if prompt == nil then return end
  return report(M.request_edit("transform", prompt))
end

function M.actions.generate()
  local prompt = ask_prompt("Inpaint Bridge: generate into the selection")
  if prompt == nil then return end
  return report(M.request_edit("generate", prompt))
end

function M.actions.cancel()
  return report(M.send("/bridge/cancel", {}))
end

function M.actions.previous_take() reaper.Main_OnCommand(40126, 0) end -- Take: Switch items to previous take
function M.actions.next_take() reaper.Main_OnCommand(40125, 0) end -- Take: Switch items to next take

function M.actions.show_status()
  reaper.SetExtState(M.SECTION, "show_window", "1", false)
  if not M.ensure_importer() then
    M.notice("Run \"Inpaint Bridge - Import results (background)\" to see the status window.")
  end
end

function M.actions.settings()
  local labels, current = {}, {}
  for i, s in ipairs(model.SETTINGS) do labels[i], current[i] = s.label, M.get(s.key) end
  local separator = "|"
  local ok, values = reaper.GetUserInputs("Inpaint Bridge: settings", #labels,
    model.captions(labels, separator, 200), table.concat(current, separator))
  if not ok then return end
  local v = model.split_values(values, separator, #labels)
  local good, why = model.check_settings(v)
  if not good then M.notice("Settings not saved: " .. why .. "."); return end
  for i, s in ipairs(model.SETTINGS) do M.set(s.key, v[i]) end
  return true
end

--- The background action: import finished results about three times a second and keep the
-- status window up to date.
function M.background(window)
  local last = 0
  local function tick()
    local now = reaper.time_precise()
    reaper.SetExtState(M.SECTION, "importer_alive", tostring(now), false)
    local swapped, why = pcall(M.swap_waiting)  -- every tick: the seam passes quickly
    if not swapped then reaper.ShowConsoleMsg("Inpaint Bridge: " .. tostring(why) .. "\n") end
    if now - last > 0.3 then
      last = now
      local ok, err = pcall(M.import_results)
      if not ok then reaper.ShowConsoleMsg("Inpaint Bridge: " .. tostring(err) .. "\n") end
    end
    if window then
      if reaper.GetExtState(M.SECTION, "show_window") == "1" then
        reaper.SetExtState(M.SECTION, "show_window", "", false)
        window.open()
      end
      if window.is_open() then
        local rows, notices = M.status_rows()
        local action = window.frame(rows, notices)
        if action then M.act(action) end
      end
    end
    reaper.defer(tick)
  end
  if M.has("atexit") then
    reaper.atexit(function() reaper.SetExtState(M.SECTION, "importer_alive", "", false) end)
  end
  tick()
end

function M.run(name)
  local action = M.actions[name]
  if not action then error("Inpaint Bridge: no action " .. tostring(name)) end
  return action()
end

return M
