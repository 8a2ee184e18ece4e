"""inpaint-bridge: regenerate a range of a recording from inside a DAW.

The public Python API is small: :func:`fill` runs the offline context fill on an array.
Audio arrays are float, shaped ``(frames,)`` or ``(frames, channels)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.errors import BridgeError

__version__ = "0.1.0"

__all__ = ["BridgeError", "__version__", "fill"]

if TYPE_CHECKING:
    from bridge.audio.fill import fill


def __getattr__(name: str) -> Any:
    """``bridge.fill`` is imported on first use: the command line starts without scipy."""
    if name == "fill":
        from bridge.audio.fill import fill

        return fill
    raise AttributeError(f"module 'bridge' has no attribute {name!r}")
