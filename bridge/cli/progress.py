"""Live progress of a job on a terminal: one line, rewritten in place."""

from __future__ import annotations

from typing import TextIO

from bridge.engines.base import Progress

__all__ = ["ProgressLine", "describe"]


def describe(progress: Progress) -> str:
    """``running  12.3 s  queue position 2  <last log line>`` for one progress step."""
    parts = [f"{progress.state:<11}", f"{progress.elapsed_s:6.1f} s"]
    if progress.queue_position is not None:
        parts.append(f"queue position {progress.queue_position}")
    if progress.request_id and progress.state == "submitted":
        parts.append(f"request {progress.request_id}")
    if progress.message:
        parts.append(progress.message)
    return "  ".join(parts)


class ProgressLine:
    """Callable for ``on_progress``: rewrites one stderr line per step; :meth:`done` ends it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._width = 0

    def __call__(self, progress: Progress) -> None:
        text = describe(progress)[:100]
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def done(self) -> None:
        if self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0
