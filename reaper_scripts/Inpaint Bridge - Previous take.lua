-- @description Inpaint Bridge: Previous take
-- @about Switch the selected items to their previous take (variations)
-- @noindex
local dir = ({reaper.get_action_context()})[2]:match("^(.*[/\\])") or ""
local bridge = dofile(dir .. "inpaint_bridge/core.lua")
bridge.run("previous_take")
