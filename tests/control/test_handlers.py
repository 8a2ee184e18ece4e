"""Routing and handlers without sockets: OSC-shaped messages and typed commands in, typed replies and events out."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import soundfile as sf

from bridge.audio.signals import loop
from bridge.config import load_settings
from bridge.control.commands import Arm, Cancel, Edit, Live, Ping, Range, Set, Status, Subscribe, Take
from bridge.control.context import Context
from bridge.control.handlers import dispatch, handle_message
from bridge.control.notify import Notifier, led_state, spool_job, to_osc
from bridge.control.replies import Accepted, Cancelling, Pong, Refused, Report
from bridge.control.roots import Roots
from bridge.control.routes import ROUTES, parse
from bridge.engines.local import LocalEngine
from bridge.errors import BadArguments, UnknownAddress
from bridge.jobs.events import JobEvent, JobState
from bridge.jobs.journal import Journal
from bridge.jobs.presets import load_presets
from bridge.jobs.runner import Runner
from bridge.model import Operation

Sent = list[tuple[tuple[str, int], str, list[object]]]


@pytest.fixture
def song(tmp_path: Path) -> Path:
    path = tmp_path / "media" / "song.wav"
    path.parent.mkdir()
    sf.write(path, loop(48000, 6.0, channels=2, seed=3), 48000, subtype="PCM_16")
    return path


def run_with_context(song: Path, body: Callable[[Context, Sent, list[JobEvent]], Awaitable[None]]) -> None:
    """``body`` with a real runner (local engine in threads), journal and roots, and the messages it sent."""

    async def main() -> None:
        settings = load_settings()
        journal = Journal(settings.data_dir / "jobs.sqlite")
        sent: Sent = []
        events: list[JobEvent] = []
        notifier = Notifier(send=lambda to, address, args: sent.append((to, address, args)),
                            subscribers=journal.subscribers)

        def notify(event: JobEvent) -> None:
            events.append(event)
            notifier.job(event)

        runner = Runner(settings, journal, {"local": LocalEngine()}, notify=notify)
        context = Context(settings=settings, runner=runner,
                          roots=Roots.create([song.parent], [settings.data_dir / "takes"]),
                          presets=load_presets(settings.config_dir), notifier=notifier)
        try:
            await body(context, sent, events)
        finally:
            await runner.shutdown(5.0)
            journal.close()

    asyncio.run(main())


async def finished(events: list[JobEvent], job_id: str) -> JobEvent:
    while True:
        final = [e for e in events if e.job_id == job_id and e.final]
        if final:
            return final[0]
        await asyncio.sleep(0.01)


def test_every_address_parses_into_its_command() -> None:
    assert parse("/bridge/inpaint", ["/a.wav", 1, 2.5, "rain", "seed", 4]) == Edit(
        Operation.INPAINT, Range("/a.wav", 1.0, 2.5), "rain", {"seed": 4})
    assert parse("/bridge/generate", []) == Edit(Operation.GENERATE)
    assert parse("/bridge/arm", ["/a.wav", 1.0, 2.0]) == Arm(Range("/a.wav", 1.0, 2.0))
    assert parse("/bridge/take", [-1]) == Take(-1)
    assert parse("/bridge/cancel", []) == Cancel()
    assert parse("/bridge/set", ["seed"]) == Set("seed", None)
    assert parse("/bridge/subscribe", [9000]) == Subscribe(True, 9000)
    assert parse("/bridge/live", ["transform", "choir", "strength", 0.5]) == Live(
        Operation.TRANSFORM, "choir", {"strength": 0.5})
    for route in ROUTES:  # each command names the address it came from, for its error replies
        try:
            command = parse(route.address, [])
        except BadArguments:
            continue
        assert command.address == route.address


@pytest.mark.parametrize("address,params,words", [
    ("/bridge/inpaint", ["/a.wav", "x", 2.0], "/bridge/inpaint: start = 'x': must be a finite number"),
    ("/bridge/take", [99], "/bridge/take: step = 99: must be a whole number in range -16..16"),
    ("/bridge/status", ["a", "b"], "takes at most 1 arguments"),
    ("/bridge/live", ["paint"], "operation = 'paint': must be one of inpaint, transform, generate"),
    ("/bridge/prompt", [], "text is missing"),
])
def test_bad_arguments_name_the_address_and_field(address: str, params: list[object], words: str) -> None:
    with pytest.raises(BadArguments, match=words.replace(".", r"\.").replace("(", r"\(")):
        parse(address, params)


def test_unknown_and_pattern_addresses_are_refused() -> None:
    for address in ("/bridge/nope", "/bridge/*", "bridge/ping"):
        with pytest.raises(UnknownAddress):
            parse(address, [])


def test_every_reply_has_its_documented_osc_form() -> None:
    assert to_osc(Accepted("j1")) == ("/bridge/accepted", ["j1", 0.0])
    assert to_osc(Accepted("j2", 0.0331)) == ("/bridge/accepted", ["j2", 0.0331])
    assert to_osc(Accepted("j3", None)) == ("/bridge/accepted", ["j3", -1.0])
    assert to_osc(Cancelling("j1", 0.5)) == ("/bridge/progress", ["j1", "cancelling", 0.5])
    assert to_osc(Refused("/bridge/take", "no take")) == ("/bridge/error", ["/bridge/take", "no take"])
    assert to_osc(Report((("prompt", "rain"), ("seed", 3)))) == ("/bridge/status", ["prompt", "rain", "seed", 3])
    assert to_osc(Pong("1.0", (1, "x"))) == ("/bridge/pong", ["1.0", 1, "x"])
    failed = JobEvent("j2", JobState.FAILED, 1.0, 0, "local", error="no donor")
    assert to_osc(failed) == ("/bridge/error", ["j2", "no donor"])
    assert to_osc(JobEvent("j3", JobState.RUNNING, 0.5, 0, "local")) == ("/bridge/progress", ["j3", "running", 0.5])
    assert spool_job(failed)["error"] == "no donor" and led_state(JobState.FAILED) == "error"


def test_a_pad_press_on_local_takes_the_best_donor_unless_a_seed_is_set(song: Path) -> None:
    async def body(ctx: Context, sent: Sent, events: list[JobEvent]) -> None:
        assert dispatch(ctx, Arm(Range(str(song), 2.0, 2.5)), None)[0] == Report(tuple(ctx.session.snapshot()))
        [pressed] = dispatch(ctx, Edit(Operation.INPAINT), None)  # a MIDI pad: no sender
        assert isinstance(pressed, Accepted)
        done = await finished(events, pressed.job_id)
        assert done.state is JobState.DONE and done.seed == 0 and done.take is not None
        dispatch(ctx, Set("seed", 7), None)
        [again] = dispatch(ctx, Edit(Operation.INPAINT), None)
        assert isinstance(again, Accepted) and (await finished(events, again.job_id)).seed == 7

    run_with_context(song, body)


def test_replies_go_to_the_sender_and_events_to_the_requester_and_subscribers(song: Path) -> None:
    async def body(ctx: Context, sent: Sent, events: list[JobEvent]) -> None:
        me, tablet = ("127.0.0.1", 50000), ("127.0.0.1", 50001)
        assert dispatch(ctx, Subscribe(True), tablet) == [Report((("subscribed", 50001),))]
        [accepted] = handle_message(ctx, "/bridge/inpaint", [str(song), 1.0, 1.2, "", "reply_port", 50002], me)
        assert isinstance(accepted, Accepted)
        await finished(events, accepted.job_id)
        done = [(to, args) for to, address, args in sent if address == "/bridge/done"]
        assert sorted(to for to, _ in done) == [("127.0.0.1", 50001), ("127.0.0.1", 50002)]
        [status] = dispatch(ctx, Status(accepted.job_id), me)
        assert isinstance(status, JobEvent) and status.state is JobState.DONE

    run_with_context(song, body)


def test_refusals_name_the_command_and_never_raise(song: Path) -> None:
    async def body(ctx: Context, sent: Sent, events: list[JobEvent]) -> None:
        assert dispatch(ctx, Edit(Operation.INPAINT), None) == [
            Refused("/bridge/inpaint", "/bridge/inpaint: no source and range given, and none armed (/bridge/arm)")]
        assert dispatch(ctx, Cancel(), None) == [Refused("/bridge/cancel", "/bridge/cancel: no active job to cancel")]
        [refused] = dispatch(ctx, Edit(Operation.INPAINT, Range(str(song), 1.0, 1.5), "", {"fade_ms": 5000}), None)
        assert refused == Refused("/bridge/inpaint", "fade_ms = 5000: must be a number in range 0..2000")
        [outside] = dispatch(ctx, Edit(Operation.INPAINT, Range("/etc/passwd", 1.0, 1.5)), None)
        assert isinstance(outside, Refused) and "outside the media roots" in outside.message
        assert dispatch(ctx, Ping((1, "x")), None) == [Pong(ctx.version, (1, "x"))]
        [take] = handle_message(ctx, "/bridge/take", [], ("127.0.0.1", 1))
        assert take == Refused("/bridge/take", "/bridge/take: the last request has no finished take yet")
        assert handle_message(ctx, "/nope", [], None)[0] == Refused(
            "/nope", "address '/nope': unknown; send /bridge/ping, or see the README")
        assert not events and not sent

    run_with_context(song, body)


def test_session_options_are_checked_when_set_against_the_engine_and_model_in_effect(song: Path) -> None:
    async def body(ctx: Context, sent: Sent, events: list[JobEvent]) -> None:
        def refusal(*params: object) -> str:
            [reply] = handle_message(ctx, "/bridge/set", list(params), None)
            return reply.message if isinstance(reply, Refused) else ""

        assert refusal("steps", "many") == "steps = 'many': must be a whole number in range 1..100"
        assert refusal("steps", 5000) == "steps = 5000: must be a whole number in range 1..100"
        assert refusal("bogus", 1).startswith("bogus = 1: not a parameter of any model; they take: ")
        assert refusal("engine", "nope") == "engine = 'nope': must be one of fal, local, wavespeed"
        assert refusal("steps", 20) == "" and ctx.session.options["steps"] == 20  # a knob for a hosted model
        assert refusal("model", "fal-ai/stable-audio-25/inpaint") == ""
        assert refusal("steps", 20) == "steps = 20: must be a whole number in range 4..8"
        assert refusal("guidance", 3) == "" and refusal("steps") == "" and "steps" not in ctx.session.options
        assert refusal("quantize", "maybe") == "quantize = 'maybe': must be off, beat, bar, or a number of bars 1..64"
        assert refusal("quantize", "bar") == ("quantize = 'bar': no beat to follow: start the daemon with --link"
                                              " (Ableton Link), or with --midi and send it MIDI clock")
        assert refusal("quantize", "off") == ""

    run_with_context(song, body)


def test_a_quantized_take_is_announced_on_the_next_boundary_of_the_beat(song: Path) -> None:
    from bridge.control.midi import MidiClock

    async def body(ctx: Context, sent: Sent, events: list[JobEvent]) -> None:
        clock = ctx.notifier.time = MidiClock()
        request = [str(song), 1.0, 1.05, "", "quantize", "bar"]
        [refused] = handle_message(ctx, "/bridge/inpaint", request, ("127.0.0.1", 9))
        assert isinstance(refused, Refused) and "the MIDI clock is not running" in refused.message
        clock.feed(0xFA, [0xFA], 0.0)
        for i in range(30):  # 30 ticks of 5 ms: the next bar line is tick 96, beat 4
            clock.feed(0xF8, [0xF8], 0.005 * (i + 1))
        [accepted] = handle_message(ctx, "/bridge/inpaint", request, ("127.0.0.1", 9))
        assert isinstance(accepted, Accepted)
        done = await finished(events, accepted.job_id)
        assert done.state is JobState.DONE and done.quantize is not None
        for tick in range(31, 96):  # the clock runs on up to the tick before the bar line
            clock.feed(0xF8, [0xF8], 0.005 * tick)
            await asyncio.sleep(0)
        assert not [m for m in sent if m[1] == "/bridge/done"]  # held: the boundary has not come yet
        clock.feed(0xF8, [0xF8], 0.005 * 96)
        for _ in range(10):
            await asyncio.sleep(0)
        [(_, _, args)] = [m for m in sent if m[1] == "/bridge/done"]
        assert args[0] == accepted.job_id and args[6] == 4.0  # announced on the bar line's tick, beat 4
        assert spool_job(dataclasses.replace(done, boundary=4.0))["boundary_beat"] == 4.0

    run_with_context(song, body)


def test_a_bank_of_variations_waits_until_a_slot_is_selected_and_keep_ahead_refills_played_slots(
        song: Path) -> None:
    async def body(ctx: Context, sent: Sent, events: list[JobEvent]) -> None:
        me = ("127.0.0.1", 9)
        accepted = handle_message(ctx, "/bridge/inpaint", [str(song), 1.0, 1.05, "", "variations", 3, "hold", 1], me)
        ids = [a.job_id for a in accepted if isinstance(a, Accepted)]
        [refused] = handle_message(ctx, "/bridge/select", [1], me)
        assert isinstance(refused, Refused) and "slot 1 is " in refused.message and "not ready" in refused.message
        for job_id in ids:
            assert (await finished(events, job_id)).state is JobState.DONE
        # ready, not delivered: the DAW hears of a take only when it is selected
        assert not [m for m in sent if m[1] == "/bridge/done"]
        assert sorted(str(m[2][0]) for m in sent if m[1] == "/bridge/progress" and m[2][1] == "ready") == sorted(ids)
        assert handle_message(ctx, "/bridge/select", [2], me) == []
        [(_, _, done)] = [m for m in sent if m[1] == "/bridge/done"]
        assert done[0] == ids[1] and done[6] == -1.0
        [refused] = handle_message(ctx, "/bridge/select", [4], me)
        assert isinstance(refused, Refused) and "slot = 4: the bank holds 3 takes" in refused.message

        # keep two fresh takes waiting: playing slot 1 after slot 2 leaves one fresh, so slot 2 is regenerated
        assert handle_message(ctx, "/bridge/set", ["keep_ahead", 2], None)
        handle_message(ctx, "/bridge/select", [1], me)
        bank = ctx.runner.last_group
        assert [j.id for j in bank][0::2] == [ids[0], ids[2]] and bank[1].id != ids[1]
        assert bank[1].seed == max(j.seed for j in bank) and bank[1].request.start == 1.0
        assert (await finished(events, bank[1].id)).state is JobState.DONE
        assert handle_message(ctx, "/bridge/select", [2], me) == []  # the new take plays from the same pad

        # a hosted engine regenerating on its own costs money: not without a daily ceiling
        handle_message(ctx, "/bridge/set", ["engine", "fal"], None)
        [refused] = handle_message(ctx, "/bridge/set", ["keep_ahead", 1], None)
        assert isinstance(refused, Refused) and "[budget] per_day" in refused.message

    run_with_context(song, body)
