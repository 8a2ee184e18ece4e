"""``inpaint-bridge inpaint | transform | generate``: one edit from the command line, with progress."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from pathlib import Path

from bridge.cli.parsers import PROG, add_command
from bridge.cli.progress import ProgressLine
from bridge.config import Settings
from bridge.control.compose import compose
from bridge.engines.base import Engine, Progress
from bridge.engines.registry import engine_names, make_engine
from bridge.errors import BadValue, BudgetError
from bridge.jobs.cost import Estimate, check_budget, estimate
from bridge.jobs.edit import check_request, run_edit
from bridge.jobs.journal import Journal
from bridge.jobs.presets import load_presets
from bridge.model import EditRequest, Operation, TakeInfo

__all__ = ["register"]

INPAINT_EXAMPLES = f"""\
examples:
  {PROG} inpaint take3.wav --start 12.40 --end 12.75
      fill a dropout offline; writes take3.take-12.400-12.750s.wav beside the source
  {PROG} inpaint take3.wav --start 12.4 --end 12.75 -o fixed.wav
      the whole file with the range replaced, as fixed.wav
  {PROG} inpaint take3.wav --start 12.4 --end 12.75 --patch
      only the range plus handles, to lay over the original in a DAW
  {PROG} inpaint fx.wav --start 3 --end 5 --engine fal --prompt "glass shattering" --steps 30
      regenerate with fal.ai Stable Audio 3 (FAL_KEY must be set)
"""

TRANSFORM_EXAMPLES = f"""\
examples:
  {PROG} transform drums.wav --start 8 --end 12 --engine fal --prompt "vinyl breakbeat" --strength 0.6
  {PROG} transform pad.wav --start 0 --end 4 --engine wavespeed --prompt "choir" --patch
"""

GENERATE_EXAMPLES = f"""\
examples:
  {PROG} generate scene.wav --start 10 --end 14 --engine fal --prompt "distant thunder"
      a Stable Audio Open clip laid into 10-14 s with crossfades
"""

_HOSTED_PARAMS = (
    ("--steps", int, "N", "steps", "diffusion steps (model's range; see `engines`)"),
    ("--guidance", float, "G", "guidance", "guidance scale"),
)



def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, operation, text, description, epilog in (
        ("inpaint", Operation.INPAINT, "regenerate a range of a file",
         "Regenerate [START, END) seconds of SOURCE from its surroundings (and the prompt, on a hosted "
         "engine). Samples outside the range stay bit-identical; the source itself is never written.",
         INPAINT_EXAMPLES),
        ("transform", Operation.TRANSFORM, "re-render a range towards a prompt (audio-to-audio)",
         "Send [START, END) through an audio-to-audio model and splice the answer back in place.",
         TRANSFORM_EXAMPLES),
        ("generate", Operation.GENERATE, "lay a generated clip into a range (text-to-audio)",
         "Generate a clip from the prompt and splice it into [START, END) with crossfades.",
         GENERATE_EXAMPLES),
    ):
        p = add_command(sub, name, _edit, help=text, description=description, examples=epilog)
        _add_edit_arguments(p, operation)
    r = add_command(
        sub, "resume", _edit, help="collect a hosted request's result that was lost (Ctrl-C, a crash)",
        description="Fetch the result of REQUEST_ID from its service without sending (or paying for) anything"
        " new, and splice it in as the original command would have: give the same source, range, engine,"
        " model and options.",
        examples=f"examples:\n  {PROG} resume 764cabcf-b745-4b3e-ae38-1200304cf45b take3.wav --start 12.4"
                 f" --end 12.75 --engine fal\n  {PROG} resume 0a1b2c --engine wavespeed --operation transform"
                 " pad.wav --start 0 --end 4 --prompt choir")
    r.add_argument("request_id", metavar="REQUEST_ID", help="the request id the service gave (in the log, the error)")
    _add_edit_arguments(r, Operation.INPAINT)
    r.add_argument("--operation", type=Operation, choices=list(Operation), default=Operation.INPAINT,
                   help="what the request was (inpaint)")



def _add_edit_arguments(p: argparse.ArgumentParser, operation: Operation) -> None:
    p.add_argument("source", type=Path, metavar="SOURCE", help="audio file (WAV, FLAC, AIFF, Ogg, MP3 ...)")
    p.add_argument("--start", type=float, required=True, metavar="S", help="range start, seconds")
    p.add_argument("--end", type=float, required=True, metavar="E", help="range end, seconds (exclusive)")
    p.add_argument("--prompt", default="", metavar="TEXT", help="what the range should sound like")
    p.add_argument("--negative-prompt", default="", metavar="TEXT", help="what to avoid")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help="write the whole file, range replaced, here")
    p.add_argument("--overwrite", action="store_true", help="allow -o to replace an existing file")
    p.add_argument("--patch", action="store_true", help="write only the range plus handles (for a DAW)")
    p.add_argument("--engine", metavar="NAME", help=f"engine ({', '.join(engine_names())}); default from config")
    p.add_argument("--model", metavar="ID", help="model id of the engine (default: the engine's first for this)")
    p.add_argument("--seed", type=int, metavar="N", help="seed; for local, picks among near-equal donor passages")
    p.add_argument("--fade-ms", type=float, metavar="MS", help="crossfade / bridge length inside the range (20)")
    p.add_argument("--context", type=float, metavar="S", help="seconds of surrounding audio the engine sees")
    for flag, kind, metavar, _, text in _HOSTED_PARAMS:
        p.add_argument(flag, type=kind, metavar=metavar, help=text)
    if operation is Operation.TRANSFORM:
        p.add_argument("--strength", type=float, metavar="X", help="0 keeps the audio, 1 ignores it (0.9)")
    p.add_argument("--accept-misaligned", action="store_true",
                   help="splice a hosted model's answer in place even when it does not line up with the original")
    p.add_argument("--preset", metavar="NAME", help="start from a preset (see `presets`)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any other model parameter, e.g. --set enable_prompt_expansion=true")
    p.add_argument("-y", "--yes", action="store_true", help="no question before a paid request above"
                   " [budget] confirm_above")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(operation=operation)


def _given(args: argparse.Namespace) -> dict[str, float | int | str | bool]:
    """The edit's options and model parameters as flags and ``--set`` gave them."""
    given: dict[str, float | int | str | bool] = {}
    for flag, value in (("engine", args.engine), ("model", args.model), ("seed", args.seed),
                        ("negative_prompt", args.negative_prompt or None), ("fade_ms", args.fade_ms),
                        ("context", args.context), ("preset", args.preset),
                        ("accept_misaligned", args.accept_misaligned or None)):
        if value is not None:
            given[flag] = value
    for _, _, _, key, _ in _HOSTED_PARAMS:
        if getattr(args, key) is not None:
            given[key] = getattr(args, key)
    if getattr(args, "strength", None) is not None:
        given["strength"] = args.strength
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadValue("--set", item, "must be KEY=VALUE")
        given[key.strip()] = value.strip()
    return given


def _edit(args: argparse.Namespace, settings: Settings) -> int:
    composed = compose(args.operation, source=args.source, start=args.start, end=args.end, prompt=args.prompt,
                       given=_given(args), settings=settings, presets=load_presets(settings.config_dir),
                       patch=args.patch)
    if composed.variations != 1:
        raise BadValue("variations", composed.variations, "the command line makes one take; use the daemon")
    req = replace(composed.request, output=args.output, overwrite=args.overwrite)
    resume_id = getattr(args, "request_id", None)
    if resume_id is not None and req.engine == "local":
        raise BadValue("--engine", req.engine, "resume collects a hosted request: name its engine (fal, wavespeed)")
    engine = make_engine(req.engine, settings)
    journal: Journal | None = None
    try:
        try:
            check_request(req, engine, resuming=resume_id is not None)  # every check before a price is shown
            cost = estimate(req, settings)
            if cost.model is not None:
                journal = Journal(settings.data_dir / "jobs.sqlite")  # the day's spend, across CLI and daemon
                if resume_id is None:  # a new paid request: its price, then the budget, then (maybe) a question
                    print(f"cost: {cost.describe()}", file=sys.stderr)
                    check_budget(cost, settings.budget, spent_today=journal.spent_today())
                    _confirm(cost, settings, args.yes)
        except BaseException:
            asyncio.run(engine.aclose())  # never used: nothing was sent
            raise
        show = None if args.quiet or not sys.stderr.isatty() else ProgressLine(sys.stderr)
        take = asyncio.run(_run(req, engine, settings, show, resume_id, cost, journal))
    finally:
        if journal is not None:
            journal.close()
    print(f"take: {take.path}")
    print(f"manifest: {take.manifest_path}")
    where = "full copy of the source" if take.kind == "full" else "patch: lay it over the source at this position"
    print(f"placement: {take.take_start:.6f}-{take.take_end:.6f} s ({where})")
    seed = f"seed {take.seed}" if take.seed_used else "the model takes no seed (the take cannot be reproduced)"
    print(f"engine: {take.engine} ({take.model}), {seed}")
    if take.request_id:
        print(f"request: {take.request_id}")
    if cost.model is not None:
        print(f"cost: {cost.describe()}")
    for note in take.notes:
        print(f"note: {note}")
    return 0


def _confirm(cost: Estimate, settings: Settings, yes: bool) -> None:
    """Ask before a paid request above ``[budget] confirm_above`` (a script passes --yes)."""
    threshold = settings.budget.confirm_above
    if yes or threshold is None or (cost.total is not None and cost.total <= threshold):
        return
    figure = "of unknown cost" if cost.total is None else f"costing about ${cost.total:.4f}"
    if not sys.stdin.isatty():
        raise BudgetError(f"this request is {figure}, above [budget] confirm_above = ${threshold:.2f}; pass --yes")
    answer = input(f"{PROG}: this request is {figure} (above ${threshold:.2f}); send it? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise BudgetError("not sent: the cost was not confirmed")


async def _run(req: EditRequest, engine: Engine, settings: Settings, show: ProgressLine | None,
               resume_id: str | None, cost: Estimate, journal: Journal | None) -> TakeInfo:

    def progress(step: Progress) -> None:
        if show is not None:
            show(step)
        if step.state == "submitting" and journal is not None and cost.model is not None:
            journal.spend(cost.total or 0.0, model=cost.model, origin="cli")
        if step.state == "cancelling" and step.message:  # Ctrl-C: say what the service did with the request
            print(f"{PROG}: {step.message}", file=sys.stderr)

    try:
        return await run_edit(req, engine, settings, on_progress=progress, resume_id=resume_id)
    finally:
        if show is not None:
            show.done()
        await engine.aclose()


