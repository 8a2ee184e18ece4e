"""Writing files safely: a temporary file beside the target, moved into place in one step.

Takes, manifests, spool results and controller maps are all written this way, so a crash
never leaves half a file under the name a DAW or a user reads.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bridge.errors import OutputError

__all__ = ["temp_in", "write_text"]


@contextlib.contextmanager
def temp_in(folder: Path, suffix: str) -> Iterator[Path]:
    """A temporary file in ``folder`` that is removed unless it was moved away."""
    try:
        fd, name = tempfile.mkstemp(prefix=".inpaint-", suffix=suffix, dir=folder)
    except FileNotFoundError as exc:
        raise OutputError(f"output folder = {str(folder)!r}: does not exist") from exc
    except OSError as exc:
        raise OutputError(f"output folder = {str(folder)!r}: not writable ({exc.strerror})") from exc
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text(wanted: Path, text: str) -> Path:
    """Write a small text file (a manifest) atomically under exactly ``wanted``."""
    with temp_in(wanted.parent, ".json") as tmp:
        try:
            tmp.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"output = {str(wanted)!r}: cannot be written ({exc.strerror})") from exc
        os.replace(tmp, wanted)
    return wanted
