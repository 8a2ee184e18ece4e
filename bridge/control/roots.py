"""Where the daemon may read sources and write takes.

A source path from OSC, MIDI or a spool file is resolved (symlinks too) and must lie
inside one of the media roots; takes go to the output folder, or to a DAW project folder
a request names when that lies inside a media or output root. Refusals name the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bridge.errors import AccessDenied, BadValue

__all__ = ["Roots"]


@dataclass(frozen=True)
class Roots:
    media: tuple[Path, ...]
    output: tuple[Path, ...]

    @classmethod
    def create(cls, media: list[Path], output: list[Path]) -> Roots:
        for folder in output:
            folder.mkdir(parents=True, exist_ok=True)
        return cls(tuple(p.expanduser().resolve() for p in media), tuple(p.expanduser().resolve() for p in output))

    def source(self, given: str) -> Path:
        """The resolved source path, if it lies inside a media root."""
        path = _resolve("source", given)
        if not any(path.is_relative_to(root) for root in self.media):
            raise AccessDenied(f"source = {given!r}: outside the media roots ({_list(self.media)})")
        return path

    def folder(self, given: str | None) -> Path:
        """Where a take goes: the named project folder when allowed, else the first output root."""
        if not given:
            return self.output[0]
        path = _resolve("project", given)
        if not any(path.is_relative_to(root) for root in self.media + self.output):
            raise AccessDenied(f"project = {given!r}: outside the media and output roots")
        try:
            is_folder = path.is_dir()
        except OSError as exc:
            raise BadValue("project", given, f"cannot be reached ({exc.strerror})") from None
        if not is_folder:
            raise BadValue("project", given, "is not a folder")
        return path


def _resolve(field: str, given: str) -> Path:
    if not given or "\x00" in given:
        raise BadValue(field, given, "must be a path")
    path = Path(given).expanduser()
    if not path.is_absolute():
        raise BadValue(field, given, "must be an absolute path")
    try:
        return path.resolve(strict=False)
    except (OSError, RuntimeError) as exc:
        raise BadValue(field, given, f"cannot be resolved ({exc})") from exc


def _list(paths: tuple[Path, ...]) -> str:
    return ", ".join(str(p) for p in paths)
