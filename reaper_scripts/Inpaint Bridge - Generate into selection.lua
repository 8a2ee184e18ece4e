-- @description Inpaint Bridge: Generate into selection
-- @about Generate a clip from a prompt into the selection
-- @noindex
local dir = ({reaper.get_action_context()})[2]:match("^(.*[/\\])") or ""
local bridge = dofile(dir .. "inpaint_bridge/core.lua")
bridge.run("generate")
