"""Planning a hosted model's request (audio-core.md §6.2): which excerpt, which mask.

Positions are frames of the window the job read, at the source's rate; mask times are
seconds from the excerpt's start, in the model's own units. The excerpt is sent at
44.1 kHz, so a mask on the model's latent grid lands on whole latent frames there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bridge.audio.io import encode_wav
from bridge.audio.resample import map_channels, resample
from bridge.audio.window import plan_mask
from bridge.engines.base import Fit
from bridge.engines.models import MaskStyle, ModelSpec
from bridge.errors import BadValue, EngineRejected
from bridge.model import Operation

__all__ = ["CONTEXT_S", "RequestPlan", "check_plan", "encode_excerpt", "plan_request"]

CONTEXT_S = 10.0
"""Context sent on each side of the range where the source and the model allow."""


@dataclass(frozen=True)
class RequestPlan:
    """The excerpt ``[lo, hi)`` of the window to send (or where the answer goes) and the mask."""

    lo: int
    hi: int
    fit: Fit
    mask: tuple[float, float] | None = None
    superset: bool = False
    duration: float | None = None
    """Value of the model's duration field, when it has one."""


def plan_request(spec: ModelSpec, *, frames: int, sr: int, start: int, end: int, fade: int) -> RequestPlan:
    """Plan the request for regenerating ``[start, end)`` of a ``frames``-long window.

    Raises :class:`BadValue` when the range does not fit the model and
    :class:`EngineRejected` when the source is too short for it.
    """
    length_s = (end - start) / sr
    if spec.operation is Operation.GENERATE or spec.operation is Operation.TRANSFORM:
        return _plan_in_place(spec, start, end, length_s)
    if spec.mask is MaskStyle.WHOLE_SECONDS:
        return _plan_whole_seconds(spec, frames=frames, sr=sr, start=start, end=end, fade=fade)
    room = spec.max_input_s - length_s
    if room < 2 * spec.grid / spec.sr:
        raise BadValue("end - start", round(length_s, 6),
                       f"{spec.id} takes at most {spec.max_input_s:g} s including context; choose a shorter range")
    context = round(min(CONTEXT_S, room / 2) * sr)
    lo, hi = max(0, start - context), min(frames, end + context)
    _check_input(spec, (hi - lo) / sr)
    scale = spec.sr / sr
    total = round((hi - lo) * scale)
    a, b, superset = plan_mask(round((start - lo) * scale), round((end - lo) * scale), latent=spec.grid,
                               fade=round(fade * scale))
    return RequestPlan(lo, hi, Fit.ALIGN, (a / spec.sr, min(b, total) / spec.sr), superset)


def _plan_in_place(spec: ModelSpec, start: int, end: int, length_s: float) -> RequestPlan:
    if spec.operation is Operation.GENERATE:
        seconds = math.ceil(length_s - 1e-9)
        if seconds > spec.max_input_s:
            raise BadValue("end - start", round(length_s, 6), f"{spec.id} generates at most {spec.max_input_s:g} s")
        return RequestPlan(start, end, Fit.PLACE, duration=float(max(1, seconds)))
    if not spec.min_input_s <= length_s <= spec.max_input_s:
        raise BadValue("end - start", round(length_s, 6),
                       f"{spec.id} transforms {spec.min_input_s:g} to {spec.max_input_s:g} s")
    return RequestPlan(start, end, Fit.PLACE, duration=round(length_s, 6))


def _plan_whole_seconds(spec: ModelSpec, *, frames: int, sr: int, start: int, end: int, fade: int) -> RequestPlan:
    """Place the excerpt so that the mask starts and ends on whole seconds of it."""
    zone = round(spec.grid * sr / spec.sr) + fade
    inner = (end - zone) - (start + zone)
    if inner >= sr:
        anchor, seconds, superset = start + zone, inner // sr, False
    else:
        # whole seconds from the range's start, moved back where they would run past the source
        seconds = -(-(end - start) // sr)
        anchor, superset = max(0, min(start, frames - seconds * sr)), True
    before = min(int(CONTEXT_S), anchor // sr)
    lo = anchor - before * sr
    mask_end = before + seconds
    after = min(int(CONTEXT_S), max(0, (frames - (lo + mask_end * sr)) // sr))
    total = mask_end + after
    if total > spec.max_input_s:
        raise BadValue("end - start", round((end - start) / sr, 6),
                       f"{spec.id} takes at most {spec.max_input_s:g} s including context; choose a shorter range")
    if total < spec.min_input_s:
        # borrow whole seconds on either side to reach the model's minimum input
        spare_before, spare_after = lo // sr, max(0, (frames - (lo + total * sr)) // sr)
        need = math.ceil(spec.min_input_s) - total
        take_before = min(spare_before, need)
        lo -= take_before * sr
        before += take_before
        total += take_before + min(spare_after, need - take_before)
        mask_end = before + seconds
    _check_input(spec, total)
    hi = min(frames, lo + total * sr)
    return RequestPlan(lo, hi, Fit.ALIGN, (float(before), float(mask_end)), superset, duration=float(total))


def check_plan(spec: ModelSpec, plan: RequestPlan, *, frames: int, sr: int, start: int, end: int) -> None:
    """Check a plan against the model's documented rules before anything is sent (and paid for):
    the excerpt inside the source and within the model's input limits, the mask inside the
    excerpt and covering the range, a whole-seconds model's total equal to its excerpt."""
    problems = []
    length = (plan.hi - plan.lo) / sr
    if not 0 <= plan.lo < plan.hi <= frames:
        problems.append(f"excerpt {plan.lo}..{plan.hi} is not inside the source's {frames} frames")
    if plan.mask is not None:
        if plan.fit is Fit.ALIGN and not spec.min_input_s - 1e-6 <= length <= spec.max_input_s + 1e-6:
            problems.append(f"excerpt of {length:.3f} s is outside {spec.min_input_s:g}..{spec.max_input_s:g} s")
        a, b = plan.mask
        mask_lo, mask_hi = plan.lo + a * sr, plan.lo + b * sr
        # a superset mask covers the range; otherwise the mask lies inside it, with transition zones
        placed = (mask_lo <= start + 1 and mask_hi >= end - 1) if plan.superset else (
            mask_lo >= start - 1 and mask_hi <= end + 1)
        if not 0 <= a < b <= length + 1.0 / spec.sr or not placed:  # the excerpt is sent at the model's rate
            problems.append(f"mask {a:g}..{b:g} s does not lie inside the {length:.3f} s excerpt over the range")
        if spec.mask is MaskStyle.WHOLE_SECONDS and (plan.duration is None or plan.hi - plan.lo != plan.duration * sr
                                                      or b > plan.duration):
            problems.append(f"seconds_total {plan.duration} does not match the {length:.3f} s excerpt")
    if problems:
        raise EngineRejected(f"{spec.id}: the request was not sent, as the service would refuse it after billing:"
                             f" {'; '.join(problems)} (a bug in the bridge's planner; please report it)")


def _check_input(spec: ModelSpec, seconds: float) -> None:
    if seconds < spec.min_input_s - 1e-9:
        raise EngineRejected(
            f"{spec.id} needs at least {spec.min_input_s:g} s of audio around the range;"
            f" the source has room for {seconds:.2f} s"
        )


def encode_excerpt(audio: NDArray[np.float32], sr: int, spec: ModelSpec) -> bytes:
    """The excerpt as the model takes it: 44.1 kHz stereo 16-bit WAV."""
    return encode_wav(map_channels(resample(audio, sr, spec.sr), 2), spec.sr)
