"""The ReaPack index: generated from the scripts' headers, committed in step, RTF descriptions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.cli.reapack import build_index, read_header, rtf
from bridge.errors import BadValue

SCRIPTS = Path(__file__).resolve().parents[2] / "reaper_scripts"


def test_the_committed_index_is_what_the_headers_give(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reapack-index", "--check"]) == 0, capsys.readouterr().err


def test_every_script_is_provided_at_the_tagged_version() -> None:
    index = ET.fromstring(build_index(SCRIPTS))
    version = index.find(".//version")
    assert version is not None
    tag = version.get("name")
    core = (SCRIPTS / "inpaint_bridge" / "core.lua").read_text()
    assert f'M.VERSION = "{tag}"' in core
    provided = {s.get("file") for s in index.iter("source")}
    on_disk = {str(p.relative_to(SCRIPTS)) for p in SCRIPTS.rglob("*.lua")}
    assert provided == on_disk
    for source in index.iter("source"):
        assert source.text is not None and f"/raw/v{tag}/reaper_scripts/" in source.text
        assert (source.get("main") == "main") == (not source.get("file", "").startswith("inpaint_bridge/"))


def test_the_description_is_rtf() -> None:
    index = ET.fromstring(build_index(SCRIPTS))
    text = index.findtext(".//description") or ""
    assert text.startswith("{\\rtf1\\ansi") and text.endswith("}")
    assert text.count("{") - text.count("\\{") == text.count("}") - text.count("\\}")
    assert rtf("# T\n\na {b} \\ é") .count("\\{b\\}") == 1 and "\\u233?" in rtf("é")


def test_headers_continue_over_indented_and_blank_comment_lines() -> None:
    tags = read_header("-- @about\n--   # Title\n--\n--   body\n-- @version 1.2\nlocal x = 1\n-- @late no")
    assert tags == {"about": "# Title\n\nbody", "version": "1.2"}


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    main_script = tmp_path / "Inpaint Bridge - Inpaint time selection.lua"
    main_script.write_text("-- @description d\n-- @version 1\n-- @author a\n-- @about x\n"
                           "-- @provides\n--   [main] gone.lua\n")
    with pytest.raises(BadValue, match=re.escape("gone.lua")):
        build_index(tmp_path)
