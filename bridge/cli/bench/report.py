"""The bench's run and its report: every measurement, printed beside what it is compared with.

The audio path's measurements are in :mod:`bridge.cli.bench.audio`, the daemon's (control
latency, bursts, throughput, MIDI through JACK) in :mod:`bridge.cli.bench.daemon`; this
module runs both and prints one report (or one JSON document). ``pytest -m bench`` runs
a quick pass as a test.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from bridge.cli.bench.audio import (
    CONTEXT_S,
    RANGE_S,
    REPEATS,
    fill_memory,
    peak_memory,
    time_completion,
    time_floor,
    time_hosted,
    time_job,
    time_local,
    write_source,
)
from bridge.cli.bench.daemon import print_daemon_report, run_daemon_bench
from bridge.runtime import prepare_for_jobs

__all__ = ["run_bench"]


def run_bench(*, as_json: bool = False, quick: bool = False) -> int:
    """Run every measurement and print the report. Returns the exit status."""
    prepare_for_jobs()  # the hosted jobs run here on one open engine, as in the daemon
    long_min, short_min, big_min, local_min = (2.0, 1.0, 5.0, 1.5) if quick else (10.0, 1.0, 60.0, 3.0)
    repeats = 2 if quick else REPEATS
    report: dict[str, object] = {"quick": quick}
    with tempfile.TemporaryDirectory(prefix="inpaint-bench-") as tmp:
        out = Path(tmp)
        src = write_source(out / "long.wav", long_min)
        at = long_min * 60 / 2
        # job and floor alternate, so that both see the same machine
        runs, floors = [], []
        for _ in range(repeats):
            runs.append(time_job(src, out, at))
            floors.append(time_floor(src, out, at))
        stages = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        floor = statistics.median(floors)
        total = sum(stages.values())
        report["job"] = {"source_minutes": long_min, "stages_ms": {k: v * 1e3 for k, v in stages.items()},
                         "sum_ms": total * 1e3, "floor_ms": floor * 1e3, "ratio": total / floor, "target_ratio": 1.5}
        report["hosted"] = {**time_hosted(src, out, at, 2 * repeats), "target_ratio": 1.5}
        report["completion"] = time_completion(src, at, 5 if quick else 20)
        src.unlink()
        small = write_source(out / "short.wav", short_min)
        peak_small = peak_memory(small, out)
        small.unlink()
        big = write_source(out / "big.wav", big_min)
        peak_big = peak_memory(big, out)
        big.unlink()
        report["memory"] = {"short_minutes": short_min, "long_minutes": big_min, "short_peak_mb": peak_small,
                            "long_peak_mb": peak_big, "growth_mb": peak_big - peak_small, "target_growth_mb": 50.0}
        local = write_source(out / "local.wav", local_min)
        (fill_50, read_50), (fill_2, read_2) = time_local(local, 0.05, 5), time_local(local, 2.0, 3)
        memory = fill_memory(local)
        report["local"] = {"source_minutes": local_min, "gap_50ms_ms": fill_50 * 1e3, "read_50ms_ms": read_50 * 1e3,
                           "gap_2s_ms": fill_2 * 1e3, "read_2s_ms": read_2 * 1e3,
                           "ratio_50ms": fill_50 / read_50, "ratio_2s": fill_2 / read_2,
                           "fill_floor_mb": memory["floor_mb"], "fill_window_mb": memory["window_mb"],
                           "fill_peak_mb": memory["peak_mb"], "target_peak_mb": 250.0, "target_50ms_ms": 50.0,
                           "target_2s_ms": 1000.0}
    report["daemon"] = run_daemon_bench(quick=quick)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(report)
    return 0


def _print_report(report: dict[str, object]) -> None:
    job = report["job"]
    mem = report["memory"]
    local = report["local"]
    hosted = report["hosted"]
    assert isinstance(job, dict) and isinstance(mem, dict) and isinstance(local, dict) and isinstance(hosted, dict)
    if report["quick"]:
        print("quick run: small sources, figures are not comparable with the targets")
    print(f"job stages ({job['source_minutes']:g}-min 48 kHz 24-bit stereo source, {RANGE_S:g} s range,"
          f" {CONTEXT_S:g} s context, median of runs):")
    for name, ms in job["stages_ms"].items():
        print(f"  {name:<22}{ms:9.1f} ms")
    print(f"  {'sum':<22}{job['sum_ms']:9.1f} ms")
    print(f"  {'floor':<22}{job['floor_ms']:9.1f} ms   (soundfile read + write of the same frames, soxr both ways)")
    print(f"  overhead ratio        {job['ratio']:9.2f} x    (target <= {job['target_ratio']:g})")
    print(f"peak memory of the job: {mem['short_minutes']:g}-min source {mem['short_peak_mb']:.1f} MB,"
          f" {mem['long_minutes']:g}-min source {mem['long_peak_mb']:.1f} MB,"
          f" growth {mem['growth_mb']:.1f} MB (target <= {mem['target_growth_mb']:g})")
    print(f"local engine ({local['source_minutes']:g}-min 48 kHz stereo): 50 ms gap {local['gap_50ms_ms']:.1f} ms"
          f" (target < {local['target_50ms_ms']:g}), 2 s gap {local['gap_2s_ms']:.1f} ms"
          f" (target < {local['target_2s_ms']:g})")
    print(f"  beside reading the same window: 50 ms gap {local['ratio_50ms']:.1f} x ({local['read_50ms_ms']:.1f} ms),"
          f" 2 s gap {local['ratio_2s']:.1f} x ({local['read_2s_ms']:.1f} ms)")
    print(f"  peak memory of one 2 s fill with 60 s each side: {local['fill_peak_mb']:.0f} MB; floor (interpreter"
          f" with the engine) {local['fill_floor_mb']:.0f} MB, with the window read {local['fill_window_mb']:.0f} MB"
          f" (target <= {local['target_peak_mb']:g})")
    print(f"hosted job against the fake fal.ai (zero model time, same range): end to end"
          f" {hosted['end_to_end_ms']:.1f} ms, in the fake {hosted['in_fake_ms']:.1f} ms,"
          f" bridge {hosted['bridge_ms']:.1f} ms over {hosted['requests']:g} requests; the floor after each job"
          f" {hosted['floor_ms']:.1f} ms; bridge / floor {hosted['ratio']:.2f} x (median job by job, target"
          f" <= {hosted['target_ratio']:g})")
    completion = report["completion"]
    assert isinstance(completion, dict)
    print(f"completion to take on disk ({completion['jobs']:g} jobs against the fake fal.ai, model time"
          f" {completion['model_s']:g} s): p50 {completion['p50_ms']:.1f} ms, p99 {completion['p99_ms']:.1f} ms"
          f" (target p50 <= {completion['target_p50_ms']:g})")
    sent, wav = hosted["bytes_sent"], hosted["excerpt_wav_bytes"]
    print(f"bytes sent per job: {sent / 1e6:.2f} MB for an excerpt of {wav / 1e6:.2f} MB as WAV ({sent / wav:.2f} x)")
    daemon = report["daemon"]
    assert isinstance(daemon, dict)
    print_daemon_report(daemon)
