"""The ReaPack index of the REAPER scripts, generated from their ReaPack headers.

The package's main script carries ``@description``, ``@version``, ``@author``, ``@changelog``,
``@link``, ``@about`` and ``@provides``; the index lists each provided file with a source URL
at the tagged version (``v<version>``) of the repository. ReaPack shows ``<description>`` as
RTF (plain text reads as "Could not load RTF document" on macOS), so ``@about`` is turned
into a small RTF document.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from bridge.cli.parsers import PROG, add_command
from bridge.errors import BadValue

__all__ = ["register", "write_index", "REPOSITORY", "build_index", "read_header", "rtf"]

REPOSITORY = "https://github.com/inpaint-bridge/inpaint-bridge"
MAIN_SCRIPT = "Inpaint Bridge - Inpaint time selection.lua"
CATEGORY = "Items Editing"
_TAG = re.compile(r"^--\s*@(\w+)\s*(.*)$")


def read_header(text: str) -> dict[str, str]:
    """The ``-- @tag value`` lines of a script's leading comment; indented lines continue a tag."""
    tags: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        match = _TAG.match(line)
        if match:
            current = match.group(1)
            tags[current] = [match.group(2).strip()] if match.group(2).strip() else []
        elif current is not None and (line.startswith("--  ") or line.strip() == "--"):
            tags[current].append(line[2:].strip())
        else:
            current = None
    return {tag: "\n".join(lines).strip() for tag, lines in tags.items()}


def _rtf_text(text: str) -> str:
    out = []
    for ch in text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}"):
        out.append(ch if ord(ch) < 128 else f"\\u{ord(ch) if ord(ch) < 32768 else ord(ch) - 65536}?")
    return "".join(out)


def rtf(markdown: str) -> str:
    """A small RTF document for ReaPack's description pane: ``# `` lines as headings, the rest as paragraphs."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", markdown.strip()) if p.strip()]
    body = []
    for p in paragraphs:
        lines = p.splitlines()
        if lines[0].startswith("#"):
            body.append("{\\pard \\sa180 \\b \\fs28 " + _rtf_text(lines[0].lstrip("# ")) + "\\par}")
            lines = lines[1:]
        if lines:
            body.append("{\\pard \\sa180 " + _rtf_text(" ".join(line.strip() for line in lines)) + "\\par}")
    return "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 \\fswiss Helvetica;}}\\f0\\fs20\n" + "\n".join(body) + "\n}"


def _provides(value: str) -> list[tuple[str, bool]]:
    """(file, is an action) for each ``@provides`` line: ``[main] file`` or ``[nomain] file``."""
    out = []
    for line in value.splitlines():
        match = re.match(r"^\s*(?:\[(\w+)\]\s*)?(.+?)\s*$", line)
        if match and match.group(2):
            out.append((match.group(2), match.group(1) != "nomain"))
    return out


def build_index(scripts: Path) -> str:
    """The ``index.xml`` text for the scripts in ``scripts`` (the main script's headers rule)."""
    main = scripts / MAIN_SCRIPT
    if not main.is_file():
        raise BadValue("scripts", str(scripts), f"has no {MAIN_SCRIPT!r}")
    tags = read_header(main.read_text(encoding="utf-8"))
    for needed in ("description", "version", "author", "provides", "about"):
        if not tags.get(needed):
            raise BadValue(f"@{needed}", str(main), "is missing from the main script's header")
    version = tags["version"]
    files = [(MAIN_SCRIPT, True)] + _provides(tags["provides"])
    for name, _ in files:
        if not (scripts / name).is_file():
            raise BadValue("@provides", name, f"names a file that is not in {scripts}")
    sources = []
    for name, is_action in files:
        url = f"{REPOSITORY}/raw/v{version}/reaper_scripts/{quote(name)}"
        main_attr = ' main="main"' if is_action else ""
        sources.append(f"        <source{main_attr} file={quoteattr(name)}>{url}</source>")
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<index version="1" name="Inpaint Bridge">',
        f"  <category name={quoteattr(CATEGORY)}>",
        f"    <reapack name={quoteattr(MAIN_SCRIPT)} type=\"script\" desc={quoteattr(tags['description'])}>",
        "      <metadata>",
        f"        <description><![CDATA[{rtf(tags['about'])}]]></description>",
        f"        <link rel=\"website\">{tags.get('link') or REPOSITORY}</link>",
        "      </metadata>",
        f"      <version name={quoteattr(version)} author={quoteattr(tags['author'])}>",
        f"        <changelog><![CDATA[{tags.get('changelog', '')}]]></changelog>",
        *sources,
        "      </version>",
        "    </reapack>",
        "  </category>",
        "</index>",
    ]
    return "\n".join(lines) + "\n"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    k = add_command(
        sub, "reapack-index", lambda args, settings: write_index(args.scripts, check=args.check),
        help="write the REAPER scripts' ReaPack index from their headers",
        description="Generate reaper_scripts/index.xml from the main script's @version, @provides, @about and"
        " @changelog headers, with source URLs at the tag v<version>. --check only compares.",
        examples=f"examples:\n  {PROG} reapack-index\n  {PROG} reapack-index --check")
    k.add_argument("--scripts", type=Path, default=Path(__file__).resolve().parents[2] / "reaper_scripts",
                   metavar="DIR", help="the reaper_scripts folder (this checkout's)")
    k.add_argument("--check", action="store_true", help="exit 1 when index.xml is not what the headers give")


def write_index(scripts: Path, *, check: bool) -> int:
    """Write ``index.xml`` (or with ``check`` only compare it); the exit status."""
    text = build_index(scripts)
    index = scripts / "index.xml"
    if check:
        if index.is_file() and index.read_text(encoding="utf-8") == text:
            print(f"{index}: up to date")
            return 0
        print(f"{PROG}: {index} differs from the scripts' headers; run: {PROG} reapack-index", file=sys.stderr)
        return 1
    index.write_text(text, encoding="utf-8")
    print(f"wrote {index}")
    return 0
