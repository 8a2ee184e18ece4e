-- @noindex
-- Inpaint Bridge for REAPER: the shared part of the actions.
--
-- REAPER's Lua has no sockets, so the actions talk to the inpaint-bridge daemon through
-- its spool folder: a request is written atomically into <spool>/requests/<id>.json and
-- the daemon keeps <spool>/results/<id>.json up to date. The background action imports
-- finished results as new takes, in one undo block each.

local M = {}
M.VERSION = "0.1.0"
M.SECTION = "InpaintBridge"

-------------------------------------------------------------------------------- JSON

local function json_escape(s)
  return (s:gsub('[%c"\\]', function(c)
    local map = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
    return map[c] or string.format("\\u%04x", c:byte())
  end))
end

local function is_array(t)
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" then return false end
    n = n + 1
  end
  for i = 1, n do if t[i] == nil then return false end end
  return true
end

function M.json_encode(v)
  local kind = type(v)
  if v == nil or v == M.null then return "null" end
  if kind == "boolean" then return tostring(v) end
  if kind == "number" then
    if v ~= v or v == math.huge or v == -math.huge then error("json: number out of range") end
    if math.type(v) == "integer" then return tostring(v) end
    return string.format("%.17g", v)
  end
  if kind == "string" then return '"' .. json_escape(v) .. '"' end
  if kind == "table" then
    local out = {}
    if next(v) == nil then return "[]" end
    if is_array(v) then
      for i = 1, #v do out[#out + 1] = M.json_encode(v[i]) end
      return "[" .. table.concat(out, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for _, k in ipairs(keys) do out[#out + 1] = M.json_encode(k) .. ":" .. M.json_encode(v[k]) end
    return "{" .. table.concat(out, ",") .. "}"
  end
  error("json: cannot encode a " .. kind)
end

M.null = setmetatable({}, { __tostring = function() return "null" end })

function M.json_decode(text)
  local pos = 1
  local function fail(what) error(string.format("json: %s at character %d", what, pos)) end
  local function ws() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function str()
    local out, i = {}, pos + 1
    while true do
      local c = text:sub(i, i)
      if c == "" then fail("unterminated string") end
      if c == '"' then pos = i + 1; return table.concat(out) end
      if c == "\\" then
        local e = text:sub(i + 1, i + 1)
        local map = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
        if e == "u" then
          local code = tonumber(text:sub(i + 2, i + 5), 16) or fail("bad \\u escape")
          if code >= 0xD800 and code <= 0xDBFF and text:sub(i + 6, i + 7) == "\\u" then
            local low = tonumber(text:sub(i + 8, i + 11), 16)
            code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
            i = i + 6
          end
          out[#out + 1] = utf8.char(code)
          i = i + 6
        else
          out[#out + 1] = map[e] or fail("bad escape")
          i = i + 2
        end
      else
        out[#out + 1] = c
        i = i + 1
      end
    end
  end
  function value()
    ws()
    local c = text:sub(pos, pos)
    if c == "{" then
      local obj = {}
      pos = pos + 1; ws()
      if text:sub(pos, pos) == "}" then pos = pos + 1; return obj end
      while true do
        ws()
        if text:sub(pos, pos) ~= '"' then fail("expected a key") end
        local k = str(); ws()
        if text:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        obj[k] = value(); ws()
        local d = text:sub(pos, pos); pos = pos + 1
        if d == "}" then return obj end
        if d ~= "," then fail("expected ',' or '}'") end
      end
    elseif c == "[" then
      local arr = {}
      pos = pos + 1; ws()
      if text:sub(pos, pos) == "]" then pos = pos + 1; return arr end
      while true do
        arr[#arr + 1] = value(); ws()
        local d = text:sub(pos, pos); pos = pos + 1
        if d == "]" then return arr end
        if d ~= "," then fail("expected ',' or ']'") end
      end
    elseif c == '"' then return str()
    elseif text:sub(pos, pos + 3) == "true" then pos = pos + 4; return true
    elseif text:sub(pos, pos + 4) == "false" then pos = pos + 5; return false
    elseif text:sub(pos, pos + 3) == "null" then pos = pos + 4; return M.null
    else
      local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not num or num == "" then fail("unexpected character") end
      pos = pos + #num
      return tonumber(num)
    end
  end
  local ok, result = pcall(value)
  if not ok then return nil, result end
  return result
end

-------------------------------------------------------------------------------- settings

local DEFAULTS = {
  engine = "", preset = "", fade_ms = "20", context = "", spool = "", render_first = "ask",
  last_prompt = "", last_seed = "0", separator = "|",
}

function M.get(key)
  local v = reaper.GetExtState(M.SECTION, key)
  if v == nil or v == "" then return DEFAULTS[key] or "" end
  return v
end

function M.set(key, value)
  reaper.SetExtState(M.SECTION, key, tostring(value), true)
end

local function sep() return package.config:sub(1, 1) end

function M.join(...)
  return table.concat({ ... }, sep())
end

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

-------------------------------------------------------------------------------- the selection

--- The range to work on: razor edits on the item's track first, then the time selection.
function M.selection_range(item)
  if item then
    local track = reaper.GetMediaItem_Track(item)
    local ok, razor = reaper.GetSetMediaTrackInfo_String(track, "P_RAZOREDITS", "", false)
    if ok and razor and razor ~= "" then
      local a, b = razor:match("^%s*([%d%.eE%-]+)%s+([%d%.eE%-]+)")
      if a then return tonumber(a), tonumber(b), "razor edit" end
    end
  end
  local s, e = reaper.GetSet_LoopTimeRange2(0, false, false, 0, 0, false)
  if e > s then return s, e, "time selection" end
  return nil
end

--- The selected item that overlaps [s, e), or the first selected item.
function M.target_item(s, e)
  local count = reaper.CountSelectedMediaItems(0)
  local first
  for i = 0, count - 1 do
    local item = reaper.GetSelectedMediaItem(0, i)
    first = first or item
    local pos = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
    local len = reaper.GetMediaItemInfo_Value(item, "D_LENGTH")
    if not s or (pos < e and s < pos + len) then return item end
  end
  return first
end

--- Map project time [t0, t1) on a take to seconds of its source file.
-- Returns {source, start, stop, reversed, ...} or nil and the reason it cannot be mapped.
function M.map_take(item, take, t0, t1)
  if not take then return nil, "the item has no active take" end
  if reaper.TakeIsMIDI(take) then return nil, "it is a MIDI take; only audio can be regenerated" end
  if reaper.GetTakeNumStretchMarkers(take) > 0 then
    return nil, "the take has stretch markers, which move audio in time", "render"
  end
  if reaper.TakeFX_GetCount(take) > 0 then
    return nil, "the take has FX, so what you hear is not the file", "render"
  end
  local pos = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
  local len = reaper.GetMediaItemInfo_Value(item, "D_LENGTH")
  local a, b = math.max(t0, pos), math.min(t1, pos + len)
  if b <= a then return nil, "the selection does not overlap the item" end
  local offs = reaper.GetMediaItemTakeInfo_Value(take, "D_STARTOFFS")
  local rate = reaper.GetMediaItemTakeInfo_Value(take, "D_PLAYRATE")
  if rate <= 0 then return nil, "the take's playrate is not positive" end
  -- source (take-local) time of the range
  local s0, s1 = offs + (a - pos) * rate, offs + (b - pos) * rate
  local src = reaper.GetMediaItemTake_Source(take)
  local section_offs, section_len, reversed = 0, nil, false
  local parent = reaper.GetMediaSourceParent(src)
  while parent do
    local ok, so, sl, rev = reaper.PCM_Source_GetSectionInfo(src)
    if ok then
      if rev then
        -- reversed: time runs backwards through [so, so + sl) of the parent
        s0, s1 = sl - s1, sl - s0
        reversed = not reversed
      end
      s0, s1 = s0 + so, s1 + so
      section_offs, section_len = so, sl
    end
    src = parent
    parent = reaper.GetMediaSourceParent(src)
  end
  local file = reaper.GetMediaSourceFileName(src, "")
  if not file or file == "" then return nil, "the take has no source file (in-project MIDI, or an empty take)" end
  local src_len = reaper.GetMediaSourceLength(src)
  if reaper.GetMediaItemInfo_Value(item, "B_LOOPSRC") ~= 0 and src_len > 0 and s0 >= src_len then
    local wraps = math.floor(s0 / src_len)
    s0, s1 = s0 - wraps * src_len, s1 - wraps * src_len
  end
  if s1 > src_len + 1e-6 then
    return nil, "the selection runs past the end of the source (a looped item); select inside one loop"
  end
  if s0 < -1e-9 then return nil, "the selection starts before the source's beginning" end
  return { source = file, start = math.max(0, s0), stop = s1, reversed = reversed, project_start = a,
           project_end = b, playrate = rate, section_offs = section_offs, section_len = section_len }
end

-------------------------------------------------------------------------------- requests

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

local function pending()
  local _, raw = reaper.GetProjExtState(0, M.SECTION, "pending")
  if raw == "" then return {} end
  local value = M.json_decode(raw)
  if type(value) == "table" then return value end
  return {}
end

local function save_pending(list)
  reaper.SetProjExtState(0, M.SECTION, "pending", M.json_encode(list))
end

function M.pending() return pending() end

local function new_id()
  return string.format("reaper-%d-%06d", math.floor(reaper.time_precise() * 1000), math.random(0, 999999))
end

--- Write one spool request; remember it (with the item it belongs to) until its result is imported.
function M.send(address, args, meta)
  local folder = M.spool_folder()
  local id = new_id()
  local doc = { id = id, address = address, args = args or {} }
  local ok, err = write_atomic(M.join(folder, "requests", id .. ".json"), M.json_encode(doc))
  if not ok then
    return nil, "cannot write to the spool folder " .. folder .. " (" .. tostring(err) ..
      "): is `inpaint-bridge serve` running, and is the folder set in Settings?"
  end
  if meta then
    local list = pending()
    meta.id = id
    list[#list + 1] = meta
    save_pending(list)
  end
  return id
end

local function project_folder()
  local path = reaper.GetProjectPath("")
  return path ~= "" and path or nil
end

--- Build and send an edit request for the current selection. ``operation`` is inpaint,
-- transform or generate; ``prompt`` may be empty for the local engine.
function M.request_edit(operation, prompt, extra)
  local s, e, how = M.selection_range(reaper.GetSelectedMediaItem(0, 0))
  if not s then return nil, "Make a time selection (or razor edit) over an audio item first." end
  local item = M.target_item(s, e)
  if not item then return nil, "Select the audio item to work on." end
  local take = reaper.GetActiveTake(item)
  local mapped, reason, fix = M.map_take(item, take, s, e)
  if not mapped and fix == "render" then
    local choice = M.get("render_first")
    if choice == "ask" then
      choice = reaper.ShowMessageBox("This take cannot be mapped to its file: " .. reason ..
        ".\n\nRender the item to a new take first and use that?", "Inpaint Bridge", 4) == 6 and "yes" or "no"
    end
    if choice == "yes" or choice == "always" then
      reaper.Main_OnCommand(41999, 0) -- Item: Render items to new take
      take = reaper.GetActiveTake(item)
      mapped, reason = M.map_take(item, take, s, e)
    end
  end
  if not mapped then return nil, "Cannot regenerate this " .. how .. ": " .. reason .. "." end
  local args = { mapped.source, mapped.start, mapped.stop, prompt or "" }
  local options = { engine = M.get("engine"), preset = M.get("preset"), fade_ms = tonumber(M.get("fade_ms")),
                    context = tonumber(M.get("context")), project = project_folder() }
  for k, v in pairs(extra or {}) do options[k] = v end
  local keys = {}
  for k in pairs(options) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = options[k]
    if v ~= nil and v ~= "" then
      args[#args + 1] = k
      args[#args + 1] = v
    end
  end
  local _, guid = reaper.GetSetMediaItemInfo_String(item, "GUID", "", false)
  return M.send("/bridge/" .. operation, args, {
    item = guid, project_start = mapped.project_start, project_end = mapped.project_end, prompt = prompt or "",
    operation = operation, reversed = mapped.reversed, section_offs = mapped.section_offs,
    section_len = mapped.section_len,
  })
end

-------------------------------------------------------------------------------- importing results

local function find_item(guid)
  for i = 0, reaper.CountMediaItems(0) - 1 do
    local item = reaper.GetMediaItem(0, i)
    local _, g = reaper.GetSetMediaItemInfo_String(item, "GUID", "", false)
    if g == guid then return item end
  end
end

--- The item covering exactly [a, b): split the original there once (later takes reuse it).
local function region_item(item, a, b)
  local pos = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
  local len = reaper.GetMediaItemInfo_Value(item, "D_LENGTH")
  local eps = 1e-7
  if b < pos + len - eps then reaper.SplitMediaItem(item, b) end
  if a > pos + eps then
    local right = reaper.SplitMediaItem(item, a)
    if right then item = right end
  end
  return item
end

--- Add one finished job's patch as a new, active take on the region's item.
function M.place_take(entry, job)
  local item = find_item(entry.region_item or entry.item)
  if not item then return nil, "the item this request was made on is gone" end
  local old = reaper.GetActiveTake(item)
  item = region_item(item, entry.project_start, entry.project_end)
  local _, region_guid = reaper.GetSetMediaItemInfo_String(item, "GUID", "", false)
  entry.region_item = region_guid
  old = reaper.GetActiveTake(item) or old
  local offs = reaper.GetMediaItemTakeInfo_Value(old, "D_STARTOFFS")
  local rate = reaper.GetMediaItemTakeInfo_Value(old, "D_PLAYRATE")
  local take = reaper.AddTakeToMediaItem(item)
  local src = reaper.PCM_Source_CreateFromFile(job.take_path)
  reaper.SetMediaItemTake_Source(take, src)
  local file_at_item_start
  if entry.reversed then
    file_at_item_start = (entry.section_offs or 0) + (entry.section_len or 0) - offs
    reaper.SetMediaItemTakeInfo_Value(take, "D_STARTOFFS", job.take_end - file_at_item_start)
  else
    file_at_item_start = (entry.section_offs or 0) + offs
    reaper.SetMediaItemTakeInfo_Value(take, "D_STARTOFFS", file_at_item_start - job.take_start)
  end
  reaper.SetMediaItemTakeInfo_Value(take, "D_PLAYRATE", rate)
  local name = (entry.prompt ~= "" and entry.prompt or entry.operation) .. " #" .. tostring(job.seed)
  reaper.GetSetMediaItemTakeInfo_String(take, "P_NAME", name, true)
  reaper.SetActiveTake(take)
  if entry.reversed then
    reaper.SetMediaItemSelected(item, true)
    reaper.Main_OnCommand(41051, 0) -- Item properties: Toggle take reverse (on the new active take)
  end
  return take
end

--- Import every finished result of this project's pending requests. Returns how many takes were added.
function M.import_results()
  local list = pending()
  if #list == 0 then return 0 end
  local folder = M.join(M.spool_folder(), "results")
  local added, keep, errors = 0, {}, {}
  for _, entry in ipairs(list) do
    local path = M.join(folder, entry.id .. ".json")
    local text = M.read_file(path)
    local doc = text and M.json_decode(text)
    if type(doc) == "table" and doc.finished == true then
      local ids = {}
      for job_id in pairs(doc.jobs or {}) do ids[#ids + 1] = job_id end
      table.sort(ids)
      if doc.error ~= nil and doc.error ~= M.null then errors[#errors + 1] = tostring(doc.error) end
      reaper.Undo_BeginBlock2(0)
      reaper.PreventUIRefresh(1)
      for _, job_id in ipairs(ids) do
        local job = doc.jobs[job_id]
        if job.state == "done" then
          local ok, err = M.place_take(entry, job)
          if ok then added = added + 1 else errors[#errors + 1] = err end
        elseif job.state == "failed" then
          errors[#errors + 1] = tostring(job.error)
        end
      end
      reaper.PreventUIRefresh(-1)
      reaper.Undo_EndBlock2(0, "Inpaint Bridge: " .. (entry.prompt ~= "" and entry.prompt or entry.operation), -1)
      os.remove(path)
    else
      keep[#keep + 1] = entry
    end
  end
  save_pending(keep)
  if added > 0 then
    reaper.UpdateArrange()
    reaper.Main_OnCommand(40047, 0) -- Peaks: Build any missing peaks
  end
  if #errors > 0 then
    reaper.ShowMessageBox(table.concat(errors, "\n"), "Inpaint Bridge", 0)
  end
  return added
end

-------------------------------------------------------------------------------- the actions

local function ask_prompt(title)
  local separator = M.get("separator")
  local captions = "Prompt,Preset (optional),extrawidth=300,separator=" .. separator
  local defaults = M.get("last_prompt") .. separator .. M.get("preset")
  local ok, values = reaper.GetUserInputs(title, 2, captions, defaults)
  if not ok then return nil end
  local prompt, preset = values:match("^(.-)" .. separator:gsub("%p", "%%%0") .. "(.*)$")
  prompt = prompt or values
  M.set("last_prompt", prompt)
  M.set("preset", preset or "")
  return prompt
end

local function report(id, err)
  if not id then reaper.ShowMessageBox(err, "Inpaint Bridge", 0) end
  return id
end

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

function M.actions.settings()
  local keys = { "engine", "preset", "fade_ms", "context", "render_first", "spool" }
  local current = {}
  for i, k in ipairs(keys) do current[i] = M.get(k) end
  local captions = "Engine (local, fal, wavespeed),Preset,Fade (ms),Context (s),Render first (ask/yes/no),"
    .. "Spool folder,extrawidth=300,separator=|"
  local ok, values = reaper.GetUserInputs("Inpaint Bridge: settings", #keys, captions, table.concat(current, "|"))
  if not ok then return end
  local i = 0
  for v in (values .. "|"):gmatch("(.-)|") do
    i = i + 1
    if keys[i] then M.set(keys[i], v) end
  end
end

--- The background action: import finished results about three times a second.
function M.background()
  local last = 0
  local function tick()
    local now = reaper.time_precise()
    if now - last > 0.3 then
      last = now
      local ok, err = pcall(M.import_results)
      if not ok then reaper.ShowConsoleMsg("Inpaint Bridge: " .. tostring(err) .. "\n") end
    end
    reaper.defer(tick)
  end
  tick()
end

function M.run(name)
  local action = M.actions[name]
  if not action then error("Inpaint Bridge: no action " .. tostring(name)) end
  return action()
end

return M
