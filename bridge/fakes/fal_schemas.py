"""The fake fal.ai's own model schemas (remote-apis.md §4) and its pydantic-style validation.

Written from the service's documentation, not from the bridge's model table, so that a
mistake in one shows up against the other.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SCHEMAS", "field_error", "validate"]

_COMMON_SA3 = {
    "negative_prompt": ("str", None, None),
    "num_inference_steps": ("int", 1, 100),
    "guidance_scale": ("float", 0, 25),
    "seed": ("int", 0, 2**32 - 1),
    "output_format": ("enum", ("mp3", "wav", "flac", "ogg", "opus", "m4a", "aac"), None),
    "bitrate": ("str", None, None),
    "enable_prompt_expansion": ("bool", None, None),
    "enable_safety_checker": ("bool", None, None),
    "sync_mode": ("bool", None, None),
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "fal-ai/stable-audio-3/small/sfx/base/audio-inpainting": {
        "required": {"prompt": ("str", None, None), "audio_url": ("str", None, None),
                     "mask_start_seconds": ("float", 0, None), "mask_end_seconds": ("float", 0, None)},
        "optional": _COMMON_SA3, "max_s": 120.0, "min_s": 0.0, "kind": "inpaint", "out": "audio",
    },
    "fal-ai/stable-audio-3/small/sfx/base/audio-to-audio": {
        "required": {"prompt": ("str", None, None), "audio_url": ("str", None, None)},
        "optional": {**_COMMON_SA3, "duration": ("float", 1, 120), "init_noise_level": ("float", 0, 1)},
        "max_s": 120.0, "min_s": 0.0, "kind": "transform", "out": "audio",
    },
    "fal-ai/stable-audio-25/inpaint": {
        "required": {"prompt": ("str", None, None), "audio_url": ("str", None, None)},
        "optional": {"seconds_total": ("int", 1, 190), "mask_start": ("int", 0, 190), "mask_end": ("int", 0, 190),
                     "num_inference_steps": ("int", 4, 8), "guidance_scale": ("int", 1, 25),
                     "seed": ("int", 0, 2**32 - 1), "sync_mode": ("bool", None, None)},
        "max_s": 190.0, "min_s": 6.0, "kind": "inpaint25", "out": "audio",
    },
    "fal-ai/stable-audio": {
        "required": {"prompt": ("str", None, None)},
        "optional": {"seconds_start": ("int", 0, 47), "seconds_total": ("int", 0, 47), "steps": ("int", 2, 1000)},
        "kind": "generate", "out": "audio_file",
    },
}


def field_error(name: str, msg: str, kind: str, value: object) -> dict[str, object]:
    return {"loc": ["body", name], "msg": msg, "type": kind, "input": value}


def _check_field(name: str, spec: tuple[str, Any, Any], value: object) -> dict[str, object] | None:
    kind, low, high = spec
    if kind == "str":
        return None if isinstance(value, str) else field_error(name, "Input should be a valid string", "string_type",
                                                                value)
    if kind == "bool":
        return None if isinstance(value, bool) else field_error(name, "Input should be a valid boolean", "bool_type",
                                                                 value)
    if kind == "enum":
        return None if value in low else field_error(
            name, f"Input should be {', '.join(repr(c) for c in low)}", "enum", value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return field_error(name, "Input should be a valid number", f"{kind}_type", value)
    if kind == "int" and not float(value).is_integer():
        return field_error(name, "Input should be a valid integer, got a number with a fractional part",
                            "int_from_float", value)
    if low is not None and value < low:
        return field_error(name, f"Input should be greater than or equal to {low}", "greater_than_equal", value)
    if high is not None and value > high:
        return field_error(name, f"Input should be less than or equal to {high}", "less_than_equal", value)
    return None


def validate(model: str, body: object) -> list[dict[str, object]]:
    """Pydantic-style errors of ``body`` against the model's schema (extra keys are ignored, as fal does)."""
    if not isinstance(body, dict):
        return [{"loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type", "input": body}]
    schema = SCHEMAS[model]
    errors = []
    for name, spec in schema["required"].items():
        if name not in body:
            errors.append(field_error(name, "Field required", "missing", body))
        elif (err := _check_field(name, spec, body[name])) is not None:
            errors.append(err)
    for name, spec in schema["optional"].items():
        if name in body and (err := _check_field(name, spec, body[name])) is not None:
            errors.append(err)
    for start, end in (("mask_start_seconds", "mask_end_seconds"), ("mask_start", "mask_end")):
        if not errors and start in body and end in body and body[end] <= body[start]:
            errors.append(field_error(end, f"{end} must be greater than {start}", "value_error", body[end]))
    return errors
