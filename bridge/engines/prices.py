"""What each hosted model costs per request, from the services' published pricing, as data.

Read from fal's model pages (llms.txt) and WaveSpeed's model pages in September 2026
(:data:`READ`). A price is per request (fal "per audio", WaveSpeed "per run"); Stable Audio
Open on fal is billed per compute second at a rate fal does not publish, so its estimate is
unknown. ``[prices]`` in ``config.toml`` overrides any row (USD per request, by model id).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["PRICES", "READ", "Price", "price_of"]

READ = "2026-09"


@dataclass(frozen=True)
class Price:
    usd: float | None
    """Per request; ``None`` when the service does not publish a per-request figure."""
    unit: str
    source: str = "published"

    def describe(self) -> str:
        if self.usd is None:
            return f"billed per {self.unit}, rate not published"
        where = f"published, read {READ}" if self.source == "published" else self.source
        return f"${self.usd:.4f} per {self.unit} ({where})"


PRICES: dict[str, Price] = {
    "fal-ai/stable-audio-3/small/sfx/base/audio-inpainting": Price(0.0331, "audio"),
    "fal-ai/stable-audio-25/inpaint": Price(0.20, "audio"),
    "fal-ai/stable-audio-3/small/sfx/base/audio-to-audio": Price(0.0315, "audio"),
    "fal-ai/stable-audio": Price(None, "compute second"),
    "stability-ai/stable-audio-3/audio-inpainting": Price(0.0442, "run"),
    "stability-ai/stable-audio-3/audio-to-audio": Price(0.024, "run"),
}


def price_of(model_id: str, overrides: Mapping[str, float] | None = None) -> Price:
    """The model's price: the config's override, else the published one."""
    if overrides and model_id in overrides:
        return Price(overrides[model_id], "request", "config.toml")
    return PRICES.get(model_id, Price(None, "request", "unknown"))
