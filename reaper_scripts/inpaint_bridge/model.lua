-- @noindex
-- Inpaint Bridge for REAPER: the model. Plain functions over plain tables, no reaper.* call,
-- so all of it is tested under Lua 5.4 (tests/reaper/test_model.lua).
--
-- Words: a take's *source time* is the time inside the take's own source (what D_STARTOFFS
-- counts in). Its *origin* says how source time maps to the file on disk and how long the
-- source is: file_time = scale * source_time + offset, with scale -1 for reversed sources.
-- A request remembers the range in source time together with the origin; at import the
-- range is found again on whatever the item has become (moved, trimmed, split).

local M = {}

M.EPS = 1e-6

-------------------------------------------------------------------------------- sources

--- The origin of a take's source. ``chain`` lists the section/reverse wrappers from the take's
-- own source upward, each {offs, len, rev} as PCM_Source_GetSectionInfo reports it (a
-- reverse-only wrapper may report len 0: it then spans the rest of its parent); ``root`` is
-- {file, len} of the file at the top.
function M.origin(chain, root)
  local lens, parent_len = {}, root.len
  for i = #chain, 1, -1 do
    local s = chain[i]
    local len = s.len
    if not len or len <= 0 then len = math.max(0, parent_len - s.offs) end
    lens[i] = len
    parent_len = len
  end
  -- compose outward: source time -> parent time, one wrapper at a time
  local scale, offset = 1, 0
  for i = 1, #chain do
    local s = chain[i]
    if s.rev then
      scale, offset = -scale, s.offs + lens[i] - offset
    else
      offset = s.offs + offset
    end
  end
  return { file = root.file, scale = scale, offset = offset, length = lens[1] or root.len }
end

function M.same_origin(a, b)
  return a.file == b.file and a.scale == b.scale and math.abs(a.offset - b.offset) < M.EPS
    and math.abs(a.length - b.length) < M.EPS
end

--- Seconds of the file for source times [s0, s1).
function M.file_range(origin, s0, s1)
  local a, b = origin.scale * s0 + origin.offset, origin.scale * s1 + origin.offset
  return math.min(a, b), math.max(a, b)
end

-------------------------------------------------------------------------------- project time -> source time

--- Map project time [t0, t1) on a placed take to its source time.
-- ``place`` = {pos, len, loop} of the item; ``take`` = {origin, start, rate}, where ``start`` is
-- the source time at the item's start (D_STARTOFFS). Returns a range table, or nil and why.
function M.map_range(place, take, t0, t1)
  local a, b = math.max(t0, place.pos), math.min(t1, place.pos + place.len)
  if b - a <= M.EPS then return nil, "the selection does not overlap the item" end
  if take.rate <= 0 then return nil, "the take's playrate is not positive" end
  local length = take.origin.length
  local s0, s1 = take.start + (a - place.pos) * take.rate, take.start + (b - place.pos) * take.rate
  if place.loop and length > 0 then
    local wraps = math.floor((s0 + M.EPS) / length)
    s0, s1 = s0 - wraps * length, s1 - wraps * length
    if s1 > length + M.EPS then
      return nil, "the selection crosses the point where the looped item starts its source again; select inside one loop"
    end
  elseif s1 > length + M.EPS then
    return nil, "the selection runs past the end of the take's source"
  end
  if s0 < -M.EPS then return nil, "the selection starts before the take's source begins" end
  s0, s1 = math.max(0, s0), math.min(length, s1)
  local f0, f1 = M.file_range(take.origin, s0, s1)
  return { s0 = s0, s1 = s1, file_start = f0, file_end = f1, reversed = take.origin.scale < 0,
           project_start = a, project_end = b }
end

-------------------------------------------------------------------------------- finding the range again

--- Where source times [s0, s1) sit on one placed take, as project times; the occurrence
-- nearest ``hint`` when the item loops. nil when the range is not (wholly) on the item.
function M.project_times(place, take, s0, s1, hint)
  local rate, length = take.rate, take.origin.length
  if rate <= 0 then return nil end
  local span = (s1 - s0) / rate
  local first = place.pos + (s0 - take.start) / rate
  local step = (place.loop and length > 0) and length / rate or nil
  if step then
    first = place.pos + ((s0 - take.start) % length) / rate
  end
  local best
  local t = first
  while t + span <= place.pos + place.len + M.EPS do
    if t >= place.pos - M.EPS and (not best or math.abs(t - hint) < math.abs(best - hint)) then best = t end
    if not step then break end
    t = t + step
  end
  if not best then return nil end
  return best, best + span
end

--- Find the piece of material a request was made on. ``items`` are the items of the request's
-- track, each {guid, pos, len, loop, active, takes = {{origin, start, rate}, ...}} (``active``
-- the index of the active take). The item the request named is preferred; a piece split off it,
-- moved or trimmed is found by its takes. Returns {item, take, t0, t1} (indices into ``items``
-- and its takes) or nil and why.
function M.locate(entry, items)
  local home
  for i, it in ipairs(items) do if it.guid == entry.item then home = i end end
  if not home then return nil, "the item it was made on has been deleted" end
  local moved = items[home].pos - entry.item_pos
  local hint = entry.project_start + moved
  local function on(i)
    local it = items[i]
    local order = { it.active }
    for k = 1, #it.takes do if k ~= it.active then order[#order + 1] = k end end
    for _, k in ipairs(order) do
      local take = it.takes[k]
      if take and take.origin and M.same_origin(take.origin, entry.origin) then
        local t0, t1 = M.project_times(it, take, entry.s0, entry.s1, hint)
        if t0 then return { item = i, take = k, t0 = t0, t1 = t1 } end
      end
    end
  end
  local found = on(home)
  if found then return found end
  local best
  for i in ipairs(items) do
    if i ~= home then
      local f = on(i)
      if f and (not best or math.abs(f.t0 - hint) < math.abs(best.t0 - hint)) then best = f end
    end
  end
  if best then return best end
  return nil, "that range is no longer on the item (trimmed away or deleted)"
end

-------------------------------------------------------------------------------- a patch as a take

--- The source time of the original at the start of a patch file: s = p + delta for patch time p.
-- The daemon writes the patch reversed when the origin is reversed (the request says reverse 1).
function M.patch_delta(origin, job)
  if origin.scale < 0 then return origin.offset - job.take_end end
  return job.take_start - origin.offset
end

--- Check that a patch covers the requested range; nil and why when it does not.
function M.check_patch(entry, job)
  local delta = M.patch_delta(entry.origin, job)
  local p0, p1 = entry.s0 - delta, entry.s1 - delta
  if p0 < -1e-4 or p1 > (job.take_end - job.take_start) + 1e-4 then
    return nil, string.format("the take %s covers %.3f-%.3f s of the file, not the range asked for",
      tostring(job.take_path), job.take_start, job.take_end)
  end
  return delta
end

--- The name of a take: the prompt (or the operation) and the seed.
function M.take_name(entry, job)
  local words = (entry.prompt and entry.prompt ~= "") and entry.prompt or entry.operation or "inpaint"
  return words .. " #" .. tostring(job.seed)
end

-------------------------------------------------------------------------------- dialogs

--- GetUserInputs captions for ``labels`` (REAPER splits captions on commas whatever the separator
-- of the values, so a label may not hold one).
function M.captions(labels, separator, extrawidth)
  for _, label in ipairs(labels) do
    if label:find(",", 1, true) then error("a dialog caption may not contain a comma: " .. label) end
  end
  return table.concat(labels, ",") .. ",extrawidth=" .. tostring(extrawidth or 300) .. ",separator=" .. separator
end

--- The values of a GetUserInputs answer, ``n`` of them.
function M.split_values(text, separator, n)
  local out, from = {}, 1
  for _ = 1, n - 1 do
    local at = text:find(separator, from, true)
    if not at then break end
    out[#out + 1] = text:sub(from, at - 1)
    from = at + #separator
  end
  out[#out + 1] = text:sub(from)
  for i = #out + 1, n do out[i] = "" end
  return out
end

M.SETTINGS = {
  { key = "engine", label = "Engine: local / fal / wavespeed", default = "",
    check = function(v) return v == "" or v == "local" or v == "fal" or v == "wavespeed", "local, fal, wavespeed or empty" end },
  { key = "preset", label = "Preset (optional)", default = "" },
  { key = "variations", label = "Variations per request", default = "1",
    check = function(v) local n = tonumber(v); return n and n == math.floor(n) and n >= 1 and n <= 16, "a whole number 1-16" end },
  { key = "fade_ms", label = "Crossfade in ms", default = "20",
    check = function(v) local n = tonumber(v); return n and n >= 0 and n <= 2000, "a number 0-2000" end },
  { key = "context", label = "Context in s (empty: engine default)", default = "",
    check = function(v) local n = tonumber(v); return v == "" or (n and n >= 0 and n <= 600), "a number 0-600 or empty" end },
  { key = "render_first", label = "Render takes with FX first: ask / yes / no", default = "ask",
    check = function(v) return v == "ask" or v == "yes" or v == "no", "ask, yes or no" end },
  { key = "status_window", label = "Status window: auto / off", default = "auto",
    check = function(v) return v == "auto" or v == "off", "auto or off" end },
  { key = "spool", label = "Spool folder (empty: default)", default = "" },
  { key = "swap", label = "Switch to a new take: at the seam / now", default = "seam",
    check = function(v) return v == "" or v == "seam" or v == "now", "seam, now or empty" end },
}

--- Check settings values from the dialog; nil and a message naming the field and value when one is wrong.
--- Whether a new take may become the active one now. Not while the transport plays inside the
-- region [t0, t1): the switch would cut the sound there. Once the play position is outside the
-- region, or has jumped back since it was last seen (a loop wrapped past the region's end, or
-- the user moved the cursor), the switch lands at the region's own seam. ``play`` =
-- {playing = bool, pos = seconds, last = seconds or nil}.
function M.may_swap(t0, t1, play)
  if not play.playing then return true end
  if play.pos < t0 - M.EPS or play.pos >= t1 - M.EPS then return true end
  return play.last ~= nil and play.pos < play.last - M.EPS
end

function M.check_settings(values)
  for i, s in ipairs(M.SETTINGS) do
    local v = values[i] or ""
    if s.check then
      local ok, want = s.check(v)
      if not ok then return nil, string.format("%s = %q: must be %s", s.label, v, want) end
    end
  end
  return true
end

-------------------------------------------------------------------------------- pending jobs and the status window

M.FINAL = { done = true, failed = true, cancelled = true }
M.WAIT_FOR_DAEMON_S = 5

--- The status window's rows: one per job the daemon accepted, or one per request it has not
-- answered yet. ``results`` maps request id -> result document (or nil); ``now`` in seconds.
function M.rows(entries, results, now)
  local rows = {}
  for _, entry in ipairs(entries) do
    if entry.kind == "edit" then
      local doc = results[entry.id]
      local elapsed = math.max(0, now - (entry.sent_at or now))
      local base = { request = entry.id, prompt = entry.prompt or "", elapsed = elapsed, engine = entry.engine or "" }
      if not doc then
        local row = setmetatable({ state = "sent", fraction = 0, cancel = "request" }, { __index = base })
        if elapsed >= M.WAIT_FOR_DAEMON_S then row.state = "waiting for the daemon (is inpaint-bridge serve running?)" end
        rows[#rows + 1] = row
      elseif type(doc.error) == "string" and next(doc.jobs or {}) == nil then
        rows[#rows + 1] = setmetatable({ state = "failed", fraction = 1, message = doc.error }, { __index = base })
      else
        local ids = {}
        for id in pairs(doc.jobs or {}) do ids[#ids + 1] = id end
        table.sort(ids)
        for _, id in ipairs(ids) do
          local job = doc.jobs[id]
          local state = tostring(job.state)
          if state == "done" and not (entry.imported or {})[id] then state = "importing" end
          if state == "done" then state = "imported" end
          rows[#rows + 1] = setmetatable({
            job = id, state = state, fraction = tonumber(job.fraction) or 0, seed = job.seed,
            cost = tonumber(job.cost_usd),
            engine = (type(job.engine) == "string" and job.engine ~= "") and job.engine or base.engine,
            message = type(job.error) == "string" and job.error or nil,
            cancel = (not M.FINAL[tostring(job.state)]) and "job" or nil,
          }, { __index = base })
        end
      end
    end
  end
  return rows
end

--- One line of text for a row: state, progress, prompt, seed, engine, estimated cost, elapsed time.
function M.describe(row)
  local pct = (row.fraction and row.fraction > 0 and row.fraction < 1) and string.format(" %d%%", math.floor(row.fraction * 100)) or ""
  local parts = { row.state .. pct }
  if row.prompt ~= "" then parts[#parts + 1] = '"' .. row.prompt .. '"' end
  if row.seed then parts[#parts + 1] = "#" .. tostring(row.seed) end
  if row.engine ~= "" then parts[#parts + 1] = row.engine end
  if row.cost and row.cost > 0 then parts[#parts + 1] = string.format("about $%.4f", row.cost) end
  if row.cost and row.cost < 0 then parts[#parts + 1] = "cost not published" end
  parts[#parts + 1] = string.format("%d s", math.floor(row.elapsed))
  local line = table.concat(parts, "  ·  ")
  if row.message then line = line .. "  —  " .. row.message end
  return line
end

M.LAYOUT = { top = 30, row_h = 26, margin = 8, button_w = 64 }

--- Where each row and its Cancel button are drawn in a window ``width`` pixels wide.
function M.layout(rows, width)
  local L, out = M.LAYOUT, {}
  for i, row in ipairs(rows) do
    local y = L.top + (i - 1) * L.row_h
    local cell = { row = row, x = L.margin, y = y, w = width - 2 * L.margin, h = L.row_h - 4 }
    if row.cancel then
      cell.button = { x = width - L.margin - L.button_w, y = y, w = L.button_w, h = L.row_h - 4 }
    end
    out[#out + 1] = cell
  end
  return out
end

--- What a click at (x, y) does: nil, or {cancel_job = id} / {drop_request = id}.
function M.click(cells, x, y)
  for _, cell in ipairs(cells) do
    local b = cell.button
    if b and x >= b.x and x < b.x + b.w and y >= b.y and y < b.y + b.h then
      if cell.row.cancel == "job" then return { cancel_job = cell.row.job } end
      return { drop_request = cell.row.request }
    end
  end
end

return M
