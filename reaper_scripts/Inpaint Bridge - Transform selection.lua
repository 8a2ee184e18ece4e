-- @description Inpaint Bridge: Transform selection
-- @about Audio-to-audio on the selection towards a prompt
-- @noindex
local dir = ({reaper.get_action_context()})[2]:match("^(.*[/\\])") or ""
local bridge = dofile(dir .. "inpaint_bridge/core.lua")
bridge.run("transform")
