"""The audio path's measurements for ``inpaint-bridge bench``, each beside what it is compared with.

* **Job stages** on a 10-minute 48 kHz 24-bit stereo source, a 10 s range with 10 s of
  context: every stage of a hosted-engine job (the model answers instantly with the
  excerpt it was sent), summed, beside the floor measured in the same run: a plain
  soundfile read of the same window, a plain write of the same patch, and soxr both ways.
* **Peak memory** of that job (a child process each) on a 1-minute and a 60-minute source.
* **Local engine** time per 50 ms gap and per 2 s gap on a 3-minute stereo file.
* **Hosted job** against the fake fal.ai with zero model time, on the same source and
  range: end to end, less the time the fake spent answering (it runs in this process),
  is the bridge's own overhead, set job by job against the floor measured right after
  that job; and the bytes sent to the service against the WAV size of the excerpt.
* **Completion to take on disk**: jobs against the fake fal.ai whose model takes a
  moment: from the instant the fake marks a job COMPLETED to the take being written.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from bridge.audio.align import fit_returned
from bridge.audio.fill import fill_range
from bridge.audio.io import decode_bytes, encode_wav, from_float, probe, read_frames, to_float
from bridge.audio.resample import resample
from bridge.audio.signals import loop
from bridge.audio.splice import splice
from bridge.audio.take import write_manifest, write_patch
from bridge.audio.window import plan_window
from bridge.fakes.server import Seen
from bridge.runtime import prepare_for_jobs

__all__ = ["fill_memory", "peak_memory", "time_completion", "time_floor", "time_hosted", "time_job", "time_local",
           "write_source"]

SR = 48000
MODEL_SR = 44100
RANGE_S = 10.0
CONTEXT_S = 10.0
HANDLES_S = 0.5
REPEATS = 7


def write_source(path: Path, minutes: float, *, sr: int = SR) -> Path:
    """A music-like 24-bit stereo WAV of ``minutes`` minutes, written block by block."""
    block = loop(sr, 20.0, channels=2, seed=1)
    total = round(minutes * 60 * sr)
    rng = np.random.default_rng(3)
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=2, format="WAV", subtype="PCM_24") as f:
        done = 0
        while done < total:
            n = min(len(block), total - done)
            gain = np.float32(rng.uniform(0.6, 1.0))
            f.write(block[:n] * gain)
            done += n
    return path


def time_job(source: Path, out_dir: Path, at_s: float) -> dict[str, float]:
    """One hosted-engine job with an instant model; returns seconds per stage."""
    times: dict[str, float] = {}

    def stage(name: str, fn: Callable[[], object]) -> object:
        t0 = time.perf_counter()
        result = fn()
        times[name] = time.perf_counter() - t0
        return result

    info = probe(source)
    start = round(at_s * info.sr)
    end = start + round(RANGE_S * info.sr)
    win = plan_window(start, end, frames=info.frames, context=round(CONTEXT_S * info.sr),
                      handles=round(HANDLES_S * info.sr))
    native = stage("read window", lambda: read_frames(info, win.read_start, win.read_stop, native=True))
    assert isinstance(native, np.ndarray)
    audio = stage("to float", lambda: to_float(native))
    assert isinstance(audio, np.ndarray)
    sent = stage("resample to model", lambda: resample(audio, info.sr, MODEL_SR))
    assert isinstance(sent, np.ndarray)
    body = stage("encode request audio", lambda: encode_wav(sent, MODEL_SR))
    assert isinstance(body, bytes)
    answer = stage("decode answer", lambda: decode_bytes(body))
    assert isinstance(answer, tuple)
    back = stage("resample from model", lambda: resample(answer[0], answer[1], info.sr))
    assert isinstance(back, np.ndarray)
    s, e = win.local_range
    fitted = stage("align", lambda: fit_returned(audio, back, info.sr, sr=info.sr, start=s, end=e)[0])
    assert isinstance(fitted, np.ndarray)
    spliced = stage("splice", lambda: splice(audio, fitted, start=s, end=e, fade=round(0.02 * info.sr))[0])
    assert isinstance(spliced, np.ndarray)

    def write() -> Path:
        lo, hi = win.local_patch
        patch = native[lo:hi]
        patch[s - lo : e - lo] = from_float(spliced[s:e], info.native_dtype, subtype=info.subtype)
        return write_patch(info, out_dir / "bench-take.wav", patch)

    take = stage("write take", write)
    assert isinstance(take, Path)
    stage("manifest", lambda: write_manifest(take, {"bench": True, "stages": dict(times)}))
    take.unlink()
    take.with_name(take.name + ".json").unlink()
    return times


def time_floor(source: Path, out_dir: Path, at_s: float) -> float:
    """Plain soundfile read and write of the same frames, plus soxr both ways: each the library's one call."""
    info = sf.info(str(source))
    start = round(at_s * info.samplerate)
    read_start = start - round(CONTEXT_S * info.samplerate)
    read_stop = start + round((RANGE_S + CONTEXT_S) * info.samplerate)
    t0 = time.perf_counter()
    data, sr = sf.read(str(source), start=read_start, stop=read_stop, dtype="float32", always_2d=True)
    down = soxr.resample(data, sr, MODEL_SR)  # the library's plain call, on one core
    soxr.resample(down, MODEL_SR, sr)
    patch = read_stop - read_start
    h = round((CONTEXT_S - HANDLES_S) * sr)
    sf.write(str(out_dir / "floor.wav"), data[h : patch - h], sr, subtype="PCM_24")
    elapsed = time.perf_counter() - t0
    (out_dir / "floor.wav").unlink()
    return elapsed


def _peak_rss_mb() -> float:
    """This process's peak resident memory.

    Linux keeps ``ru_maxrss`` across ``execve``, so a child would report its parent's peak;
    ``VmHWM`` belongs to the process's own address space and starts afresh.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def _memory_child(source: str, out_dir: str) -> None:
    """Entry point of the child process that measures one job's peak memory (set up as the daemon is)."""
    prepare_for_jobs()
    time_job(Path(source), Path(out_dir), at_s=probe(source).duration / 2 - RANGE_S / 2)
    print(json.dumps({"peak_mb": _peak_rss_mb()}))


def peak_memory(source: Path, out_dir: Path) -> float:
    code = "import sys; from bridge.cli.bench.audio import _memory_child; _memory_child(sys.argv[1], sys.argv[2])"
    done = subprocess.run([sys.executable, "-c", code, str(source), str(out_dir)], capture_output=True, text=True,
                          check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"])


def time_local(source: Path, gap_s: float, count: int) -> tuple[float, float]:
    """Median seconds of a ``local`` fill of ``gap_s`` (60 s of context each side), and of reading the
    same window: the fill's floor."""
    info = probe(source)
    fills, reads = [], []
    for i in range(count):
        at = round(info.frames * (i + 1) / (count + 1))
        win = plan_window(at, at + round(gap_s * info.sr), frames=info.frames, context=round(60.0 * info.sr),
                          handles=0)
        t0 = time.perf_counter()
        audio = read_frames(info, win.read_start, win.read_stop)
        reads.append(time.perf_counter() - t0)
        s, e = win.local_range
        t0 = time.perf_counter()
        fill_range(audio, info.sr, s, e)
        fills.append(time.perf_counter() - t0)
    return statistics.median(fills), statistics.median(reads)


def _fill_memory_child(source: str) -> None:
    """Entry point of the child that measures one 2 s ``local`` fill's peak beside its floor."""
    floor = _peak_rss_mb()  # the interpreter with the engine imported
    info = probe(source)
    at = info.frames // 2
    win = plan_window(at, at + 2 * info.sr, frames=info.frames, context=round(60.0 * info.sr), handles=0)
    audio = read_frames(info, win.read_start, win.read_stop)
    window = _peak_rss_mb()
    s, e = win.local_range
    fill_range(audio, info.sr, s, e)
    print(json.dumps({"floor_mb": floor, "window_mb": window, "peak_mb": _peak_rss_mb()}))


def fill_memory(source: Path) -> dict[str, float]:
    """Peak memory of one 2 s fill with 60 s of context each side, in a process of its own."""
    code = ("import sys; from bridge.cli.bench.audio import _fill_memory_child; import bridge.engines.local;"
            " _fill_memory_child(sys.argv[1])")
    done = subprocess.run([sys.executable, "-c", code, str(source)], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@dataclass(frozen=True)
class _HostedJob:
    seconds: float
    completion_lag_s: float
    """From the fake marking the job COMPLETED to its take on disk."""
    seen: list[Seen]
    """The requests the fake answered for the job."""
    floor_s: float
    """The audio floor, measured right after the job (0 when not asked for)."""


def _hosted_jobs(source: Path, at_s: float, count: int, *, run_s: float,
                 floor: Callable[[], float] | None = None) -> list[_HostedJob]:
    """A warm-up job, then ``count`` fal inpainting jobs in a row against the fake (its model takes
    ``run_s``), on one open engine as in the daemon; ``floor`` is measured after each, so that
    both see the machine as it was."""
    import asyncio
    import dataclasses

    from bridge.config import ServiceSettings, load_settings
    from bridge.engines.fal import FalEngine
    from bridge.fakes.fal import TEST_KEY, FakeFal
    from bridge.jobs.edit import run_edit
    from bridge.model import EditRequest

    jobs: list[_HostedJob] = []
    with FakeFal(run_s=run_s, gain_db=0.0) as fake:
        settings = dataclasses.replace(
            load_settings(), fal=ServiceSettings(url=fake.queue_url, rest_url=fake.rest_url, key=TEST_KEY))
        req = EditRequest(source=source, start=at_s, end=at_s + RANGE_S, prompt="bench", engine="fal",
                          context_s=CONTEXT_S, patch=True, seed=1)

        servers = (fake.queue, fake.rest)

        async def run() -> None:
            engine = FalEngine(key=TEST_KEY, queue_url=fake.queue_url, rest_url=fake.rest_url)
            try:
                for i in range(count + 1):
                    before = [len(server.requests) for server in servers]
                    t0 = time.perf_counter()
                    take = await run_edit(req, engine, settings)
                    done, took = time.monotonic(), time.perf_counter() - t0
                    completed = fake.jobs[fake.accepted[-1]].completed_at
                    take.path.unlink()
                    take.manifest_path.unlink()
                    floor_s = await asyncio.to_thread(floor) if floor is not None else 0.0
                    if i and completed is not None:
                        seen = [r for server, n in zip(servers, before, strict=True) for r in server.requests[n:]]
                        jobs.append(_HostedJob(took, done - completed, seen, floor_s))
            finally:
                await engine.aclose()

        asyncio.run(run())
    return jobs


def time_hosted(source: Path, out_dir: Path, at_s: float, count: int) -> dict[str, float]:
    """fal inpainting jobs against the fake with zero model time, each followed by the audio floor
    (:func:`time_floor`), medians: the time end to end, the time the fake spent answering (it runs in
    this process), the bridge's own share, the floor, their ratio job by job, and the bytes sent."""
    jobs = _hosted_jobs(source, at_s, count, run_s=0.0, floor=lambda: time_floor(source, out_dir, at_s))
    excerpt_wav = 44 + 4 * round((RANGE_S + 2 * CONTEXT_S) * MODEL_SR)
    in_fake = [sum(r.seconds for r in job.seen) for job in jobs]
    bridge = [j.seconds - f for j, f in zip(jobs, in_fake, strict=True)]
    return {"end_to_end_ms": statistics.median(j.seconds for j in jobs) * 1e3,
            "in_fake_ms": statistics.median(in_fake) * 1e3, "bridge_ms": statistics.median(bridge) * 1e3,
            "floor_ms": statistics.median(j.floor_s for j in jobs) * 1e3,
            "ratio": statistics.median(b / j.floor_s for b, j in zip(bridge, jobs, strict=True)),
            "requests": len(jobs[0].seen), "bytes_sent": sum(r.bytes_in for r in jobs[0].seen),
            "excerpt_wav_bytes": excerpt_wav}


def time_completion(source: Path, at_s: float, count: int, *, run_s: float = 0.5) -> dict[str, float]:
    """From the fake marking each of ``count`` jobs COMPLETED to its take on disk: p50 and p99 in ms."""
    ms = sorted(job.completion_lag_s * 1e3 for job in _hosted_jobs(source, at_s, count, run_s=run_s))
    return {"jobs": float(count), "model_s": run_s, "p50_ms": statistics.median(ms),
            "p99_ms": ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))], "target_p50_ms": 100.0}
