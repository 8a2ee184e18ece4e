-- @description Inpaint Bridge: Cancel
-- @about Cancel the daemon's last request
-- @noindex
local dir = ({reaper.get_action_context()})[2]:match("^(.*[/\\])") or ""
local bridge = dofile(dir .. "inpaint_bridge/core.lua")
bridge.run("cancel")
