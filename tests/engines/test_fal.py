"""The fal engine end to end against the fake fal.ai over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge.cli.example import write_example
from bridge.engines.base import Progress
from bridge.errors import AlignmentError, BadValue, EngineError, EngineRejected, EngineTimeout, EngineUnavailable
from bridge.fakes.fal import UNSEEDED, FakeFal
from bridge.model import Operation

from .conftest import Crash, assert_tone, check_take, edit, fal_engine, manifest, store_then_die

SA3 = "fal-ai/stable-audio-3/small/sfx/base/audio-inpainting"
SA25 = "fal-ai/stable-audio-25/inpaint"


@pytest.mark.parametrize("start,end,superset", [(10.0, 13.0, False), (10.0, 10.3, True)])
def test_sa3_inpaint_places_the_model_fill_in_the_range(fal: FakeFal, source: Path, start: float, end: float,
                                                        superset: bool) -> None:
    progress: list[Progress] = []
    take = edit(fal_engine(fal), source, start, end, progress=progress)
    inside = check_take(take, source, start, end)
    m = manifest(take)
    assert m["engine"] == "fal" and m["model"] == SA3 and m["remote_request_id"] == fal.accepted[0]
    assert m["engine_details"]["superset_mask"] is superset
    inputs = m["engine_details"]["inputs"]
    assert inputs["num_inference_steps"] == 50 and inputs["guidance_scale"] == 7.0 and inputs["output_format"] == "flac"
    # the mask lies on the 4096-sample latent grid of the 44.1 kHz excerpt
    for key in ("mask_start_seconds", "mask_end_seconds"):
        assert abs(inputs[key] * 44100 / 4096 - round(inputs[key] * 44100 / 4096)) < 1e-9
    fit = m["fit"]
    assert fit["lag"] == 0 and fit["ncc"] > 0.99 and abs(fit["gain_db"] - 1.5) < 0.05
    if not superset:
        # the excerpt starts 10 s before the range: mask times minus 10 s are offsets into the range
        a, b = (round((inputs[k] - 10.0) * 44100) for k in ("mask_start_seconds", "mask_end_seconds"))
        assert 0 < a < b < len(inside)
        assert_tone(inside[a:b], 44100, seed=3)
    states = [p.state for p in progress]
    assert states[:4] == ["reading", "uploading", "submitting", "submitted"] and "queued" in states
    assert states[-2:] == ["fitting", "writing"]
    assert any(p.queue_position == 0 for p in progress)
    assert fal.submits() == 1


@pytest.mark.parametrize("delay", [1105, 2112, 2257])
def test_codec_delays_are_found_and_undone(source: Path, delay: int) -> None:
    with FakeFal(queue_polls=0, progress_polls=0, delay=delay, gain_db=-4.0) as fake:
        take = edit(fal_engine(fake), source, 12.0, 14.0)
    fit = manifest(take)["fit"]
    assert fit["lag"] == delay and fit["lag_left"] == delay and fit["lag_right"] == delay
    assert abs(fit["gain_db"] - 4.0) < 0.05 and min(fit["rho"]) > 0.99
    check_take(take, source, 12.0, 14.0)


def test_sa25_mask_falls_on_whole_seconds(fal: FakeFal, source: Path) -> None:
    take = edit(fal_engine(fal), source, 11.3, 14.8, model=SA25)
    inputs = manifest(take)["engine_details"]["inputs"]
    assert isinstance(inputs["mask_start"], int) and isinstance(inputs["mask_end"], int)
    assert isinstance(inputs["seconds_total"], int) and 6 <= inputs["seconds_total"] <= 190
    assert inputs["mask_end"] - inputs["mask_start"] >= 1
    assert inputs["num_inference_steps"] == 8 and "negative_prompt" not in inputs
    check_take(take, source, 11.3, 14.8)


@pytest.mark.parametrize("start,end", [(8.0, 8.1), (8.0, 8.3), (8.0, 9.05), (19.5, 20.0)])
def test_sa25_on_the_example_short_long_and_at_the_end(fal: FakeFal, tmp_path: Path, start: float,
                                                       end: float) -> None:
    demo = write_example(tmp_path / "demo.wav")  # the file the README suggests trying
    take = edit(fal_engine(fal), demo, start, end, model=SA25)
    check_take(take, demo, start, end)
    doc = manifest(take)
    inputs = doc["engine_details"]["inputs"]
    assert inputs["mask_end"] <= inputs["seconds_total"] and fal.submits() == 1
    regenerated = doc["regenerated"]
    covered = regenerated["start"] <= start + 1e-6 and regenerated["end"] >= end - 1e-6
    assert covered or any("the model regenerated" in note for note in doc["notes"]), doc


def test_a_refused_paid_answer_is_kept_and_can_be_accepted(fal: FakeFal, source: Path) -> None:
    fal.garbled = True
    with pytest.raises(AlignmentError) as caught:
        edit(fal_engine(fal), source, 12.0, 12.5)
    message = str(caught.value)
    request_id = fal.accepted[0]
    assert f"request {request_id}" in message and "--accept-misaligned" in message
    kept = Path(message.split(" is kept as ")[1].split(", to lay")[0])
    assert kept.exists() and sf.info(kept).samplerate == 44100
    doc = json.loads(kept.with_name(kept.name + ".json").read_text())
    assert doc["remote_request_id"] == request_id and "correlation" in doc["refused_because"]
    take = edit(fal_engine(fal), source, 12.0, 12.5, accept_misaligned=True)
    assert manifest(take)["fit"]["accepted_misaligned"] is True
    check_take(take, source, 12.0, 12.5)


def test_the_seed_and_prompt_sa3_used_are_recorded(fal: FakeFal, source: Path) -> None:
    take = edit(fal_engine(fal), source, 12.0, 12.5, seed=11, params={"enable_prompt_expansion": True})
    details = manifest(take)["engine_details"]
    assert details["service_seed"] == 11 and details["service_prompt"].endswith(", rich and detailed")
    assert details["billed_units"] == "1"


def test_transform_and_generate_fill_the_range(fal: FakeFal, source: Path) -> None:
    take = edit(fal_engine(fal), source, 5.0, 8.0, operation=Operation.TRANSFORM, params={"strength": 1.0}, seed=7)
    inputs = manifest(take)["engine_details"]["inputs"]
    assert inputs["init_noise_level"] == 1.0 and inputs["duration"] == 3.0
    inside = check_take(take, source, 5.0, 8.0)
    assert_tone(inside[2000:-2000], 44100, seed=7)

    take = edit(fal_engine(fal), source, 20.0, 22.5, operation=Operation.GENERATE, seed=5, params={"steps": 20})
    m = manifest(take)
    assert m["model"] == "fal-ai/stable-audio" and m["engine_details"]["inputs"]["seconds_total"] == 3
    assert "seed" not in m["engine_details"]["inputs"]
    assert any("takes no seed" in note for note in m["notes"])
    inside = check_take(take, source, 20.0, 22.5)
    assert_tone(inside[2000:-2000], 44100, seed=UNSEEDED)
    assert fal.submits() == 2


def test_large_excerpts_go_through_storage_small_ones_inline(fal: FakeFal, source: Path) -> None:
    edit(fal_engine(fal), source, 14.0, 14.2)  # 20.2 s excerpt: 3.6 MB WAV
    assert fal.rest.count("initiate") == 1 and fal.rest.count("upload") == 1
    body = fal.jobs[fal.accepted[0]].body
    assert body["audio_url"].startswith(fal.rest_url + "/files/")
    edit(fal_engine(fal), source, 14.0, 14.2, context_s=3.0)  # 6.2 s: inline data URI
    assert fal.jobs[fal.accepted[1]].body["audio_url"].startswith("data:audio/wav;base64,")
    assert fal.rest.count("initiate") == 1


TRANSIENT = ["ingress_502", "ingress_503", "ingress_504", "rate_limit", "server_error", "drop", "slow"]
FAULT_CASES = [("status", f) for f in TRANSIENT] + [
    (kind, f) for kind in ("result", "file", "initiate", "upload") for f in ("ingress_502", "rate_limit", "drop")
]


@pytest.mark.parametrize("kind,fault", FAULT_CASES)
def test_transient_faults_are_retried_with_one_submit(source: Path, kind: str, fault: str) -> None:
    # status faults on a service without the status stream, which is polled
    with FakeFal(queue_polls=0, progress_polls=1, stream=kind != "status") as fake:
        fake.queue.faults.slow_s = fake.rest.faults.slow_s = 0.3
        server = fake.rest if kind in {"file", "initiate", "upload"} else fake.queue
        server.faults.add(kind, fault, times=2)
        # a 20 s excerpt goes through the storage upload; the others may stay small
        take = edit(fal_engine(fake), source, 14.0, 14.2, context_s=None if kind in {"initiate", "upload"} else 3.0)
        check_take(take, source, 14.0, 14.2)
        assert fake.submits() == 1 and server.count(kind) >= (1 if fault == "slow" else 3)


@pytest.mark.parametrize("fault", ["ingress_502", "rate_limit", "server_error", "drop", "drop_midway"])
def test_a_broken_status_stream_falls_back_to_a_poll_and_is_reopened(source: Path, fault: str) -> None:
    with FakeFal(queue_polls=2, progress_polls=2) as fake:
        fake.queue.faults.add("stream", fault)
        take = edit(fal_engine(fake), source, 14.0, 14.2, context_s=3.0)
        check_take(take, source, 14.0, 14.2)
        assert fake.submits() == 1 and fake.queue.count("status") == 1 and fake.queue.count("stream") == 2


@pytest.mark.parametrize("sync_mode", [False, True])
def test_the_job_is_followed_on_the_status_stream(fal: FakeFal, source: Path, sync_mode: bool) -> None:
    progress: list[Progress] = []
    take = edit(fal_engine(fal), source, 14.0, 14.2, context_s=3.0, progress=progress,
                params={"sync_mode": sync_mode})
    check_take(take, source, 14.0, 14.2)
    kinds = [seen.kind for seen in fal.queue.requests + fal.rest.requests]
    # a 6.2 s excerpt goes inline; the result is downloaded, unless it comes inline (sync_mode)
    assert kinds == ["submit", "stream", "result"] + ([] if sync_mode else ["file"])
    states = [p.state for p in progress]
    assert "queued" in states and "running" in states


def test_a_service_without_the_stream_is_polled(source: Path) -> None:
    with FakeFal(queue_polls=1, progress_polls=1, stream=False) as fake:
        edit(fal_engine(fake), source, 14.0, 14.2, context_s=3.0)
        assert fake.queue.count("stream") == 1 and fake.queue.count("status") == 3  # asked once, then polled


def test_a_stream_that_never_says_anything_is_given_up_for_polling(source: Path) -> None:
    with FakeFal(queue_polls=3, progress_polls=1) as fake:
        fake.queue.faults.add("stream", "ingress_502", times=10)
        edit(fal_engine(fake), source, 14.0, 14.2, context_s=3.0)
        assert fake.queue.count("stream") == 3 and fake.queue.count("status") == 5 and fake.submits() == 1


def test_submit_rate_limit_is_retried_after_the_wait(fal: FakeFal, source: Path, backoff: list[float]) -> None:
    fal.queue.faults.add("submit", "rate_limit")
    edit(fal_engine(fal), source, 14.0, 14.2)
    assert backoff == [1.0]  # Retry-After: 1
    assert fal.queue.count("submit") == 2 and fal.submits() == 1


@pytest.mark.parametrize("fault,accepted", [("ingress_502", 0), ("ingress_504", 0), ("user_timeout", 0),
                                            ("server_error", 0), ("drop", 0), ("drop_after_accept", 1)])
def test_ambiguous_submit_failures_are_never_resent(fal: FakeFal, source: Path, fault: str, accepted: int) -> None:
    fal.queue.faults.add("submit", fault)
    with pytest.raises(EngineError) as caught:
        edit(fal_engine(fal), source, 14.0, 14.2)
    assert fal.queue.count("submit") == 1 and fal.submits() == accepted
    assert "fal" in str(caught.value)
    if fault.startswith("drop"):
        assert "not re-sent" in str(caught.value)


def test_submit_is_retried_when_the_connection_never_reached_the_server(source: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake = FakeFal(queue_polls=0, progress_polls=0, queue_port=port)
    fake.rest.start()
    starter = threading.Timer(0.4, fake.queue.start)
    starter.start()
    try:
        take = edit(fal_engine(fake), source, 14.0, 14.2, context_s=3.0)
    finally:
        starter.join()
        fake.stop()
    assert fake.submits() == 1 and take.path.exists()


@pytest.mark.parametrize("job_fault,words", [("runner_disconnected", "Runner disconnected"),
                                             ("request_timeout", "Request timed out")])
def test_failed_jobs_report_the_service_error(fal: FakeFal, source: Path, job_fault: str, words: str) -> None:
    fal.job_faults.add("job", job_fault)
    with pytest.raises(EngineError, match=words):
        edit(fal_engine(fal), source, 14.0, 14.2)
    assert fal.submits() == 1


def test_an_answer_file_cut_short_is_reported_with_its_request(fal: FakeFal, source: Path) -> None:
    fal.rest.faults.add("file", "truncated")
    with pytest.raises(EngineError, match=r"fal: .*: returned audio: ends before the \d+ frames its header promises"
                                          r" \(cut short\) \(request ") as caught:
        edit(fal_engine(fal), source, 14.0, 14.2, context_s=3.0)
    assert fal.accepted[0] in str(caught.value) and fal.submits() == 1


def test_auth_errors_name_the_key_and_keep_it_secret(fal: FakeFal, source: Path) -> None:
    with pytest.raises(EngineUnavailable, match="No user found for Key ID and Secret.*FAL_KEY") as caught:
        edit(fal_engine(fal, key="wrong-id:wrong-secret"), source, 14.0, 14.2, context_s=3.0)
    assert "wrong-secret" not in str(caught.value)
    fal.locked = True
    with pytest.raises(EngineUnavailable, match="Exhausted balance"):
        edit(fal_engine(fal), source, 14.0, 14.2, context_s=3.0)
    with pytest.raises(EngineUnavailable, match="set FAL_KEY"):
        edit(fal_engine(fal, key=None), source, 14.0, 14.2, context_s=3.0)
    assert fal.submits() == 0


@pytest.mark.parametrize("params,field,words", [
    ({"steps": 500}, "steps", "1..100"),
    ({"guidance": -1}, "guidance", "0..25"),
    ({"output_format": "mp3"}, "output_format", "wav, flac"),
    ({"strength": 0.5}, "strength", "not a parameter"),
    ({"steps": 2.5}, "steps", "whole number"),
])
def test_bad_parameters_are_refused_before_any_call(fal: FakeFal, source: Path, params: dict[str, object],
                                                    field: str, words: str) -> None:
    with pytest.raises(BadValue, match=words) as caught:
        edit(fal_engine(fal), source, 14.0, 14.2, params=params)
    assert caught.value.field == field
    assert fal.queue.requests == [] and fal.rest.requests == []


def test_ranges_and_sources_a_model_cannot_take_are_refused_before_any_call(fal: FakeFal, source: Path,
                                                                             tmp_path: Path) -> None:
    with pytest.raises(BadValue, match="end - start = 0.5: .* transforms 1 to 120 s"):
        edit(fal_engine(fal), source, 4.0, 4.5, operation=Operation.TRANSFORM)
    with pytest.raises(BadValue, match="prompt"):
        edit(fal_engine(fal), source, 14.0, 14.2, prompt="  ")
    short = tmp_path / "short.wav"
    sf.write(short, sf.read(source)[0][: 4 * 44100], 44100)
    with pytest.raises(EngineRejected, match="needs at least 6 s of audio around the range; .* room for 3.00 s"):
        edit(fal_engine(fal), short, 1.0, 2.5, model=SA25)
    assert fal.queue.requests == []


def test_service_422_detail_is_shown_as_written(fal: FakeFal) -> None:
    from bridge.engines.fal import FalWire
    from bridge.engines.models import find_model

    spec = find_model("fal", SA3, Operation.INPAINT)

    async def go() -> None:
        import httpx

        async with httpx.AsyncClient() as client:
            wire = FalWire(client, fal.key, fal.queue_url, fal.rest_url)
            remote = await wire.submit(spec, {"audio_url": "data:audio/wav;base64,", "mask_start_seconds": 1,
                                              "mask_end_seconds": 2})
            from bridge.engines.base import EngineJob
            from bridge.engines.remote import Clock

            job = EngineJob(Operation.INPAINT, np.zeros((10, 2), np.float32), 44100, 0, 1, "x", "", 0, 0)
            await wire.wait(remote, Clock(), job)
            await wire.fetch(spec, remote)

    with pytest.raises(EngineRejected, match=r"refused the request: prompt: Field required"):
        asyncio.run(go())


def test_deadline_cancels_the_remote_job_and_says_what_fal_answered(source: Path) -> None:
    with FakeFal(queue_polls=10_000) as fake:
        with pytest.raises(EngineTimeout, match="deadline of 1.5 s") as caught:
            edit(fal_engine(fake), source, 14.0, 14.2, context_s=3.0, deadline_s=1.5)
        assert fake.cancels == fake.accepted and fake.submits() == 1
        assert f"fal stops request {fake.accepted[0]} (CANCELLATION_REQUESTED)" in str(caught.value)


def test_an_error_after_the_submit_names_the_request(fal: FakeFal, source: Path) -> None:
    fal.queue.faults.add("result", "server_error", times=100)
    with pytest.raises(EngineError) as caught:
        edit(fal_engine(fal), source, 14.0, 14.2, context_s=3.0)
    assert f"request {fal.accepted[0]}" in str(caught.value) and fal.submits() == 1


def test_resume_from_a_stored_request_id(fal: FakeFal, source: Path) -> None:
    stored: list[str] = []
    with pytest.raises(Crash):
        edit(fal_engine(fal), source, 14.0, 14.2, context_s=3.0, on_progress=store_then_die(stored))
    assert stored == fal.accepted and fal.cancels == []
    take = edit(fal_engine(fal), source, 14.0, 14.2, context_s=3.0, resume_id=stored[0])
    assert manifest(take)["remote_request_id"] == stored[0]
    assert fal.submits() == 1
    check_take(take, source, 14.0, 14.2)


def test_expired_results_are_reported(source: Path) -> None:
    with FakeFal(queue_polls=0, progress_polls=1, result_ttl_s=0.0) as fake:
        fake.queue.faults.slow_s = 0.05
        fake.queue.faults.add("result", "slow")
        with pytest.raises(EngineError, match="expire"):
            edit(fal_engine(fake), source, 14.0, 14.2, context_s=3.0)


def test_unreachable_endpoint_fails_after_bounded_retries(source: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from bridge.engines.fal import FalEngine
    from bridge.fakes.fal import TEST_KEY

    engine = FalEngine(key=TEST_KEY, queue_url=f"http://127.0.0.1:{port}", rest_url=f"http://127.0.0.1:{port}")
    with pytest.raises(EngineUnavailable, match="cannot connect.*after 5 attempts"):
        edit(engine, source, 14.0, 14.2, context_s=3.0)


def test_concurrency_limit_holds_jobs_back(source: Path) -> None:
    """Three jobs on an engine limited to two: the third is submitted only when one has finished."""
    with FakeFal(queue_polls=0, progress_polls=3) as fake:
        engine = fal_engine(fake, concurrency=2)
        seen: list[int] = []

        def watch(progress: Progress) -> None:
            if progress.state == "submitted":
                seen.append(sum(1 for j in fake.jobs.values() if j.state != "COMPLETED"))

        async def three() -> None:
            from bridge.config import load_settings
            from bridge.jobs.edit import run_edit
            from bridge.model import EditRequest

            req = EditRequest(source=source, start=14.0, end=14.2, prompt="x", engine="fal", patch=True, seed=1,
                              context_s=3.0)
            try:
                await asyncio.gather(*(run_edit(req, engine, load_settings(), on_progress=watch) for _ in range(3)))
            finally:
                await engine.aclose()

        asyncio.run(three())
        assert fake.submits() == 3 and max(seen) <= 2


def test_sync_mode_answers_inline(fal: FakeFal, source: Path) -> None:
    take = edit(fal_engine(fal), source, 14.0, 14.2, context_s=3.0, params={"sync_mode": True})
    assert manifest(take)["engine_details"]["inputs"]["sync_mode"] is True
    assert fal.rest.count("file") == 0
    check_take(take, source, 14.0, 14.2)


def test_keys_stay_out_of_logs(fal: FakeFal, source: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.DEBUG):
        take = edit(fal_engine(fal), source, 14.0, 14.2, context_s=3.0)
    assert fal.key.split(":")[1] not in caplog.text
    assert fal.key.split(":")[1] not in take.manifest_path.read_text()


def test_server_sent_events_are_read_as_the_standard_says() -> None:
    from bridge.engines.fal import read_events

    lines = [": keep-alive", "", "event: status", "id: 1", 'data: {"status":', 'data:"IN_QUEUE"}', "", "retry: 10",
             "", 'data: {"status": "COMPLETED"}']

    async def collect() -> list[str]:
        async def source() -> AsyncIterator[str]:
            for line in lines:
                yield line

        return [data async for data in read_events(source())]

    assert asyncio.run(collect()) == ['{"status":\n"IN_QUEUE"}', '{"status": "COMPLETED"}']
