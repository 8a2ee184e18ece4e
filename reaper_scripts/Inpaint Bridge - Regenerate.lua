-- @description Inpaint Bridge: Regenerate
-- @about Regenerate the selection again with the last prompt and a new seed (no dialog: for hotkeys and pads)
-- @noindex
local dir = ({reaper.get_action_context()})[2]:match("^(.*[/\\])") or ""
local bridge = dofile(dir .. "inpaint_bridge/core.lua")
bridge.run("regenerate")
