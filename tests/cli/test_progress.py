from __future__ import annotations

import io

from bridge.cli.progress import ProgressLine, describe
from bridge.engines.base import Progress


def test_describe_shows_state_queue_position_and_elapsed() -> None:
    text = describe(Progress("queued", 3.25, request_id="r1", queue_position=2))
    assert text.split() == ["queued", "3.2", "s", "queue", "position", "2"]
    assert "request r1" in describe(Progress("submitted", 0.5, request_id="r1"))


def test_progress_line_rewrites_one_line() -> None:
    out = io.StringIO()
    line = ProgressLine(out)
    line(Progress("running", 1.0, message="step 3/8"))
    line(Progress("downloading", 2.0))
    line.done()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and "step 3/8" in text
