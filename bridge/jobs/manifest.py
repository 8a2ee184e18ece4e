"""The manifest beside every take: what was asked, what answered, where the take belongs.

Written as ``<take file>.json``; the DAW scripts, ``jobs`` and users read it. The field
names are the file's documented keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Manifest", "SourceFormat", "TakePlacement"]


@dataclass(frozen=True)
class SourceFormat:
    sample_rate: int
    channels: int
    format: str
    subtype: str
    frames: int


@dataclass(frozen=True)
class TakePlacement:
    """The take file and where it lies on the source's timeline, in seconds."""

    kind: str  # "full" or "patch"
    path: str
    take_start: float
    take_end: float
    reversed: bool


@dataclass(frozen=True)
class Manifest:
    version: str
    operation: str
    engine: str
    model: str
    prompt: str
    negative_prompt: str
    prompt_used: bool
    seed: int
    seed_used: bool
    """False when the model takes no seed (WaveSpeed, SA Open): ``seed`` then reproduces nothing."""
    parameters: Mapping[str, Any]
    source: str
    source_format: SourceFormat
    range: Mapping[str, float | int]
    take: TakePlacement
    fit: Mapping[str, Any]
    engine_details: Mapping[str, Any]
    remote_request_id: str | None
    notes: tuple[str, ...] = ()
    timings_s: Mapping[str, float] = field(default_factory=dict)
    cost: Mapping[str, object] = field(default_factory=dict)
    """The estimated cost in USD (0 on local) and, where the service reports them, the billed units."""
    regenerated: Mapping[str, float] = field(default_factory=dict)
    """The span the model regenerated, in source seconds (its mask: whole seconds, latent frames)."""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["notes"] = list(self.notes)
        return out
