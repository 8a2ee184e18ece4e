"""inpaint-bridge for Ableton Live: regenerate the looped range, get the take back in a take lane.

Copy this folder into ``User Library/Remote Scripts/``, restart Live and choose
"InpaintBridge" as a Control Surface (Preferences → Link, Tempo & MIDI). It needs nothing
but Live's own Python (3.7 up to Live 12.0, 3.11 from 12.1) and ``c_instance``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .surface import InpaintBridge

if TYPE_CHECKING:
    from .surface import Host


def create_instance(c_instance: Host) -> InpaintBridge:
    return InpaintBridge(c_instance)
