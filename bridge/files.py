"""Writing files safely: a temporary file beside the target, moved into place in one step.

Takes, manifests, spool results and controller maps are all written this way, so a crash
never leaves half a file under the name a DAW or a user reads.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bridge.errors import ConfigError, OutputError

__all__ = ["FolderLock", "temp_in", "write_text"]


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


def write_text(wanted: Path, text: str, *, exclusive: bool = False) -> Path:
    """Write a small text file atomically under exactly ``wanted``; with ``exclusive`` never over
    an existing file (a take's manifest)."""
    with temp_in(wanted.parent, ".json") as tmp:
        try:
            tmp.write_text(text, encoding="utf-8")
            if exclusive:
                os.link(tmp, wanted)
            else:
                os.replace(tmp, wanted)
        except FileExistsError:
            raise OutputError(f"output = {str(wanted)!r}: exists; it is left as it is") from None
        except OSError as exc:
            raise OutputError(f"output = {str(wanted)!r}: cannot be written ({exc.strerror})") from exc
    return wanted


class FolderLock:
    """An OS lock on ``<folder>/daemon.lock``, held for the process's life (released by the OS on
    any exit, kill -9 included). The file names the holder, for the message a second one gets."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "daemon.lock"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"data folder = {str(folder)!r}: cannot be locked ({exc.strerror})") from None
        if not _try_lock(self._fd):
            holder = self._read()
            os.close(self._fd)
            raise ConfigError(f"data folder = {str(folder)!r}: another daemon uses it ({holder}); stop it first,"
                              " or give this one a data folder of its own (INPAINT_BRIDGE_HOME)")
        self.note("starting")

    def note(self, what: str) -> None:
        """Say who holds the lock (``pid N, OSC port P``)."""
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, f"pid {os.getpid()}, {what}".encode())

    def _read(self) -> str:
        try:
            os.lseek(self._fd, 0, os.SEEK_SET)
            return os.read(self._fd, 200).decode(errors="replace").strip() or "pid unknown"
        except OSError:
            return "pid unknown"

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


def _try_lock(fd: int) -> bool:
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
