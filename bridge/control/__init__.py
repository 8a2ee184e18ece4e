"""Control surfaces: transport-free commands (routes, handlers) and the OSC, MIDI and spool shells."""
