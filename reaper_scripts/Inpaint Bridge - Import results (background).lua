-- @description Inpaint Bridge: Import results (background)
-- @about Keeps running: imports finished jobs as new takes. Start it once, or from Scripts/__startup.lua.
-- @noindex
local dir = ({reaper.get_action_context()})[2]:match("^(.*[/\\])") or ""
local bridge = dofile(dir .. "inpaint_bridge/core.lua")
bridge.background()
