-- @description Inpaint Bridge: Show status
-- @about Open the status window: every pending job with its state, progress, prompt, engine and time, and a Cancel button
-- @noindex
local dir = ({reaper.get_action_context()})[2]:match("^(.*[/\\])") or ""
local bridge = dofile(dir .. "inpaint_bridge/core.lua")
bridge.run("show_status")
