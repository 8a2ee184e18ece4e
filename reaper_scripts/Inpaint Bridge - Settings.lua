-- @description Inpaint Bridge: Settings
-- @about Engine, preset, fade, context, render-first and spool folder
-- @noindex
local dir = ({reaper.get_action_context()})[2]:match("^(.*[/\\])") or ""
local bridge = dofile(dir .. "inpaint_bridge/core.lua")
bridge.run("settings")
