"""The job journal: SQLite in the data folder, written before anything is announced.

One row per job, updated in place at every state change, in WAL mode with
``synchronous=NORMAL``: a commit reaches the database file's log before the call returns,
so a ``kill -9`` loses nothing that was announced (a power cut may lose the last commits).
Writes take well under a millisecond, so they run on the event loop, in the order the
states happen.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from bridge.errors import ConfigError
from bridge.jobs.events import JobState

__all__ = ["Journal", "JobRecord"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    state TEXT NOT NULL,
    fraction REAL NOT NULL DEFAULT 0,
    request TEXT NOT NULL,
    engine TEXT NOT NULL,
    prompt TEXT NOT NULL,
    seed INTEGER NOT NULL,
    group_id TEXT NOT NULL,
    reply_host TEXT,
    reply_port INTEGER,
    remote_id TEXT,
    take_path TEXT,
    manifest_path TEXT,
    take_start REAL,
    take_end REAL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE TABLE IF NOT EXISTS subscribers (host TEXT NOT NULL, port INTEGER NOT NULL, PRIMARY KEY (host, port));
"""


@dataclass(frozen=True)
class JobRecord:
    """A job as the journal holds it."""

    id: str
    created: float
    updated: float
    state: JobState
    fraction: float
    request: dict[str, object]
    engine: str
    prompt: str
    seed: int
    group_id: str
    reply_host: str | None
    reply_port: int | None
    remote_id: str | None
    take_path: str | None
    manifest_path: str | None
    take_start: float | None
    take_end: float | None
    error: str | None

    def to_json(self) -> dict[str, object]:
        return {k: v.value if isinstance(v, JobState) else v for k, v in self.__dict__.items()}


class Journal:
    """The jobs table and the subscriber list, in ``path``."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise ConfigError(f"journal = {str(path)!r}: cannot be opened ({exc})") from exc
        self._db.row_factory = sqlite3.Row
        self.path = path

    def close(self) -> None:
        self._db.close()

    def add(self, *, job_id: str, request: dict[str, object], engine: str, prompt: str, seed: int, group_id: str,
            reply: tuple[str, int] | None) -> None:
        now = time.time()
        self._db.execute(
            "INSERT INTO jobs (id, created, updated, state, request, engine, prompt, seed, group_id, reply_host,"
            " reply_port) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
            (job_id, now, now, json.dumps(request), engine, prompt, seed, group_id,
             reply[0] if reply else None, reply[1] if reply else None),
        )

    def update(self, job_id: str, state: JobState, fraction: float, **fields: object) -> None:
        allowed = {"remote_id", "take_path", "manifest_path", "take_start", "take_end", "error", "engine"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"journal: unknown fields {sorted(unknown)}")
        names = ["state = ?", "fraction = ?", "updated = ?"] + [f"{k} = ?" for k in fields]
        self._db.execute(f"UPDATE jobs SET {', '.join(names)} WHERE id = ?",
                         (state.value, fraction, time.time(), *fields.values(), job_id))

    def get(self, job_id: str) -> JobRecord | None:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _record(row) if row else None

    def jobs(self, *, states: Collection[JobState] | None = None, limit: int = 1000) -> list[JobRecord]:
        """Newest first."""
        if states:
            marks = ", ".join("?" * len(states))
            rows = self._db.execute(f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY created DESC LIMIT ?",
                                    (*(state.value for state in states), limit))
        else:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY created DESC LIMIT ?", (limit,))
        return [_record(r) for r in rows]

    def subscribers(self) -> list[tuple[str, int]]:
        return [(r["host"], r["port"]) for r in self._db.execute("SELECT host, port FROM subscribers")]

    def subscribe(self, host: str, port: int) -> None:
        self._db.execute("INSERT OR IGNORE INTO subscribers (host, port) VALUES (?, ?)", (host, port))

    def unsubscribe(self, host: str, port: int) -> None:
        self._db.execute("DELETE FROM subscribers WHERE host = ? AND port = ?", (host, port))


def _record(row: sqlite3.Row) -> JobRecord:
    values = dict(row)
    values["request"] = json.loads(values["request"])
    values["state"] = JobState(values["state"])
    return JobRecord(**values)
