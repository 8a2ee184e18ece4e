"""One edit, start to finish: window → engine → fit → splice → take + manifest.

CPU-bound and file work runs in worker threads (soundfile, soxr and numpy release the
GIL), so the same coroutine serves the one-shot CLI and the daemon's event loop.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from bridge import __version__
from bridge.audio.align import fit_returned, place_returned
from bridge.audio.io import AudioInfo, EncodedAudio, from_float, probe, read_frames, seconds_to_frame, to_float
from bridge.audio.splice import splice
from bridge.audio.take import check_output, default_take_path, write_full, write_manifest, write_patch, write_returned
from bridge.audio.window import Window, plan_window
from bridge.config import Settings
from bridge.engines.base import Engine, EngineJob, EngineResult, Fit, Progress
from bridge.engines.models import find_model
from bridge.errors import AccessDenied, AlignmentError, BadValue, BridgeError, EngineUnavailable, RegionOutOfBounds
from bridge.jobs.cost import estimate
from bridge.jobs.manifest import Manifest, SourceFormat, TakePlacement
from bridge.model import EditRequest, Operation, TakeInfo, default_seed

__all__ = ["check_request", "plan_edit", "run_edit"]

T = TypeVar("T")


class _Timer:
    """Times each stage of one edit, and reports the bridge's own steps to ``on_progress``."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self.started = time.perf_counter()

    async def run(self, stage: str, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``fn`` in a worker thread, timed as ``stage``."""
        return await self.run_async(stage, asyncio.to_thread(fn, *args, **kwargs))

    async def run_async(self, stage: str, work: Awaitable[T]) -> T:
        t0 = time.perf_counter()
        result = await work
        self.stages[stage] = round(time.perf_counter() - t0, 6)
        return result

    def report(self, on_progress: Callable[[Progress], None] | None, state: str) -> None:
        if on_progress is not None:
            on_progress(Progress(state, round(time.perf_counter() - self.started, 3)))

    def finish(self) -> dict[str, float]:
        self.stages["total"] = round(time.perf_counter() - self.started, 6)
        return self.stages


def check_request(req: EditRequest, engine: Engine, *, resuming: bool = False) -> None:
    """Refuse a request ``engine`` cannot take, before anything is read, queued or paid for."""
    caps = engine.capabilities
    if req.operation not in caps.operations:
        ops = ", ".join(sorted(op.value for op in caps.operations))
        raise BadValue("operation", req.operation.value, f"engine {caps.name!r} does: {ops}")
    if not caps.uses_prompt:
        if req.params:
            name = next(iter(req.params))
            raise BadValue(name, req.params[name], f"engine {caps.name!r} takes no model parameters")
        return
    spec = find_model(caps.name, req.model, req.operation)
    spec.resolve(req.params)
    if not req.prompt.strip() and not resuming:
        raise BadValue("prompt", req.prompt, f"{spec.id} needs a prompt describing the sound")
    reason = engine.readiness()
    if reason is not None:
        raise EngineUnavailable(f"{caps.name}: {reason}")


def plan_edit(req: EditRequest, info: AudioInfo, engine: Engine, settings: Settings) -> Window:
    """Check ``req`` against the source and the engine, and plan the frames to read and write."""
    caps = engine.capabilities
    if req.operation not in caps.operations:
        ops = ", ".join(sorted(op.value for op in caps.operations))
        raise BadValue("operation", req.operation.value, f"engine {caps.name!r} does: {ops}")
    if req.end > info.duration + 0.5 / info.sr:
        raise RegionOutOfBounds(
            f"end = {req.end:g}: past the end of {info.path.name} ({info.duration:.3f} s long)"
        )
    start = seconds_to_frame(req.start, info.sr)
    end = min(seconds_to_frame(req.end, info.sr), info.frames)
    length = (end - start) / info.sr
    if end <= start or length < caps.min_duration_s:
        raise BadValue("end - start", round(req.end - req.start, 6),
                       f"engine {caps.name!r} needs at least {caps.min_duration_s * 1000:g} ms")
    # a hosted engine's limit is its model's, never one of its own below what the model allows
    spec = find_model(caps.name, req.model, req.operation) if caps.uses_prompt else None
    limit, who = (spec.max_input_s, spec.id) if spec is not None else (caps.max_duration_s, f"engine {caps.name!r}")
    if length > limit:
        raise BadValue("end - start", round(req.end - req.start, 6), f"{who} takes at most {limit:g} s at once")
    if start == 0 and end == info.frames and req.operation is Operation.INPAINT:
        raise BadValue("start, end", (req.start, req.end), "covers the whole file; nothing is left to fill from")
    context_s = caps.default_context_s if req.context_s is None else min(req.context_s, caps.max_context_s)
    return plan_window(
        start, end, frames=info.frames, context=round(context_s * info.sr), handles=round(settings.handles_s * info.sr)
    )


async def run_edit(
    req: EditRequest,
    engine: Engine,
    settings: Settings,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    resume_id: str | None = None,
    notes: tuple[str, ...] = (),
) -> TakeInfo:
    """Run one edit and write its take and manifest. Raises :class:`~bridge.errors.BridgeError`.

    ``on_progress`` hears the engine's steps (the ``submitted`` step carries the service's
    request id, worth storing), and the bridge's own ``reading``, ``fitting`` and ``writing``;
    ``resume_id`` continues a request the service accepted before; ``notes`` go into the manifest.
    """
    submitted: list[str] = [resume_id] if resume_id else []

    def heard(step: Progress) -> None:
        if step.request_id and not submitted:
            submitted.append(step.request_id)
        if on_progress is not None:
            on_progress(step)

    try:
        return await _edit(req, engine, settings, heard, resume_id, notes)
    except BridgeError as exc:
        if not submitted or submitted[0] in str(exc):
            raise
        named = copy.copy(exc)  # every error after a submit names the request that was billed
        named.args = (f"{exc} (request {submitted[0]})",)
        raise named from exc


async def _edit(req: EditRequest, engine: Engine, settings: Settings, on_progress: Callable[[Progress], None],
                resume_id: str | None, notes: tuple[str, ...]) -> TakeInfo:
    timer = _Timer()
    info = await asyncio.to_thread(probe, req.source)
    window = plan_edit(req, info, engine, settings)
    wanted = req.output or default_take_path(info, req.start, req.end, kind="patch" if req.patch else "take",
                                             folder=req.folder)
    if req.output is not None:
        check_output(info, req.output, overwrite=req.overwrite)
    seed = req.seed if req.seed is not None else default_seed(engine.capabilities.uses_prompt)

    timer.report(on_progress, "reading")
    native = await timer.run("read_window", read_frames, info, window.read_start, window.read_stop, native=True)
    audio = await timer.run("to_float", to_float, native)  # tens of MB: not on the event loop
    start, end = window.local_range
    fade = min(round(req.fade_ms / 1000.0 * info.sr), (end - start) // 2)  # ms -> frames, once
    job = EngineJob(
        operation=req.operation, audio=audio, sr=info.sr, start=start, end=end, prompt=req.prompt,
        negative_prompt=req.negative_prompt, seed=seed, fade=fade, params=req.params, model=req.model,
        resume_id=resume_id, deadline_s=settings.deadline_s, on_progress=on_progress,
    )
    result = await timer.run_async("engine", engine.render(job))

    timer.report(on_progress, "fitting")
    fit: dict[str, Any] = {}
    if result.fit is Fit.JOINED:
        new = _decoded(result)
    else:
        try:
            new, fit = await timer.run("fit_splice", _fit_and_splice, audio, result, sr=info.sr, start=start,
                                       end=end, fade=fade, accept_misaligned=req.accept_misaligned)
        except AlignmentError as exc:
            if result.request_id is None:
                raise
            offset = (window.read_start + result.lo) / info.sr
            kept = await asyncio.to_thread(_keep_refused, req, info, wanted, result, str(exc), offset)
            raise AlignmentError(f"{exc}. The paid answer (request {result.request_id}) is kept as {kept}, to lay"
                                 f" in by hand at {offset:.3f} s of the source; a new request with"
                                 " --accept-misaligned (OSC, spool: accept_misaligned 1) splices an answer in"
                                 " place without the check") from exc
    replacement = await timer.run("convert", from_float, np.asarray(new), info.native_dtype,
                                  subtype=_float_subtype(info))
    timer.report(on_progress, "writing")
    placement = await _write_take(req, info, window, wanted, native, replacement, timer)
    regenerated, note = _regenerated(req, result, window.read_start, info.sr)
    manifest = Manifest(
        version=__version__, operation=req.operation.value, engine=engine.capabilities.name, model=result.model,
        prompt=req.prompt, negative_prompt=req.negative_prompt, prompt_used=engine.capabilities.uses_prompt,
        seed=seed, seed_used=result.seeded,
        parameters=dict(req.params) | {"fade_ms": req.fade_ms, "context_s": _context_read(window, info.sr)},
        source=str(info.path.resolve()),
        source_format=SourceFormat(info.sr, info.channels, info.format, info.subtype, info.frames),
        range={"start": req.start, "end": req.end, "start_frame": window.start, "end_frame": window.end},
        take=placement, fit=fit, engine_details=dict(result.details), remote_request_id=result.request_id,
        notes=(*notes, *result.notes, *note), timings_s=timer.finish(), regenerated=regenerated,
        cost=_cost(req, settings, result),
    )
    path = Path(placement.path)
    manifest_path = await asyncio.to_thread(write_manifest, path, manifest.to_json(), replace=req.overwrite)
    return TakeInfo(path=path, manifest_path=manifest_path, kind=placement.kind, take_start=placement.take_start,
                    take_end=placement.take_end, seed=seed, engine=engine.capabilities.name, model=result.model,
                    notes=manifest.notes, request_id=result.request_id, seed_used=result.seeded)


async def _write_take(req: EditRequest, info: AudioInfo, window: Window, wanted: Path, native: NDArray[np.generic],
                      replacement: NDArray[np.generic], timer: _Timer) -> TakePlacement:
    """The take stage: the whole file with the range replaced, or the patch (range plus handles)."""
    if req.folder is not None and wanted.parent.resolve() != req.folder:
        # the folder was checked against the roots when the job was accepted; a symlink put in its
        # place since then must not send the take elsewhere
        raise AccessDenied(f"project = {str(req.folder)!r}: now leads to {str(wanted.parent.resolve())!r}; the"
                           " take is not written outside the folder that was checked")
    if not req.patch:
        path = await timer.run("write_take", write_full, info, wanted, window.start, replacement,
                               replace=req.overwrite)
        return TakePlacement("full", str(path.resolve()), 0.0, info.duration, req.reverse)
    lo, hi = window.local_patch
    start, end = window.local_range
    patch = native[lo:hi]
    patch[start - lo : end - lo] = replacement
    if req.reverse:
        patch = np.ascontiguousarray(patch[::-1])
    path = await timer.run("write_take", write_patch, info, wanted, patch)
    return TakePlacement("patch", str(path.resolve()), window.patch_start / info.sr, window.patch_stop / info.sr,
                         req.reverse)


def _fit_and_splice(
    audio: NDArray[np.float32], result: EngineResult, *, sr: int, start: int, end: int, fade: int,
    accept_misaligned: bool = False,
) -> tuple[NDArray[np.float32], dict[str, Any]]:
    """Fit a model's answer onto its excerpt of the window and splice it in; returns the range's frames.

    With ``accept_misaligned`` an answer the fit refuses is placed as it came (lag 0, gain 1).
    """
    lo, hi = result.lo, result.hi
    excerpt = audio[lo:hi]
    s, e = start - lo, end - lo
    if result.fit is Fit.ALIGN:
        # align only on audio the model did not regenerate: its mask may reach past the range
        a, b = (s, e) if result.regenerated is None else (min(s, result.regenerated[0] - lo),
                                                          max(e, result.regenerated[1] - lo))
        try:
            fitted, alignment = fit_returned(excerpt, result.audio, result.sr, sr=sr, start=a, end=b, needed=(s, e))
            fit: dict[str, Any] = {**dataclasses.asdict(alignment), "gain_db": round(alignment.gain_db, 4)}
        except AlignmentError as exc:
            if not accept_misaligned:
                raise
            fitted = place_returned(_decoded(result), result.sr, sr=sr, frames=len(excerpt),
                                    channels=excerpt.shape[1], needed=e)
            fit = {"accepted_misaligned": True, "refused_because": str(exc), "placed_at_frame": lo}
    else:
        fitted = place_returned(_decoded(result), result.sr, sr=sr, frames=len(excerpt), channels=excerpt.shape[1],
                                needed=e)
        fit = {"placed_at_frame": lo}
    spliced, rhos = splice(excerpt[s:e], fitted[s:e], start=0, end=e - s, fade=fade)  # the fades lie inside
    fit["rho"] = list(rhos)
    return spliced, fit


def _decoded(result: EngineResult) -> NDArray[np.float32]:
    """The engine's answer as samples."""
    return result.audio.decode() if isinstance(result.audio, EncodedAudio) else result.audio


def _cost(req: EditRequest, settings: Settings, result: EngineResult) -> dict[str, object]:
    """The manifest's cost: the estimate from the price table and, where the service says, the billed units."""
    cost = estimate(req, settings)
    out: dict[str, object] = {"estimated_usd": cost.total, "price": cost.describe()}
    if "billed_units" in result.details:
        out["billed_units"] = result.details["billed_units"]
    return out


def _keep_refused(req: EditRequest, info: AudioInfo, wanted: Path, result: EngineResult, why: str,
                  offset: float) -> Path:
    """Keep a paid answer the fit refused, as the service sent it, with a manifest naming its request."""
    path = write_returned(wanted.with_name(f"{wanted.stem}.refused.wav"), _decoded(result), result.sr)
    write_manifest(path, {"refused_because": why, "remote_request_id": result.request_id, "model": result.model,
                          "source": str(info.path.resolve()), "range": {"start": req.start, "end": req.end},
                          "starts_at_s": offset,
                          "engine_details": dict(result.details),
                          "use_it": f"lay it in at {offset:.3f} s of the source, or ask again with"
                                    " --accept-misaligned (OSC, spool: accept_misaligned 1)"})
    return path


def _regenerated(req: EditRequest, result: EngineResult, read_start: int,
                 sr: int) -> tuple[dict[str, float], tuple[str, ...]]:
    """The span the model regenerated, in source seconds, and a note when it does not cover the range."""
    if result.regenerated is None:
        return {"start": req.start, "end": req.end}, ()
    a, b = ((read_start + f) / sr for f in result.regenerated)
    span = {"start": round(a, 6), "end": round(b, 6)}
    if a <= req.start + 0.5 / sr and b >= req.end - 0.5 / sr:
        return span, ()
    return span, (f"the model regenerated {a:.3f}-{b:.3f} s of the {req.start:.3f}-{req.end:.3f} s asked for"
                  f" ({result.model} masks {'whole seconds' if b - a == round(b - a) else 'latent frames'});"
                  " the rest of the range is the model's rendering of the original",)


def _float_subtype(info: AudioInfo) -> str:
    return "FLOAT" if info.lossy else info.subtype


def _context_read(window: Window, sr: int) -> float:
    """Seconds of context actually read on the wider side of the range."""
    return max(window.start - window.read_start, window.read_stop - window.end) / sr
