-- @description Inpaint Bridge: Import results (background)
-- @about Keeps running: imports finished jobs as new takes and shows the status window. The other actions start it when it is not running.
-- @noindex
local dir = ({reaper.get_action_context()})[2]:match("^(.*[/\\])") or ""
local bridge = dofile(dir .. "inpaint_bridge/core.lua")
bridge.background(dofile(dir .. "inpaint_bridge/window.lua"))
