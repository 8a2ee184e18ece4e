"""inpaint-bridge: regenerate a range of a recording from inside a DAW.

The public Python API is small: :func:`fill` runs the offline context fill on an array.
Audio arrays are float, shaped ``(frames,)`` or ``(frames, channels)``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from bridge.audio.fill import fill  # noqa: E402
from bridge.errors import BridgeError  # noqa: E402

__all__ = ["BridgeError", "__version__", "fill"]
