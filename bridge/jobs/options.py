"""Request options: one vocabulary for OSC key/value pairs, ``/bridge/set``, presets and the CLI.

Each option is a row of data (name, type, range, where it goes). Options the table does
not know are model parameters (``steps``, ``guidance``, ``strength``, ``sync_mode`` ...):
they travel in ``params`` and the engine's model table checks them before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bridge import checks
from bridge.model import ENGINE_NAMES, MAX_CONTEXT_S, MAX_FADE_MS, MAX_SEED, Value, check_quantize

__all__ = ["OPTIONS", "Option", "check_option", "split_options"]

MAX_VARIATIONS = 16


@dataclass(frozen=True)
class Option:
    name: str
    kind: type
    low: float | None = None
    high: float | None = None
    help: str = ""


OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("engine", str, help="engine name: local, fal, wavespeed"),
    Option("model", str, help="model id of the engine"),
    Option("seed", int, 0, MAX_SEED, "seed of the first variation"),
    Option("negative_prompt", str, help="what to avoid"),
    Option("fade_ms", float, 0, MAX_FADE_MS, "crossfade inside the range, ms"),
    Option("context", float, 0, MAX_CONTEXT_S, "seconds of audio the engine sees on each side"),
    Option("variations", int, 1, MAX_VARIATIONS, "jobs with consecutive seeds, each delivered"),
    Option("keep", bool, help="1: do not cancel older jobs on an overlapping range"),
    Option("reply_port", int, 1, 65535, "UDP port for this request's replies (same host)"),
    Option("project", str, help="DAW project folder for the take (inside a media or output root)"),
    Option("preset", str, help="preset whose settings this request starts from"),
    Option("quantize", str, help="announce the take on the next beat, bar or N bars of Link or MIDI clock: off,"
                                 " beat, bar, N"),
    Option("hold", bool, help="1: finished takes wait in the bank until selected (/bridge/select, take pads)"),
    Option("keep_ahead", int, 0, MAX_VARIATIONS, "fresh variations kept waiting in the bank: a played slot is"
                                                 " regenerated when fewer wait"),
    Option("reverse", bool, help="1: write the patch reversed, for a DAW take that plays its source backwards"),
    Option("accept_misaligned", bool, help="1: splice a paid answer in place even when it does not line up"),
)}


def check_option(name: str, value: object) -> Value:
    """``value`` converted for option ``name`` (a model parameter passes through as given)."""
    option = OPTIONS.get(name)
    if option is None:
        checks.name("option", name)
        return checks.scalar(name, value)
    if name == "engine":
        return checks.choice(name, value, ENGINE_NAMES)
    if name == "quantize":
        return check_quantize(value)
    if option.kind is str:
        return checks.text(name, value, empty_ok=name == "negative_prompt")
    if option.kind is bool:
        return checks.boolean(name, value, text_ok=True)
    assert option.low is not None and option.high is not None
    if option.kind is int:
        return checks.integer(name, value, option.low, option.high, text_ok=True)
    return checks.number(name, value, option.low, option.high, text_ok=True)


def split_options(given: Mapping[str, Value]) -> tuple[dict[str, Value], dict[str, Value]]:
    """``given`` checked and split into (bridge options, model parameters)."""
    own: dict[str, Value] = {}
    params: dict[str, Value] = {}
    for name, value in given.items():
        checked = check_option(name, value)
        (own if name in OPTIONS else params)[name] = checked
    return own, params
