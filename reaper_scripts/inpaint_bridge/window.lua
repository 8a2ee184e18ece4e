-- @noindex
-- Inpaint Bridge for REAPER: the dockable status window, drawn with REAPER's gfx API.
-- Only drawing lives here; the rows, their text and what a click does come from model.lua.

local here = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or "./"
local model = dofile(here .. "model.lua")

local W = {}
local SECTION = "InpaintBridge"
local TITLE = "Inpaint Bridge"
local COLOURS = {
  done = { 0.45, 0.8, 0.45 }, imported = { 0.45, 0.8, 0.45 }, failed = { 0.95, 0.4, 0.35 },
  cancelled = { 0.6, 0.6, 0.6 }, default = { 0.4, 0.65, 0.95 },
}

local open, was_down = false, false

function W.is_open() return open end

function W.open()
  if open then return end
  local dock = tonumber(reaper.GetExtState(SECTION, "window_dock")) or 0
  gfx.init(TITLE, 620, 240, dock)
  gfx.setfont(1, "Arial", 15)
  open = true
end

function W.close()
  if not open then return end
  reaper.SetExtState(SECTION, "window_dock", tostring(gfx.dock(-1)), true)
  gfx.quit()
  open = false
end

local function text(x, y, s, w)
  gfx.x, gfx.y = x, y
  while w and #s > 4 and gfx.measurestr(s) > w do s = s:sub(1, #s - 4) .. "…" end
  gfx.drawstr(s)
end

--- Draw one frame; returns what a click asked for (see model.click), or nil.
function W.frame(rows, notices)
  if gfx.getchar() < 0 then W.close(); return end
  gfx.set(0.13, 0.13, 0.14, 1)
  gfx.rect(0, 0, gfx.w, gfx.h, 1)
  gfx.set(0.9, 0.9, 0.9, 1)
  text(8, 7, #rows == 0 and "No jobs waiting." or (#rows .. (#rows == 1 and " job" or " jobs")))
  local cells = model.layout(rows, gfx.w)
  for _, cell in ipairs(cells) do
    local row = cell.row
    local colour = COLOURS[row.state] or COLOURS.default
    gfx.set(0.2, 0.2, 0.22, 1)
    gfx.rect(cell.x, cell.y, cell.w, cell.h, 1)
    gfx.set(colour[1], colour[2], colour[3], 0.35)
    gfx.rect(cell.x, cell.y, math.floor(cell.w * math.max(0, math.min(1, row.fraction or 0))), cell.h, 1)
    gfx.set(0.92, 0.92, 0.92, 1)
    local room = cell.w - 12 - (cell.button and cell.button.w + 8 or 0)
    text(cell.x + 6, cell.y + 4, model.describe(row), room)
    local b = cell.button
    if b then
      gfx.set(0.35, 0.35, 0.38, 1)
      gfx.rect(b.x, b.y, b.w, b.h, 1)
      gfx.set(1, 1, 1, 1)
      text(b.x + 8, b.y + 4, "Cancel")
    end
  end
  local y = model.LAYOUT.top + #rows * model.LAYOUT.row_h + 6
  for i = math.max(1, #notices - 3), #notices do
    gfx.set(0.95, 0.75, 0.4, 1)
    text(8, y, os.date("%H:%M ", notices[i].at) .. tostring(notices[i].text):gsub("\n", "  "), gfx.w - 16)
    y = y + 18
  end
  local down = gfx.mouse_cap & 1 == 1
  local action
  if down and not was_down then action = model.click(cells, gfx.mouse_x, gfx.mouse_y) end
  was_down = down
  gfx.update()
  return action
end

return W
