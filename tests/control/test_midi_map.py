"""Controller maps with plain MIDI events: no ports, no backend."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bridge.control.commands import Arm, Cancel, Command, Edit, Learn, Live, Regenerate, Set, Take, UsePreset
from bridge.control.midi import MidiClock, event_from_bytes, save_map
from bridge.control.midi_map import Binding, ControllerMap, Learned, Mapper, MidiEvent, Pressed, load_map, shipped_maps
from bridge.errors import PresetError
from bridge.model import Operation, Quantize


def generic() -> Mapper:
    return Mapper(load_map(next(p for p in shipped_maps() if p.stem == "generic")))


def commands(mapper: Mapper, *events: MidiEvent) -> list[Command | Learned]:
    return [c.command if isinstance(c, Pressed) else c for e in events for c in mapper.handle(e)]


def test_pad_36_regenerates_on_the_rising_edge_only() -> None:
    m = generic()
    press, release = MidiEvent("note_on", 1, 36, 100), MidiEvent("note_off", 1, 36, 0)
    assert commands(m, press) == [Edit(Operation.INPAINT)]
    assert commands(m, press) == []  # held: no second trigger
    assert commands(m, release, press) == [Edit(Operation.INPAINT)]
    assert commands(m, MidiEvent("note_on", 1, 36, 0)) == []  # note on with velocity 0 is a release


@pytest.mark.parametrize("note,expected", [(37, Regenerate()), (38, Take(-1)),
                                           (39, Take(1)), (40, Arm()),
                                           (42, Cancel()), (43, Learn("regenerate"))])
def test_pad_actions(note: int, expected: Command) -> None:
    assert commands(generic(), MidiEvent("note_on", 1, note, 90)) == [expected]


def test_knobs_set_parameters_with_range_and_curve() -> None:
    m = generic()
    assert commands(m, MidiEvent("cc", 1, 70, 127)) == [Set("guidance", 25.0)]
    assert commands(m, MidiEvent("cc", 1, 70, 0)) == [Set("guidance", 0.0)]
    assert commands(m, MidiEvent("cc", 1, 71, 64)) == [Set("steps", 52)]
    [knob] = commands(m, MidiEvent("cc", 1, 73, 64))
    # exponential: the middle of 2..500 ms is their geometric mean
    assert isinstance(knob, Set) and isinstance(knob.value, float) and 30 < knob.value < 34


def test_relative_encoders() -> None:
    controller = load_map(next(p for p in shipped_maps() if p.stem == "generic"))
    from dataclasses import replace

    knob = replace(controller.bindings[8], encoder="relative2c", step=1.0)
    knob64 = replace(controller.bindings[8], number=90, encoder="relative64", step=1.0)
    m = Mapper(ControllerMap("t", (knob, knob64)))
    assert commands(m, MidiEvent("cc", 1, 70, 3)) == [Set("guidance", 3.0)]
    assert commands(m, MidiEvent("cc", 1, 70, 127)) == [Set("guidance", 2.0)]  # -1
    assert commands(m, MidiEvent("cc", 1, 90, 66)) == [Set("guidance", 4.0)]  # +2
    assert commands(m, MidiEvent("cc", 1, 90, 0)) == [Set("guidance", 0.0)]  # clamped


def test_program_change_picks_a_preset_and_channels_filter() -> None:
    assert commands(generic(), MidiEvent("program", 5, 1)) == [UsePreset("room-tone")]
    assert commands(generic(), MidiEvent("program", 5, 100)) == []
    mpk = Mapper(load_map(next(p for p in shipped_maps() if p.stem == "akai-mpk-mini")))
    assert commands(mpk, MidiEvent("note_on", 10, 36, 90)) == [Edit(Operation.INPAINT)]
    assert commands(mpk, MidiEvent("note_on", 1, 36, 90)) == []


def test_toggle_fires_every_other_press() -> None:
    controller = load_map(next(p for p in shipped_maps() if p.stem == "generic"))
    from dataclasses import replace

    m = Mapper(replace(controller, bindings=(replace(controller.bindings[0], mode="toggle"),)))
    on, off = MidiEvent("note_on", 1, 36, 90), MidiEvent("note_off", 1, 36, 0)
    assert [len(commands(m, on, off)) for _ in range(4)] == [1, 0, 1, 0]


def test_learn_binds_the_next_message_and_saves(tmp_path: Path) -> None:
    m = generic()
    m.learn("cancel")
    assert commands(m, MidiEvent("note_on", 3, 60, 100)) == [Learned(Binding("note", 60, 3, action="cancel"))]
    assert commands(m, MidiEvent("note_off", 3, 60, 0), MidiEvent("note_on", 3, 60, 100)) == [Cancel()]
    save_map(m.map, tmp_path / "mine.toml")
    again = Mapper(load_map(tmp_path / "mine.toml"))
    assert commands(again, MidiEvent("note_on", 3, 60, 100)) == [Cancel()]
    assert commands(again, MidiEvent("cc", 1, 73, 64)) == commands(generic(), MidiEvent("cc", 1, 73, 64))
    with pytest.raises(PresetError, match="learn binds one of"):
        m.learn("dance")


@pytest.mark.parametrize("text,words", [
    ('[[binding]]\nmessage = "sysex"\n', "binding 1 message = 'sysex'"),
    ('[[binding]]\nmessage = "note"\nnumber = 200\naction = "cancel"\n', "binding 1 number = 200"),
    ('[[binding]]\nmessage = "note"\nnumber = 36\n', "exactly one of action or param"),
    ('[[binding]]\nmessage = "note"\nnumber = 36\naction = "explode"\n', "action = 'explode'"),
    ('[[binding]]\nmessage = "cc"\nnumber = 1\nparam = "x"\ncurve = "wobbly"\n', "curve = 'wobbly'"),
    ('[[binding]]\nmessage = "program"\n', "needs presets"),
    ('[feedback]\ndone = 300\n', "feedback done = 300"),
    ('colour = 1\n', "colour: unknown key"),
])
def test_bad_maps_name_file_binding_and_key(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PresetError) as caught:
        load_map(path)
    assert "bad.toml" in str(caught.value) and words in str(caught.value)


def test_every_shipped_map_loads() -> None:
    names = {load_map(p).name for p in shipped_maps()}
    assert {"generic", "akai-mpk-mini", "launchpad-x"} <= names


def test_bytes_to_events_and_clock() -> None:
    assert event_from_bytes([0x99, 36, 100]) == MidiEvent("note_on", 10, 36, 100)
    assert event_from_bytes([0x90, 36, 0]) == MidiEvent("note_off", 1, 36, 0)
    assert event_from_bytes([0xB0, 7, 64]) == MidiEvent("cc", 1, 7, 64)
    assert event_from_bytes([0xC4, 3]) == MidiEvent("program", 5, 3)
    assert event_from_bytes([0xE0, 0, 64]) is None  # pitch bend: not mapped
    assert event_from_bytes([0x90, 200, 1]) is None  # a data byte >= 128 is malformed
    clock = MidiClock()
    bar, beat, two_bars = Quantize(1), Quantize(0), Quantize(2)
    assert clock.until(bar) is None and not clock.running()
    clock.feed(0xFA, [0xFA], 0.0)
    for i in range(30):
        clock.feed(0xF8, [0xF8], 0.02 * (i + 1))  # 24 clocks per quarter at 0.02 s: 125 bpm
    assert clock.ticks == 30 and clock.running()
    wait = clock.until(bar)
    assert wait is not None and abs(wait[0] - 66 * 0.02) < 1e-6 and wait[1] == 4.0
    assert clock.until(beat) == pytest.approx((18 * 0.02, 2.0)) and clock.until(two_bars) == pytest.approx(
        (162 * 0.02, 8.0))
    assert dict(clock.status())["tempo"] == 125.0 and dict(clock.status())["phase"] == 1.25
    clock.feed(0xF2, [0xF2, 16, 0], 1.0)  # song position: 16 sixteenths = one bar
    assert clock.ticks == 96 and clock.until(bar) == pytest.approx((96 * 0.02, 8.0))
    clock.feed(0xFC, [0xFC], 1.1)
    assert clock.until(bar) is None


def test_a_pad_can_ask_the_live_script_to_capture(tmp_path: Path) -> None:
    path = tmp_path / "live.toml"
    path.write_text('name = "live"\n[[binding]]\nmessage = "note"\nnumber = 36\naction = "live_inpaint"\n'
                    '[[binding]]\nmessage = "note"\nnumber = 37\naction = "live_generate"\n')
    m = Mapper(load_map(path))
    assert commands(m, MidiEvent("note_on", 1, 36, 90), MidiEvent("note_on", 1, 37, 90)) == [
        Live(Operation.INPAINT), Live(Operation.GENERATE)]


def test_a_clock_boundary_comes_on_its_tick_and_a_stop_releases_it() -> None:
    async def main() -> None:
        clock = MidiClock()
        assert await clock.boundary(Quantize(0)) == -1.0  # no clock: nothing to wait for
        clock.feed(0xFA, [0xFA], 0.0)
        for i in range(1, 11):
            clock.feed(0xF8, [0xF8], 0.02 * i)
        beat = asyncio.ensure_future(clock.boundary(Quantize(0)))  # the next beat: tick 24
        await asyncio.sleep(0)
        for i in range(11, 24):
            clock.feed(0xF8, [0xF8], 0.02 * i)
        await asyncio.sleep(0)
        assert not beat.done()
        clock.feed(0xF8, [0xF8], 0.48)
        assert await beat == 1.0
        bar = asyncio.ensure_future(clock.boundary(Quantize(1)))
        await asyncio.sleep(0)
        clock.feed(0xFC, [0xFC], 0.5)  # stopped before the bar line: delivered at once, on no beat
        assert await bar == -1.0

    asyncio.run(main())
