"""The wavespeed engine end to end against the fake WaveSpeedAI over loopback HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.engines.base import Progress
from bridge.errors import BadValue, EngineError, EngineRejected, EngineTimeout, EngineUnavailable
from bridge.fakes.wavespeed import FakeWaveSpeed
from bridge.model import Operation

from .conftest import Crash, assert_tone, check_take, edit, manifest, store_then_die, wavespeed_engine


def test_inpainting_uploads_polls_and_splices(wavespeed: FakeWaveSpeed, source: Path) -> None:
    progress: list[Progress] = []
    take = edit(wavespeed_engine(wavespeed), source, 10.0, 13.0, progress=progress)
    inside = check_take(take, source, 10.0, 13.0)
    m = manifest(take)
    assert m["model"] == "stability-ai/stable-audio-3/audio-inpainting"
    assert m["remote_request_id"] == wavespeed.accepted[0]
    body = wavespeed.predictions[wavespeed.accepted[0]].body
    assert body["audio"].startswith(wavespeed.url + "/media/") and body["num_inference_steps"] == 8
    assert abs(m["fit"]["gain_db"] - 1.5) < 0.05
    a, b = (round((body[k] - 10.0) * 44100) for k in ("mask_start_seconds", "mask_end_seconds"))
    assert_tone(inside[a:b], 44100, seed=7)  # no seed is sent (none is documented): the service picks its own
    assert "seed" not in body and m["seed_used"] is False and any("takes no seed" in n for n in m["notes"])
    assert [p.state for p in progress][:5] == ["reading", "uploading", "submitting", "submitted", "queued"]
    assert wavespeed.server.count("ticket") == 1 and wavespeed.server.count("put") == 1
    assert wavespeed.server.count("upload") == 0 and wavespeed.submits() == 1
    # created, processing, completed: the completed answer carries the outputs, nothing is fetched twice
    assert wavespeed.server.count("result") == 3


def test_transform_with_a_codec_delay(source: Path) -> None:
    with FakeWaveSpeed(created_polls=0, processing_polls=0, delay=2112) as fake:
        take = edit(wavespeed_engine(fake), source, 12.0, 14.0)
        assert manifest(take)["fit"]["lag"] == 2112
        take = edit(wavespeed_engine(fake), source, 5.0, 7.5, operation=Operation.TRANSFORM,
                    params={"strength": 1.0}, seed=4)
        assert_tone(check_take(take, source, 5.0, 7.5)[2000:-2000], 44100, seed=7)  # the service's seed, not ours
        assert fake.submits() == 2


@pytest.mark.parametrize("kind,fault", [("result", "ingress_502"), ("result", "rate_limit"), ("result", "drop"),
                                        ("ticket", "ingress_503"), ("put", "server_error"), ("upload", "ingress_503"),
                                        ("media", "server_error")])
def test_transient_faults_are_retried_with_one_submit(source: Path, kind: str, fault: str) -> None:
    with FakeWaveSpeed(created_polls=0, processing_polls=1) as fake:
        fake.legacy_only = kind == "upload"  # the binary upload is what a service without tickets gets
        fake.server.faults.add(kind, fault, times=2)
        take = edit(wavespeed_engine(fake), source, 14.0, 14.2, context_s=3.0)
        check_take(take, source, 14.0, 14.2)
        assert fake.submits() == 1


@pytest.mark.parametrize("fault", ["ingress_502", "drop"])
def test_ambiguous_submit_failures_are_never_resent(wavespeed: FakeWaveSpeed, source: Path, fault: str) -> None:
    wavespeed.server.faults.add("submit", fault)
    with pytest.raises(EngineError):
        edit(wavespeed_engine(wavespeed), source, 14.0, 14.2, context_s=3.0)
    assert wavespeed.server.count("submit") == 1


def test_failed_prediction_reports_the_service_error(wavespeed: FakeWaveSpeed, source: Path) -> None:
    wavespeed.job_faults.add("job", "failed")
    with pytest.raises(EngineError, match="failed: inference failed: CUDA out of memory"):
        edit(wavespeed_engine(wavespeed), source, 14.0, 14.2, context_s=3.0)


def test_errors_name_the_key_variable_and_the_field(wavespeed: FakeWaveSpeed, source: Path) -> None:
    with pytest.raises(EngineUnavailable, match="invalid authentication.*WAVESPEED_API_KEY") as caught:
        edit(wavespeed_engine(wavespeed, key="nope-secret"), source, 14.0, 14.2, context_s=3.0)
    assert "nope-secret" not in str(caught.value)
    with pytest.raises(EngineUnavailable, match="set WAVESPEED_API_KEY"):
        edit(wavespeed_engine(wavespeed, key=None), source, 14.0, 14.2)
    with pytest.raises(BadValue, match=r"guidance = 30: must be a number in range 0\.\.25"):
        edit(wavespeed_engine(wavespeed), source, 14.0, 14.2, params={"guidance": 30})
    with pytest.raises(BadValue, match="operation"):
        edit(wavespeed_engine(wavespeed), source, 14.0, 14.2, operation=Operation.GENERATE)
    assert wavespeed.submits() == 0


def test_service_validation_message_is_shown(wavespeed: FakeWaveSpeed, source: Path) -> None:
    """The service's own validation text reaches the user (here a request built without the bridge's planning)."""
    import asyncio

    import httpx

    from bridge.engines.models import find_model
    from bridge.engines.wavespeed import WaveSpeedWire

    spec = find_model("wavespeed", None, Operation.INPAINT)

    async def go() -> None:
        async with httpx.AsyncClient() as client:
            await WaveSpeedWire(client, wavespeed.key, wavespeed.url).submit(spec, {"prompt": "x", "audio": "u",
                                                                                  "mask_start_seconds": 3,
                                                                                  "mask_end_seconds": 2})

    with pytest.raises(EngineRejected, match="mask_end_seconds must be greater than mask_start_seconds"):
        asyncio.run(go())


def test_resume_from_a_stored_prediction_id(wavespeed: FakeWaveSpeed, source: Path) -> None:
    stored: list[str] = []
    with pytest.raises(Crash):
        edit(wavespeed_engine(wavespeed), source, 14.0, 14.2, context_s=3.0, on_progress=store_then_die(stored))
    take = edit(wavespeed_engine(wavespeed), source, 14.0, 14.2, context_s=3.0, resume_id=stored[0])
    assert manifest(take)["remote_request_id"] == stored[0] and wavespeed.submits() == 1


def test_a_deadline_says_the_prediction_goes_on_and_is_billed(source: Path) -> None:
    with FakeWaveSpeed(created_polls=0, processing_polls=100_000) as fake:
        with pytest.raises(EngineTimeout) as caught:
            edit(wavespeed_engine(fake), source, 10.0, 11.0, deadline_s=1.5)
        [prediction] = fake.accepted
    message = str(caught.value)
    assert f"WaveSpeed has no cancel: prediction {prediction} goes on at the service and is billed" in message
    assert f"inpaint-bridge resume {prediction} --engine wavespeed" in message


def test_a_service_without_upload_tickets_gets_the_binary_upload(source: Path) -> None:
    with FakeWaveSpeed(created_polls=0, processing_polls=0) as fake:
        fake.legacy_only = True
        take = edit(wavespeed_engine(fake), source, 10.0, 11.0)
        check_take(take, source, 10.0, 11.0)
        assert fake.server.count("ticket") == 1 and fake.server.count("upload") == 1 and fake.submits() == 1
