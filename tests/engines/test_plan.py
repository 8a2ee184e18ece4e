"""Request planning per model, and the model table's parameter checks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.engines.base import Fit
from bridge.engines.models import MODELS, MaskStyle, ModelSpec, find_model
from bridge.engines.plan import check_plan, plan_request
from bridge.errors import BadValue, EngineRejected
from bridge.model import Operation

SR = 48000
SA3 = find_model("fal", None, Operation.INPAINT)
SA25 = find_model("fal", "fal-ai/stable-audio-25/inpaint", Operation.INPAINT)
OPEN = find_model("fal", None, Operation.GENERATE)
A2A = find_model("wavespeed", None, Operation.TRANSFORM)


@pytest.mark.parametrize("start_s,end_s,superset", [(30.0, 34.0, False), (30.0, 30.1, True), (3.0, 5.0, False)])
def test_sa3_mask_is_on_the_latent_grid_with_transition_zones(start_s: float, end_s: float, superset: bool) -> None:
    frames, start, end = 120 * SR, round(start_s * SR), round(end_s * SR)
    plan = plan_request(SA3, frames=frames, sr=SR, start=start, end=end, fade=round(0.02 * SR))
    assert plan.fit is Fit.ALIGN and plan.superset is superset
    assert plan.lo == max(0, start - 10 * SR) and plan.hi == end + 10 * SR
    assert plan.mask is not None
    a, b = plan.mask
    for t in (a, b):
        assert abs(t * 44100 / 4096 - round(t * 44100 / 4096)) < 1e-9
    range_s = ((start - plan.lo) / SR, (end - plan.lo) / SR)
    zone = 4096 / 44100 + 0.02
    if superset:
        assert a <= range_s[0] and b >= range_s[1]
    else:
        assert a >= range_s[0] + zone - 1e-9 and b <= range_s[1] - zone + 1e-9


@pytest.mark.parametrize("start_s,end_s", [(30.0, 34.5), (30.2, 30.6), (2.5, 9.0), (100.0, 110.3)])
def test_sa25_mask_and_excerpt_are_whole_seconds(start_s: float, end_s: float) -> None:
    frames = 115 * SR
    start, end = round(start_s * SR), round(end_s * SR)
    plan = plan_request(SA25, frames=frames, sr=SR, start=start, end=end, fade=960)
    assert plan.mask is not None and plan.duration is not None
    a, b = plan.mask
    assert a == int(a) and b == int(b) and b - a >= 1 and 6 <= plan.duration <= 190
    assert plan.hi - plan.lo == int(plan.duration) * SR or plan.hi == frames
    mask_lo, mask_hi = plan.lo + int(a) * SR, plan.lo + int(b) * SR
    if plan.superset:
        assert mask_lo <= start and mask_hi >= end
    else:
        assert start < mask_lo < mask_hi < end


def test_generate_and_transform_are_placed_on_the_range() -> None:
    plan = plan_request(OPEN, frames=60 * SR, sr=SR, start=SR, end=round(3.2 * SR), fade=960)
    assert plan.fit is Fit.PLACE and (plan.lo, plan.hi) == (SR, round(3.2 * SR)) and plan.duration == 3
    with pytest.raises(BadValue, match="generates at most 47 s"):
        plan_request(OPEN, frames=60 * SR, sr=SR, start=0, end=50 * SR, fade=960)
    plan = plan_request(A2A, frames=60 * SR, sr=SR, start=SR, end=3 * SR, fade=960)
    assert plan.fit is Fit.PLACE and plan.duration == 2.0


def test_short_sources_are_refused_for_sa25() -> None:
    with pytest.raises(EngineRejected, match="at least 6 s"):
        plan_request(SA25, frames=4 * SR, sr=SR, start=SR, end=2 * SR, fade=960)


@pytest.mark.parametrize("given,ok", [
    ({"steps": 30}, {"num_inference_steps": 30}),
    ({"num_inference_steps": "12"}, {"num_inference_steps": 12}),
    ({"enable_prompt_expansion": "yes"}, {"enable_prompt_expansion": True}),
    ({"guidance": 0}, {"guidance_scale": 0.0}),
])
def test_parameters_accept_aliases_and_strings(given: dict[str, object], ok: dict[str, object]) -> None:
    resolved = SA3.resolve(given)
    for key, value in ok.items():
        assert resolved[key] == value and type(resolved[key]) is type(value)


@pytest.mark.parametrize("given,field", [({"steps": 0}, "steps"), ({"steps": True}, "steps"),
                                         ({"sync_mode": "maybe"}, "sync_mode"), ({"colour": 1}, "colour"),
                                         ({"guidance": float("nan")}, "guidance")])
def test_bad_parameters_name_the_field(given: dict[str, object], field: str) -> None:
    with pytest.raises(BadValue) as caught:
        SA3.resolve(given)
    assert caught.value.field == field


def test_every_model_row_is_complete() -> None:
    ids = [m.id for m in MODELS]
    assert len(ids) == len(set(ids))
    for m in MODELS:
        assert m.service in {"fal", "wavespeed"} and m.max_input_s > m.min_input_s > 0
        assert m.grid in {2048, 4096} and m.sr == 44100
        for p in m.params:
            if p.default is not None:
                assert p.check(p.default) == p.default


INPAINTERS = [m for m in MODELS if m.operation is Operation.INPAINT]


@settings(max_examples=300)
@given(model=st.sampled_from(INPAINTERS), sr=st.sampled_from([44100, 48000]),
       seconds=st.floats(1.0, 200.0), where=st.floats(0.0, 1.0), length=st.floats(0.01, 30.0))
def test_every_plan_the_planner_accepts_keeps_the_models_rules(model: ModelSpec, sr: int, seconds: float,
                                                               where: float, length: float) -> None:
    frames = round(seconds * sr)
    start = min(frames - 2, round(where * frames))
    end = min(frames, start + max(1, round(length * sr)))
    try:
        plan = plan_request(model, frames=frames, sr=sr, start=start, end=end, fade=round(0.02 * sr))
    except (BadValue, EngineRejected):
        return  # refused before anything is sent: that is allowed
    assert plan.mask is not None
    a, b = plan.mask
    excerpt_s = (plan.hi - plan.lo) / sr
    assert 0 <= plan.lo < plan.hi <= frames
    assert model.min_input_s - 1e-6 <= excerpt_s <= model.max_input_s + 1e-6
    assert 0 <= a < b <= excerpt_s + 1.0 / model.sr  # the excerpt is sent resampled to the model's rate
    if model.mask is MaskStyle.WHOLE_SECONDS:
        assert plan.duration is not None and a == int(a) and b == int(b) and b <= plan.duration
        assert plan.hi - plan.lo == plan.duration * sr  # seconds_total is the excerpt, never more
    if plan.superset:
        assert plan.lo + a * sr <= start + 1 and plan.lo + b * sr >= end - 1
    check_plan(model, plan, frames=frames, sr=sr, start=start, end=end)


def test_sa25_at_the_end_of_a_file_stays_inside_it() -> None:
    frames = 20 * SR  # demo.wav, 19.5-20 s: the mask used to run a second past the excerpt
    plan = plan_request(SA25, frames=frames, sr=SR, start=round(19.5 * SR), end=frames, fade=960)
    assert plan.mask is not None and plan.duration is not None
    assert plan.hi == frames and plan.hi - plan.lo == plan.duration * SR and plan.mask[1] <= plan.duration
