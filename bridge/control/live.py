"""``/bridge/live``: a pad or any OSC sender asks the Live remote script to capture its range.

Live's script cannot be reached by MIDI pads the daemon owns, so the daemon passes the
trigger on: ``/live/<operation>`` to the script on 127.0.0.1 (``[live] port``, 9131). The
script reads the loop brace or the Session clip, and sends the usual ``/bridge/<operation>``
back with the range in seconds of the file.
"""

from __future__ import annotations

from bridge.control.context import Context
from bridge.control.routes import Args, Reply, Route
from bridge.errors import BadArguments
from bridge.model import Operation

__all__ = ["ROUTES"]

OPERATIONS = [op.value for op in Operation]


def _live(ctx: Context, args: Args) -> list[Reply]:
    operation = args.string(0, "operation") if len(args) else Operation.INPAINT.value
    if operation not in OPERATIONS:
        raise BadArguments(f"{args.address}: operation = {operation!r}: must be one of {', '.join(OPERATIONS)}")
    prompt = args.optional_string(1, "prompt")
    pairs = args.pairs(2)
    forwarded: list[object] = [prompt] if prompt is not None else []
    for key, value in pairs.items():
        forwarded += [key, value]
    port = ctx.settings.live_port
    ctx.send(("127.0.0.1", port), f"/live/{operation}", forwarded)
    return [("/bridge/status", ["live", operation, "sent to port", port])]


ROUTES = [
    Route("/bridge/live", "[s:operation] [s:prompt] [s:key value ...]", "/bridge/status live operation sent",
          "ask the Live remote script to capture its range and send it (operation: inpaint, transform, generate)",
          _live),
]
