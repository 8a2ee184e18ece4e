-- A stateful fake of the ReaScript API calls the Inpaint Bridge scripts make: tracks,
-- items, takes, sources (sections, reverse), selection, razor edits, ExtState, undo
-- blocks, actions and dialogs. Semantics follow the ReaScript documentation.

local F = {}

function F.new(opts)
  opts = opts or {}
  local S = {
    items = {}, tracks = {}, ext = {}, projext = {}, commands = {}, messages = {}, undo = {},
    inputs = opts.inputs or {}, time_sel = { 0, 0 }, project_path = opts.project_path or "",
    os = opts.os or "Linux", clock = 0, ui_refresh = 0, open_blocks = 0, script = opts.script or "",
    guid_counter = 0, render_count = 0,
  }
  local r = {}

  local function guid()
    S.guid_counter = S.guid_counter + 1
    return string.format("{00000000-0000-0000-0000-%012d}", S.guid_counter)
  end

  -- builders for tests
  function S.add_track() local t = { razor = "" }; S.tracks[#S.tracks + 1] = t; return t end
  function S.source(file, len, section)
    local plain = { file = file, len = len }
    if not section then return plain end
    return { parent = plain, len = section.len, section = { offs = section.offs, len = section.len, rev = section.rev } }
  end
  function S.add_item(track, pos, len, take_opts)
    local item = { track = track, pos = pos, len = len, loop = 0, selected = true, takes = {}, guid = guid() }
    local take = { item = item, source = take_opts.source, offs = take_opts.offs or 0, playrate = take_opts.playrate or 1,
                   name = take_opts.name or "take", midi = take_opts.midi or false, stretch = take_opts.stretch or 0,
                   fx = take_opts.fx or 0 }
    item.takes[1] = take
    item.active = take
    S.items[#S.items + 1] = item
    return item, take
  end

  -- ExtState
  function r.GetExtState(section, key) return S.ext[section .. "/" .. key] or "" end
  function r.SetExtState(section, key, value, persist) S.ext[section .. "/" .. key] = tostring(value) end
  function r.GetProjExtState(proj, section, key)
    local v = S.projext[section .. "/" .. key] or ""
    return #v > 0 and 1 or 0, v
  end
  function r.SetProjExtState(proj, section, key, value) S.projext[section .. "/" .. key] = value; return 1 end

  -- misc
  function r.GetOS() return S.os end
  function r.time_precise() S.clock = S.clock + 0.001; return S.clock end
  function r.GetProjectPath() return S.project_path end
  function r.get_action_context() return false, S.script, 0, 0, 0, 0, 0, "" end
  function r.ShowMessageBox(msg, title, kind)
    S.messages[#S.messages + 1] = msg
    return S.message_answer or 1
  end
  function r.ShowConsoleMsg(msg) S.messages[#S.messages + 1] = msg end
  function r.GetUserInputs(title, n, captions, defaults)
    local answer = table.remove(S.inputs, 1)
    S.last_dialog = { title = title, n = n, captions = captions, defaults = defaults }
    if answer == nil then return false, "" end
    return true, answer
  end
  function r.defer(fn) S.deferred = fn end
  function r.PreventUIRefresh(d) S.ui_refresh = S.ui_refresh + d end
  function r.UpdateArrange() S.arranged = true end
  function r.Undo_BeginBlock2(proj) S.open_blocks = S.open_blocks + 1 end
  function r.Undo_EndBlock2(proj, name, flags)
    assert(S.open_blocks > 0, "Undo_EndBlock2 without Undo_BeginBlock2")
    S.open_blocks = S.open_blocks - 1
    S.undo[#S.undo + 1] = name
  end

  -- selection
  function r.GetSet_LoopTimeRange2(proj, isSet, isLoop, s, e, seek)
    assert(isSet == false and isLoop == false, "only reading the time selection is faked")
    return S.time_sel[1], S.time_sel[2]
  end
  function r.CountSelectedMediaItems()
    local n = 0
    for _, it in ipairs(S.items) do if it.selected then n = n + 1 end end
    return n
  end
  function r.GetSelectedMediaItem(proj, idx)
    local n = -1
    for _, it in ipairs(S.items) do
      if it.selected then n = n + 1; if n == idx then return it end end
    end
  end
  function r.SetMediaItemSelected(item, sel) item.selected = sel end
  function r.CountMediaItems() return #S.items end
  function r.GetMediaItem(proj, idx) return S.items[idx + 1] end
  function r.GetMediaItem_Track(item) return item.track end
  function r.GetSetMediaTrackInfo_String(track, key, value, set)
    assert(key == "P_RAZOREDITS")
    return true, track.razor
  end

  -- items and takes
  local item_keys = { D_POSITION = "pos", D_LENGTH = "len", B_LOOPSRC = "loop" }
  function r.GetMediaItemInfo_Value(item, key) return item[assert(item_keys[key], key)] end
  function r.GetSetMediaItemInfo_String(item, key, value, set)
    assert(key == "GUID")
    return true, item.guid
  end
  function r.GetActiveTake(item) return item.active end
  function r.SetActiveTake(take) take.item.active = take end
  function r.TakeIsMIDI(take) return take.midi end
  function r.GetTakeNumStretchMarkers(take) return take.stretch end
  function r.TakeFX_GetCount(take) return take.fx end
  local take_keys = { D_STARTOFFS = "offs", D_PLAYRATE = "playrate" }
  function r.GetMediaItemTakeInfo_Value(take, key) return take[assert(take_keys[key], key)] end
  function r.SetMediaItemTakeInfo_Value(take, key, value) take[assert(take_keys[key], key)] = value; return true end
  function r.GetSetMediaItemTakeInfo_String(take, key, value, set)
    assert(key == "P_NAME")
    if set then take.name = value end
    return true, take.name
  end
  function r.GetMediaItemTake_Source(take) return take.source end
  function r.AddTakeToMediaItem(item)
    local take = { item = item, source = nil, offs = 0, playrate = 1, name = "", midi = false, stretch = 0, fx = 0 }
    item.takes[#item.takes + 1] = take
    return take
  end
  function r.SetMediaItemTake_Source(take, src) take.source = src; return true end

  function r.SplitMediaItem(item, pos)
    if pos <= item.pos or pos >= item.pos + item.len then return nil end
    local right = { track = item.track, pos = pos, len = item.pos + item.len - pos, loop = item.loop,
                    selected = item.selected, takes = {}, guid = guid() }
    for i, t in ipairs(item.takes) do
      local copy = {}
      for k, v in pairs(t) do copy[k] = v end
      copy.item = right
      copy.offs = t.offs + (pos - item.pos) * t.playrate
      right.takes[i] = copy
      if item.active == t then right.active = copy end
    end
    item.len = pos - item.pos
    for i, it in ipairs(S.items) do
      if it == item then table.insert(S.items, i + 1, right); break end
    end
    return right
  end

  -- sources
  function r.PCM_Source_CreateFromFile(file) return { file = file, len = S.file_length and S.file_length(file) or 0 } end
  function r.GetMediaSourceParent(src) return src.section and src.parent or nil end
  function r.PCM_Source_GetSectionInfo(src)
    if not src.section then return false, 0, 0, false end
    return true, src.section.offs, src.section.len, src.section.rev
  end
  function r.GetMediaSourceFileName(src, buf) return src.file or "" end
  function r.GetMediaSourceLength(src) return src.len, false end

  -- actions
  function r.Main_OnCommand(cmd, flag)
    S.commands[#S.commands + 1] = cmd
    if cmd == 41999 then -- Item: Render items to new take: a plain take of a rendered file, at playrate 1
      for _, item in ipairs(S.items) do
        if item.selected then
          S.render_count = S.render_count + 1
          local file = (S.project_path ~= "" and S.project_path or "/tmp") .. "/rendered-" .. S.render_count .. ".wav"
          local take = { item = item, source = { file = file, len = item.len }, offs = 0, playrate = 1,
                         name = "rendered", midi = false, stretch = 0, fx = 0 }
          item.takes[#item.takes + 1] = take
          item.active = take
        end
      end
    elseif cmd == 41051 then -- Item properties: Toggle take reverse
      for _, item in ipairs(S.items) do
        if item.selected and item.active then item.active.reversed = not item.active.reversed end
      end
    end
  end

  return r, S
end

-- a tiny assertion helper shared by the Lua tests
function F.check(cond, msg, ...)
  if not cond then error((msg or "check failed") .. " " .. table.concat({ ... }, " "), 2) end
end

function F.near(a, b, msg)
  if math.abs(a - b) > 1e-9 then error(string.format("%s: %.12f ~= %.12f", msg or "near", a, b), 2) end
end

return F
