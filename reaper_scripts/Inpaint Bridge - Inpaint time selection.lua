-- @description Inpaint Bridge: regenerate a selection with AI inpainting, as new takes
-- @author inpaint-bridge
-- @version 0.1.0
-- @changelog First release: inpaint, regenerate, transform, generate, cancel, take cycling, settings, background import
-- @link https://github.com/inpaint-bridge/inpaint-bridge
-- @provides
--   [main] Inpaint Bridge - Regenerate.lua
--   [main] Inpaint Bridge - Transform selection.lua
--   [main] Inpaint Bridge - Generate into selection.lua
--   [main] Inpaint Bridge - Cancel.lua
--   [main] Inpaint Bridge - Previous take.lua
--   [main] Inpaint Bridge - Next take.lua
--   [main] Inpaint Bridge - Settings.lua
--   [main] Inpaint Bridge - Import results (background).lua
--   [nomain] inpaint_bridge/core.lua
-- @about
--   # Inpaint Bridge
--   Select a range of an audio item (time selection or razor edit), run "Inpaint time selection",
--   and the inpaint-bridge daemon regenerates it; the background action adds the result as a new
--   take, in one undo step, with the original untouched. Needs `inpaint-bridge serve` running.
local dir = ({reaper.get_action_context()})[2]:match("^(.*[/\\])") or ""
local bridge = dofile(dir .. "inpaint_bridge/core.lua")
bridge.run("inpaint")
