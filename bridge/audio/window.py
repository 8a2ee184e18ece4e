"""Planning which frames a job reads and which part a model regenerates.

All positions are frames of the source file; a :class:`Window` says what to read (the
range plus context, clamped to the file) and what the take covers (the range plus
handles), so a job never reads more of the source than it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.errors import AudioParameterError

__all__ = ["Window", "plan_mask", "plan_window"]


@dataclass(frozen=True)
class Window:
    """Frames to read and to write for one edit, in source frames."""

    read_start: int
    read_stop: int
    start: int
    end: int
    patch_start: int
    patch_stop: int

    @property
    def local_range(self) -> tuple[int, int]:
        """The edited range relative to ``read_start``."""
        return self.start - self.read_start, self.end - self.read_start

    @property
    def local_patch(self) -> tuple[int, int]:
        """The patch relative to ``read_start``."""
        return self.patch_start - self.read_start, self.patch_stop - self.read_start


def plan_window(start: int, end: int, *, frames: int, context: int, handles: int) -> Window:
    """Window for regenerating ``[start, end)`` of a ``frames``-long source.

    ``context`` frames are read on each side (clamped to the file) and the patch covers
    ``handles`` frames on each side, never more than was read.
    """
    if not 0 <= start < end <= frames:
        raise AudioParameterError(f"start, end = {start}, {end}: need 0 <= start < end <= {frames}")
    if context < 0 or handles < 0:
        raise AudioParameterError(f"context, handles = {context}, {handles}: must be >= 0")
    read_start = max(0, start - max(context, handles))
    read_stop = min(frames, end + max(context, handles))
    return Window(
        read_start=read_start,
        read_stop=read_stop,
        start=start,
        end=end,
        patch_start=max(read_start, start - handles),
        patch_stop=min(read_stop, end + handles),
    )


def plan_mask(start: int, end: int, *, latent: int, fade: int) -> tuple[int, int, bool]:
    """The part of ``[start, end)`` a latent model should regenerate (audio-core.md §6.2).

    Each end is pulled in by a transition zone of one latent frame plus ``fade`` and then
    snapped inward to the ``latent`` grid, so the model reproduces the original where the
    crossfade runs and the fade is between near-identical signals. When the range is too
    short for that, the whole range is regenerated (the *superset* mask, ``True`` in the
    result) and the fade becomes equal-power.

    Positions are frames of the excerpt sent to the model, whose grid starts at 0.
    """
    if latent < 1 or fade < 0:
        raise AudioParameterError(f"latent, fade = {latent}, {fade}: need latent >= 1 and fade >= 0")
    zone = latent + fade
    lo = -(-(start + zone) // latent) * latent
    hi = ((end - zone) // latent) * latent
    if hi - lo >= latent:
        return lo, hi, False
    lo = (start // latent) * latent
    hi = -(-end // latent) * latent
    return lo, hi, True
