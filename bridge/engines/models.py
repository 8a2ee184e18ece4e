"""The hosted models, one row of data each (remote-apis.md §4).

A row says which service runs the model, what it does, how its request is shaped (which
field carries the audio, how the mask is given, where the answer's file is) and every
parameter a user may set, with its range and default. Validation, request building,
``inpaint-bridge engines`` and the manifest all read these rows; nothing about a model
lives in branches elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bridge import checks
from bridge.errors import BadValue
from bridge.model import Operation, Value

__all__ = ["MODELS", "MaskStyle", "ModelSpec", "ParamSpec", "check_parameter", "default_model", "find_model",
           "models_of"]


class MaskStyle(StrEnum):
    """How a model is told which part of the excerpt to regenerate."""

    SECONDS = "seconds"  # mask_start_seconds / mask_end_seconds, floats
    WHOLE_SECONDS = "whole_seconds"  # mask_start / mask_end, integers
    NONE = "none"  # the whole input (audio-to-audio) or no input at all (text-to-audio)


@dataclass(frozen=True)
class ParamSpec:
    """One model parameter: its wire name, type, range and default; ``alias`` is the CLI/OSC name."""

    name: str
    kind: type
    default: Value | None = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    alias: str | None = None

    def check(self, value: object) -> Value:
        """``value`` converted to this parameter's type, or :class:`BadValue` naming the field and range."""
        label = self.alias or self.name
        if self.kind is bool:
            return checks.boolean(label, value, text_ok=True)
        if self.kind is str:
            return checks.choice(label, value, self.choices) if self.choices else str(value)
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        if self.kind is int:
            return checks.integer(label, value, low, high, text_ok=True)
        return checks.number(label, value, low, high, text_ok=True)


@dataclass(frozen=True)
class ModelSpec:
    """One hosted model."""

    id: str
    service: str
    operation: Operation
    title: str
    params: tuple[ParamSpec, ...]
    audio_field: str | None
    mask: MaskStyle
    grid: int
    """Mask granularity in samples at 44.1 kHz (one latent frame)."""
    min_input_s: float
    max_input_s: float
    output_key: str
    duration_field: str | None = None
    negative_prompt: bool = True
    seed: bool = True
    sr: int = 44100

    def param(self, key: str) -> ParamSpec | None:
        """The parameter called ``key`` (wire name or alias)."""
        for spec in self.params:
            if key in (spec.name, spec.alias):
                return spec
        return None

    def resolve(self, given: Mapping[str, object]) -> dict[str, Value]:
        """Every parameter, with ``given`` (wire names or aliases) checked and defaults filled in.

        Raises :class:`BadValue` for an unknown name or a value out of range, before anything is sent.
        """
        out: dict[str, Value] = {p.name: p.default for p in self.params if p.default is not None}
        for key, value in given.items():
            spec = self.param(key)
            if spec is None:
                known = ", ".join(sorted(p.alias or p.name for p in self.params))
                raise BadValue(key, value, f"not a parameter of {self.id}; it takes: {known}")
            out[spec.name] = spec.check(value)
        return out


def _sa3_common(steps: int, guidance: float) -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("num_inference_steps", int, steps, 1, 100, alias="steps"),
        ParamSpec("guidance_scale", float, guidance, 0, 25, alias="guidance"),
        ParamSpec("output_format", str, "flac", choices=("wav", "flac")),
    )


_FAL_SA3_EXTRA = (
    ParamSpec("enable_prompt_expansion", bool, False),
    ParamSpec("enable_safety_checker", bool, True),
    ParamSpec("sync_mode", bool, False),
    ParamSpec("bitrate", str, None),
)

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="fal-ai/stable-audio-3/small/sfx/base/audio-inpainting",
        service="fal",
        operation=Operation.INPAINT,
        title="Stable Audio 3 Small SFX base, inpainting",
        params=_sa3_common(50, 7.0) + _FAL_SA3_EXTRA,
        audio_field="audio_url",
        mask=MaskStyle.SECONDS,
        grid=4096,
        min_input_s=1.0,
        max_input_s=120.0,
        output_key="audio",
    ),
    ModelSpec(
        id="fal-ai/stable-audio-25/inpaint",
        service="fal",
        operation=Operation.INPAINT,
        title="Stable Audio 2.5, inpainting (mask on whole seconds)",
        params=(
            ParamSpec("num_inference_steps", int, 8, 4, 8, alias="steps"),
            ParamSpec("guidance_scale", int, 1, 1, 25, alias="guidance"),  # an integer for SA 2.5
            ParamSpec("sync_mode", bool, False),
        ),
        audio_field="audio_url",
        mask=MaskStyle.WHOLE_SECONDS,
        grid=2048,
        min_input_s=6.0,
        max_input_s=190.0,
        output_key="audio",
        duration_field="seconds_total",
        negative_prompt=False,
    ),
    ModelSpec(
        id="fal-ai/stable-audio-3/small/sfx/base/audio-to-audio",
        service="fal",
        operation=Operation.TRANSFORM,
        title="Stable Audio 3 Small SFX base, audio-to-audio",
        params=_sa3_common(50, 7.0)
        + _FAL_SA3_EXTRA
        + (ParamSpec("init_noise_level", float, 0.9, 0, 1, alias="strength"),),
        audio_field="audio_url",
        mask=MaskStyle.NONE,
        grid=4096,
        min_input_s=1.0,
        max_input_s=120.0,
        output_key="audio",
        duration_field="duration",
    ),
    ModelSpec(
        id="fal-ai/stable-audio",
        service="fal",
        operation=Operation.GENERATE,
        title="Stable Audio Open 1.0, text-to-audio",
        params=(
            ParamSpec("steps", int, 100, 2, 1000),
            ParamSpec("seconds_start", int, 0, 0, 47),
        ),
        audio_field=None,
        mask=MaskStyle.NONE,
        grid=2048,
        min_input_s=1.0,
        max_input_s=47.0,
        output_key="audio_file",
        duration_field="seconds_total",
        negative_prompt=False,
        seed=False,
    ),
    ModelSpec(
        id="stability-ai/stable-audio-3/audio-inpainting",
        service="wavespeed",
        operation=Operation.INPAINT,
        title="Stable Audio 3, inpainting",
        params=_sa3_common(8, 1.0),
        audio_field="audio",
        mask=MaskStyle.SECONDS,
        grid=4096,
        min_input_s=1.0,
        max_input_s=120.0,
        output_key="outputs",
        seed=False,  # WaveSpeed documents no seed
    ),
    ModelSpec(
        id="stability-ai/stable-audio-3/audio-to-audio",
        service="wavespeed",
        operation=Operation.TRANSFORM,
        title="Stable Audio 3, audio-to-audio",
        params=_sa3_common(8, 1.0) + (ParamSpec("init_noise_level", float, 0.9, 0, 1, alias="strength"),),
        audio_field="audio",
        mask=MaskStyle.NONE,
        grid=4096,
        min_input_s=1.0,
        max_input_s=120.0,
        output_key="outputs",
        duration_field="duration",
        seed=False,  # WaveSpeed documents no seed
    ),
)


def models_of(service: str) -> tuple[ModelSpec, ...]:
    return tuple(m for m in MODELS if m.service == service)


def default_model(service: str, operation: Operation) -> ModelSpec | None:
    """The first model of ``service`` that does ``operation`` (the table lists defaults first)."""
    return next((m for m in models_of(service) if m.operation is operation), None)


def find_model(service: str, model_id: str | None, operation: Operation) -> ModelSpec:
    """The model ``model_id`` of ``service`` (its default for ``operation`` when ``None``)."""
    if model_id is None:
        spec = default_model(service, operation)
        if spec is None:
            raise BadValue("operation", operation.value, f"no {service} model does it")
        return spec
    for spec in models_of(service):
        if spec.id == model_id:
            if spec.operation is not operation:
                raise BadValue("model", model_id, f"does {spec.operation.value}, not {operation.value}")
            return spec
    known = ", ".join(m.id for m in models_of(service))
    raise BadValue("model", model_id, f"not a {service} model; known: {known}")


def check_parameter(key: str, value: object, *, service: str, model_id: str | None = None) -> Value:
    """A model parameter set ahead of any request (``/bridge/set``, a knob), checked against the models
    it can reach: ``model_id``, else every model of ``service``, else (an engine without models, such as
    ``local``) every hosted model. The key must belong to one of them and the value must fit one."""
    candidates = [m for m in MODELS if m.id == model_id] or list(models_of(service)) or list(MODELS)
    having = [spec for spec in (m.param(key) for m in candidates) if spec is not None]
    if not having:
        known = ", ".join(sorted({p.alias or p.name for m in candidates for p in m.params}))
        where = candidates[0].id if len(candidates) == 1 else f"any {service} model" if models_of(service) \
            else "any model"
        raise BadValue(key, value, f"not a parameter of {where}; they take: {known}")
    first: BadValue | None = None
    for spec in having:
        try:
            return spec.check(value)
        except BadValue as exc:
            first = first or exc
    assert first is not None
    raise first
