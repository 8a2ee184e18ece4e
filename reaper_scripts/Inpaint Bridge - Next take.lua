-- @description Inpaint Bridge: Next take
-- @about Switch the selected items to their next take (variations)
-- @noindex
local dir = ({reaper.get_action_context()})[2]:match("^(.*[/\\])") or ""
local bridge = dofile(dir .. "inpaint_bridge/core.lua")
bridge.run("next_take")
