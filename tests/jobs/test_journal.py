from __future__ import annotations

from pathlib import Path

from bridge.jobs.events import JobState
from bridge.jobs.journal import Journal


def test_rows_survive_reopening_and_list_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "data" / "jobs.sqlite"
    journal = Journal(path)
    journal.add(job_id="a", request={"source": "/x.wav"}, engine="fal", prompt="rain", seed=1, group_id="g",
                reply=("127.0.0.1", 9000))
    journal.add(job_id="b", request={"source": "/x.wav"}, engine="local", prompt="", seed=2, group_id="g", reply=None)
    journal.update("a", JobState.SUBMITTED, 0.25, remote_id="req-1")
    journal.subscribe("127.0.0.1", 9001)
    journal.close()  # as good as a kill: every write was committed when it returned

    again = Journal(path)
    a = again.get("a")
    assert a is not None and a.state is JobState.SUBMITTED and a.remote_id == "req-1" and a.reply_port == 9000
    assert a.request == {"source": "/x.wav"}
    assert [r.id for r in again.jobs()] == ["b", "a"]
    assert [r.id for r in again.jobs(states=[JobState.SUBMITTED])] == ["a"]
    assert again.subscribers() == [("127.0.0.1", 9001)]
    again.unsubscribe("127.0.0.1", 9001)
    assert again.subscribers() == []
    assert again.get("nope") is None
