"""The script's settings: ``settings.json`` beside the script, else the environment, else defaults.

``settings.json`` (every key optional)::

    {"listen_port": 9131, "daemon_port": 9130,
     "notes": {"inpaint": 36, "regenerate": 37, "cancel": 38}}

``notes`` are the pads Live forwards to the script when a controller is chosen as this
control surface's input (any channel); the environment variables are
``INPAINT_BRIDGE_LIVE_PORT`` and ``INPAINT_BRIDGE_OSC_PORT``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Tuple

ACTIONS = ("inpaint", "transform", "generate", "regenerate", "cancel")
PORTS = {"listen_port": ("INPAINT_BRIDGE_LIVE_PORT", 9131), "daemon_port": ("INPAINT_BRIDGE_OSC_PORT", 9130)}
MAX_BYTES = 65536


@dataclass(frozen=True)
class Settings:
    listen_port: int = 9131
    daemon_port: int = 9130
    notes: Dict[int, str] = field(default_factory=lambda: {36: "inpaint", 37: "regenerate", 38: "cancel"})


def load(folder: str, environ: Mapping[str, str]) -> Tuple[Settings, List[str]]:
    """The settings, and a line for each value that was refused (its default is used instead)."""
    problems: List[str] = []
    given: Dict[str, object] = {}
    path = os.path.join(folder, "settings.json")
    if os.path.isfile(path):
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
            if len(raw) > MAX_BYTES:
                raise ValueError("larger than {} bytes".format(MAX_BYTES))
            loaded = json.loads(raw.decode("utf-8"))
            if not isinstance(loaded, dict):
                raise ValueError("must hold a JSON object")
            given = loaded
        except (OSError, ValueError) as exc:
            problems.append("settings.json: {}".format(exc))
    for key in sorted(set(given) - set(PORTS) - {"notes"}):
        problems.append("settings.json: {}: unknown key (known: listen_port, daemon_port, notes)".format(key))
    ports: Dict[str, int] = {}
    for key, (env, default) in PORTS.items():
        value: object = given.get(key, environ.get(env, default))
        where = "settings.json: {}".format(key) if key in given else env
        try:
            port = int(str(value)) if not isinstance(value, bool) else -1
        except ValueError:
            port = -1
        if not 1 <= port <= 65535:
            problems.append("{} = {!r}: must be a port number in range 1..65535".format(where, value))
            port = default
        ports[key] = port
    notes = Settings().notes
    if "notes" in given:
        notes, more = _notes(given["notes"])
        problems.extend(more)
    return Settings(ports["listen_port"], ports["daemon_port"], notes), problems


def _notes(value: object) -> Tuple[Dict[int, str], List[str]]:
    if not isinstance(value, dict):
        return {}, ["settings.json: notes = {!r}: must be an object such as {{\"inpaint\": 36}}".format(value)]
    notes: Dict[int, str] = {}
    problems: List[str] = []
    for action, note in value.items():
        if action not in ACTIONS:
            problems.append("settings.json: notes.{}: unknown action (known: {})".format(action, ", ".join(ACTIONS)))
        elif isinstance(note, bool) or not isinstance(note, int) or not 0 <= note <= 127:
            problems.append("settings.json: notes.{} = {!r}: must be a note number in range 0..127".format(
                action, note))
        else:
            notes[note] = action
    return notes, problems
