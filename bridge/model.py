"""Frozen values passed inward once the edges (CLI, OSC, spool) have validated them."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path

from bridge import checks
from bridge.errors import BadValue

__all__ = ["DEFAULT_ENGINE", "DEFAULT_FADE_MS", "ENGINE_NAMES", "EditRequest", "Operation", "Quantize", "TakeInfo",
           "Value", "check_quantize", "check_range", "default_seed", "parse_quantize"]

Value = float | int | str | bool
"""A scalar option or parameter value, as OSC, TOML, JSON and the command line carry it."""

MAX_SEED = 2**31 - 1
MAX_FADE_MS = 2000.0
MAX_CONTEXT_S = 600.0
ENGINE_NAMES = ("fal", "local", "wavespeed")
"""Every engine the bridge has (the registry builds each)."""
DEFAULT_ENGINE = "local"
"""The engine a request uses when neither it, the session, a preset nor the config names one."""
DEFAULT_FADE_MS = 20.0
"""The crossfade inside the range when nothing names one."""


def default_seed(generative: bool) -> int:
    """The seed of a request that names none: 0 for the local engine (its best-matching donor),
    a fresh random one for a generative model."""
    return random.randint(0, MAX_SEED) if generative else 0


class Operation(StrEnum):
    """What an edit asks of an engine."""

    INPAINT = "inpaint"
    TRANSFORM = "transform"
    GENERATE = "generate"


def check_range(start: float, end: float) -> None:
    """A time range in seconds: ``0 <= start < end``, each finite; errors name the field."""
    checks.number("start", start, 0)
    checks.number("end", end, 0)
    if end <= start:
        raise BadValue("end", end, f"must be greater than start ({start:g})")


@dataclass(frozen=True)
class EditRequest:
    """One request to regenerate ``[start, end)`` seconds of ``source``."""

    source: Path
    start: float
    end: float
    operation: Operation = Operation.INPAINT
    prompt: str = ""
    negative_prompt: str = ""
    engine: str = DEFAULT_ENGINE
    model: str | None = None
    seed: int | None = None
    params: Mapping[str, float | int | str | bool] = field(default_factory=dict)
    fade_ms: float = DEFAULT_FADE_MS
    context_s: float | None = None
    output: Path | None = None
    patch: bool = False
    overwrite: bool = False
    folder: Path | None = None
    """Where a take named by the bridge goes (default: beside the source)."""
    reverse: bool = False
    """Write the patch back to front, for a DAW take that plays its source reversed."""
    accept_misaligned: bool = False
    """Splice a model's answer in place (lag 0, gain 1) even when the fit refuses it."""

    def __post_init__(self) -> None:
        check_range(self.start, self.end)
        checks.number("fade_ms", self.fade_ms, 0, MAX_FADE_MS)
        if self.context_s is not None:
            checks.number("context", self.context_s, 0, MAX_CONTEXT_S)
        if self.seed is not None:
            checks.integer("seed", self.seed, 0, MAX_SEED)
        if self.output is not None and self.patch:
            raise BadValue("output", str(self.output), "a patch is named by the bridge; drop -o or --patch")
        if self.reverse and not self.patch:
            raise BadValue("reverse", 1, "only a patch (a take for a DAW) can be written reversed")

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (the journal's record of the request)."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Path) else dict(value) if f.name == "params" else value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> EditRequest:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("source", "output", "folder"):
            if values.get(name) is not None:
                values[name] = Path(str(values[name]))
        values["operation"] = Operation(str(values.get("operation", "inpaint")))
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TakeInfo:
    """A written take: where it is and where it belongs on the source's timeline."""

    path: Path
    manifest_path: Path
    kind: str
    take_start: float
    take_end: float
    seed: int
    engine: str
    model: str
    notes: tuple[str, ...] = ()
    """What the user should know about this take (also in its manifest)."""
    request_id: str | None = None
    """The hosted service's request id (what was billed)."""
    seed_used: bool = True
    """False when the model takes no seed: ``seed`` then reproduces nothing."""


MAX_BARS = 64


@dataclass(frozen=True)
class Quantize:
    """When a finished take is announced: on the next boundary of ``bars`` bars, or of one beat when
    ``bars`` is 0 (the ``quantize`` option: ``off``, ``beat``, ``bar`` or a number of bars; ``1`` and
    ``0``, true and false, mean ``bar`` and ``off``)."""

    bars: int

    def beats(self, quantum: float) -> float:
        """The boundary's spacing in beats, for bars of ``quantum`` beats."""
        return quantum * self.bars if self.bars else 1.0

    @property
    def text(self) -> str:
        return "beat" if self.bars == 0 else "bar" if self.bars == 1 else str(self.bars)


def check_quantize(value: object) -> str:
    """``value`` as the canonical text of a ``quantize`` option: ``off``, ``beat``, ``bar`` or ``N`` bars."""
    parsed = parse_quantize(value)
    return "off" if parsed is None else parsed.text


def parse_quantize(value: object) -> Quantize | None:
    """The :class:`Quantize` that ``value`` names (``None`` for off). Raises :class:`BadValue`."""
    if isinstance(value, bool):
        return Quantize(1) if value else None
    text = str(value).strip().lower()
    named = {"off": None, "false": None, "no": None, "beat": Quantize(0), "bar": Quantize(1), "true": Quantize(1),
             "yes": Quantize(1)}
    if text in named:
        return named[text]
    try:
        bars = float(text.removesuffix("bars").strip())
    except ValueError:
        bars = -1.0
    if bars == 0:
        return None
    if bars.is_integer() and 1 <= bars <= MAX_BARS:
        return Quantize(int(bars))
    raise BadValue("quantize", value, f"must be off, beat, bar, or a number of bars 1..{MAX_BARS}")
