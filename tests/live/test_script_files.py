"""The script as Live loads it: Python 3.7 syntax, the standard library and ``Live`` only, its
settings file, and its OSC codec against python-osc."""

from __future__ import annotations

import ast
import importlib.metadata
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from InpaintBridge.osc import OscError, decode, encode
from InpaintBridge.settings import load
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from .conftest import SCRIPTS

MODULES = sorted((SCRIPTS / "InpaintBridge").glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_parses_as_python_3_7_and_imports_only_what_live_has(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path), feature_version=(3, 7))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
    assert imported <= set(sys.stdlib_module_names) | {"Live"}, imported - set(sys.stdlib_module_names)


def test_the_stubs_that_check_the_script_are_installed() -> None:
    # mypy --strict (tests/test_package.py) checks every call the script makes against them
    assert importlib.metadata.version("ableton-live-stubs").startswith("12.")


def test_create_instance_is_the_entry_point() -> None:
    tree = ast.parse((SCRIPTS / "InpaintBridge" / "__init__.py").read_text())
    functions = {node.name: [a.arg for a in node.args.args] for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert functions == {"create_instance": ["c_instance"]}


def test_settings_file_wins_over_the_environment(tmp_path: Path) -> None:
    env = {"INPAINT_BRIDGE_LIVE_PORT": "9500", "INPAINT_BRIDGE_OSC_PORT": "9501"}
    settings, problems = load(str(tmp_path), env)
    assert (settings.listen_port, settings.daemon_port, problems) == (9500, 9501, [])
    (tmp_path / "settings.json").write_text('{"listen_port": 9600, "notes": {"regenerate": 40}}')
    settings, problems = load(str(tmp_path), env)
    assert (settings.listen_port, settings.daemon_port, problems) == (9600, 9501, [])
    assert settings.notes == {40: "regenerate"}
    settings, problems = load(str(tmp_path / "none"), {})
    assert (settings.listen_port, settings.daemon_port) == (9131, 9130)


def test_bad_settings_are_named_and_fall_back(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text('{"listen_port": 70000, "daemon_port": "x", "notes": {"jump": 3,'
                                            ' "cancel": 300}, "colour": 1}')
    settings, problems = load(str(tmp_path), {"INPAINT_BRIDGE_OSC_PORT": "9501"})
    assert (settings.listen_port, settings.daemon_port, settings.notes) == (9131, 9130, {})
    assert problems == [
        "settings.json: colour: unknown key (known: listen_port, daemon_port, notes)",
        "settings.json: listen_port = 70000: must be a port number in range 1..65535",
        "settings.json: daemon_port = 'x': must be a port number in range 1..65535",
        "settings.json: notes.jump: unknown action (known: inpaint, transform, generate, regenerate, cancel)",
        "settings.json: notes.cancel = 300: must be a note number in range 0..127",
    ]
    (tmp_path / "settings.json").write_text("{not json")
    assert load(str(tmp_path), {})[1][0].startswith("settings.json: Expecting property name")


text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)  # OSC strings
values = st.one_of(text,
                   st.integers(-(2**31), 2**31 - 1), st.booleans(),
                   st.floats(allow_nan=False, allow_infinity=False))


@given(st.text(min_size=1, max_size=30).map(lambda s: "/" + s.replace("\x00", "")), st.lists(values, max_size=8))
def test_what_it_encodes_python_osc_reads(address: str, args: list[Any]) -> None:
    message = OscMessage(encode(address, args))
    assert message.address == address and list(message.params) == args


@given(st.lists(values, max_size=8))
def test_it_reads_what_python_osc_builds(args: list[Any]) -> None:
    builder = OscMessageBuilder("/bridge/done")
    for arg in args:
        builder.add_arg(arg, "d" if isinstance(arg, float) else None)
    assert decode(builder.build().dgram) == [("/bridge/done", args)]


@given(st.binary(max_size=64))
def test_garbage_raises_only_osc_errors(data: bytes) -> None:
    try:
        decode(b"/x\x00\x00" + data)
    except OscError:
        pass


def test_bundles_are_unpacked_and_bounded() -> None:
    one = encode("/bridge/accepted", ["j1"])
    bundle = b"#bundle\x00" + bytes(8) + struct.pack(">i", len(one)) + one
    assert decode(bundle) == [("/bridge/accepted", ["j1"])]
    with pytest.raises(OscError, match="does not fit"):
        decode(b"#bundle\x00" + bytes(8) + struct.pack(">i", 400) + one)
    nested = bundle
    for _ in range(5):
        nested = b"#bundle\x00" + bytes(8) + struct.pack(">i", len(nested)) + nested
    with pytest.raises(OscError, match="nested too deep"):
        decode(nested)
