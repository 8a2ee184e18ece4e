"""Building an :class:`~bridge.model.EditRequest` from its parts: preset, session, request.

The same rules for every transport: a preset gives the starting point, the session's
options (``/bridge/set``) come over it, and what the request itself says wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bridge.config import Settings
from bridge.control.session import Session
from bridge.errors import BadValue
from bridge.jobs.options import split_options
from bridge.jobs.presets import Preset, find_preset
from bridge.model import EditRequest, Operation, Quantize, Value, parse_quantize

__all__ = ["Composed", "compose"]


@dataclass(frozen=True)
class Composed:
    request: EditRequest
    variations: int
    keep: bool
    reply_port: int | None
    project: str | None
    quantize: Quantize | None = None
    hold: bool = False


def compose(
    operation: Operation,
    *,
    source: Path,
    start: float,
    end: float,
    prompt: str,
    given: Mapping[str, Value],
    settings: Settings,
    presets: Mapping[str, Preset],
    session: Session | None = None,
    folder: Path | None = None,
    patch: bool = True,
) -> Composed:
    own, params = split_options(given)
    session_own, session_params = split_options(session.options) if session else ({}, {})
    preset_name = own.get("preset") or session_own.get("preset") or (session.preset if session else None)
    preset = find_preset(dict(presets), str(preset_name)) if preset_name else None
    if preset is not None and preset.operation is not None and preset.operation is not operation:
        raise BadValue("preset", preset.name, f"is a {preset.operation.value} preset; ask for"
                                              f" {preset.operation.value}, not {operation.value}")
    options: dict[str, Value] = {**(preset.options if preset else {}), **session_own, **own}
    engine = str(options.get("engine", settings.engine))
    # the offline engine takes no model parameters: a knob turned for a hosted model (in the
    # session) is left out for it; only parameters the request names itself are checked
    background = {} if engine == "local" else {**(preset.params if preset else {}), **session_params}
    model_params: dict[str, Value] = {**background, **params}
    text = prompt or (session.prompt if session else "") or (preset.prompt if preset else "")
    seed = options.get("seed")
    request = EditRequest(
        source=source,
        start=start,
        end=end,
        operation=operation,
        prompt=text,
        negative_prompt=str(options.get("negative_prompt", "")),
        engine=engine,
        model=str(options["model"]) if "model" in options else None,
        seed=int(seed) if seed is not None else None,
        params=model_params,
        fade_ms=float(options.get("fade_ms", settings.fade_ms)),
        context_s=float(options["context"]) if "context" in options else None,
        patch=patch,
        folder=folder,
        reverse=bool(options.get("reverse", False)),
        accept_misaligned=bool(options.get("accept_misaligned", False)),
    )
    reply = options.get("reply_port")
    project = options.get("project")
    return Composed(request, int(options.get("variations", 1)), bool(options.get("keep", False)),
                    int(reply) if reply is not None else None, str(project) if project else None,
                    parse_quantize(options.get("quantize", "off")), bool(options.get("hold", False)))
