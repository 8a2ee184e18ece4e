"""The listing commands: ``engines``, ``jobs`` and ``presets``."""

from __future__ import annotations

import argparse
import json
import time

from bridge.cli.parsers import PROG, add_command
from bridge.config import Settings
from bridge.engines.models import ParamSpec, models_of
from bridge.engines.prices import price_of
from bridge.engines.registry import engine_names, make_engine
from bridge.jobs.journal import Journal
from bridge.jobs.presets import load_presets, shipped_folder

__all__ = ["register", "list_engines", "list_jobs", "list_presets"]


def list_engines(settings: Settings) -> int:
    for name in engine_names():
        engine = make_engine(name, settings)
        caps = engine.capabilities
        reason = engine.readiness()
        state = "ready" if reason is None else f"not ready: {reason}"
        ops = ", ".join(sorted(op.value for op in caps.operations))
        default = " (default)" if name == settings.engine else ""
        endpoint = getattr(engine, "endpoint", None)
        print(f"{name}{default}: {state}" + (f"; endpoint {endpoint}" if endpoint else ""))
        print(f"  {caps.description}")
        print(f"  does: {ops}; prompt {'used' if caps.uses_prompt else 'not read'}")
        for model in models_of(name):
            print(f"  {model.operation.value:<9} {model.id}  ({model.title})")
            print(f"            input {model.min_input_s:g}-{model.max_input_s:g} s;"
                  f" {', '.join(_describe(p) for p in model.params)}")
            print(f"            price {price_of(model.id, settings.prices).describe()}")
        if not caps.uses_prompt:
            print(f"  range {caps.min_duration_s * 1000:g} ms to {caps.max_duration_s:g} s;"
                  f" searches {caps.default_context_s:g} s each side by default")
    return 0


def _describe(p: ParamSpec) -> str:
    name = f"{p.alias or p.name}"
    if p.choices:
        return f"{name} {'|'.join(p.choices)} ({p.default})"
    if p.low is not None and p.high is not None:
        return f"{name} {p.low:g}-{p.high:g} ({p.default})"
    return f"{name} ({p.default})" if p.default is not None else name


def list_jobs(settings: Settings, *, as_json: bool, limit: int) -> int:
    path = settings.data_dir / "jobs.sqlite"
    journal = Journal(path) if path.exists() else None
    try:
        records = journal.jobs(limit=max(1, limit)) if journal else []
        spending = journal.spending() if journal else []
    finally:
        if journal is not None:
            journal.close()
    if as_json:
        print(json.dumps([r.to_json() for r in records], indent=2))
        return 0
    if not records:
        print(f"no jobs yet (journal: {path})")
    for day, usd, count in spending:
        print(f"spent {day}: about ${usd:.4f} over {count} paid request{'s' if count != 1 else ''} (estimates)")
    for r in records:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created))
        took = f"{r.updated - r.created:6.1f} s"
        print(f"{r.id}  {when}  {r.state.value:<9} {took}  {r.engine:<9} seed {r.seed:<10} {r.prompt[:40]!r}")
        if r.remote_id:
            print(f"    request {r.remote_id} (what the service billed; inpaint-bridge resume collects a lost one)")
        if r.take_path:
            print(f"    take {r.take_path} ({r.take_start:.3f}-{r.take_end:.3f} s)")
        if r.error:
            print(f"    {r.error}")
    return 0


def list_presets(settings: Settings) -> int:
    presets = load_presets(settings.config_dir)
    for name, preset in sorted(presets.items()):
        op = preset.operation.value if preset.operation else "any"
        engine = str(preset.options.get("engine", settings.engine))
        model = f" {preset.options['model']}" if "model" in preset.options else ""
        mine = "" if preset.source.parent == shipped_folder() else f"  [{preset.source}]"
        print(f"{name:<22} {op:<9} {engine}{model}{mine}")
        if preset.description:
            print(f"    {preset.description}")
    if not presets:
        print(f"no presets found (shipped: {shipped_folder()}, yours: {settings.config_dir / 'presets'})")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(sub, "engines", lambda args, settings: list_engines(settings),
                help="list engines and models and whether each is ready",
                description="List the engines, their models and parameters, and whether each is ready to take jobs.",
                examples=f"example:\n  {PROG} engines")
    j = add_command(sub, "jobs", lambda args, settings: list_jobs(settings, as_json=args.json, limit=args.limit),
                    help="list the daemon's job history",
                    description="List jobs from the journal, newest first: id, state, engine, seed, prompt, take.",
                    examples=f"examples:\n  {PROG} jobs\n  {PROG} jobs --json --limit 5")
    j.add_argument("--json", action="store_true", help="one JSON document")
    j.add_argument("--limit", type=int, default=50, metavar="N", help="at most N jobs (50)")
    add_command(sub, "presets", lambda args, settings: list_presets(settings), help="list presets",
                description="List the presets: shipped ones and yours (config folder's presets/*.toml, which win).",
                examples=f"example:\n  {PROG} presets\n"
                         f"  {PROG} inpaint take.wav --start 3 --end 3.4 --preset replace-cough")
