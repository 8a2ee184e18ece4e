"""The job journal: SQLite in the data folder, written before anything is announced.

One row per job, updated in place at every state change, in WAL mode with
``synchronous=NORMAL``: a commit reaches the database file's log before the call returns,
so a ``kill -9`` loses nothing that was announced (a power cut may lose the last commits).
Writes take well under a millisecond, so they run on the event loop, in the order the
states happen.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from bridge.errors import ConfigError
from bridge.jobs.events import FINAL, JobState

__all__ = ["Journal", "JobRecord"]

log = logging.getLogger("bridge.jobs")

SUBSCRIBERS_PER_HOST = 16
SUBSCRIBERS = 64
SUBSCRIBER_DAYS = 30.0
"""A subscriber that has not subscribed again for this long is forgotten (the DAW scripts renew at start)."""

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
    error TEXT,
    submitting INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE TABLE IF NOT EXISTS spend (
    day TEXT NOT NULL,
    at REAL NOT NULL,
    usd REAL NOT NULL,
    model TEXT NOT NULL,
    request_id TEXT,
    origin TEXT NOT NULL
);
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
    submitting: bool = False
    """The paid submit may have been sent (a restart must not send it again)."""

    def to_json(self) -> dict[str, object]:
        return {k: v.value if isinstance(v, JobState) else v for k, v in self.__dict__.items()}


class Journal:
    """The jobs table and the subscriber list, in ``path``.

    With ``repair`` (the daemon), a damaged file is moved aside and a fresh journal started;
    :attr:`notice` then says so. Without it (``inpaint-bridge jobs``) a damaged file is an error.
    """

    def __init__(self, path: Path, *, repair: bool = False) -> None:
        self.path = path
        self.notice: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"journal = {str(path)!r}: its folder cannot be made ({exc.strerror})") from exc
        try:
            self._db = self._open(path)
        except sqlite3.DatabaseError as exc:
            if not repair:
                raise ConfigError(f"journal = {str(path)!r}: damaged ({exc}); the daemon moves it aside"
                                  " when it starts") from None
            aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{path}{suffix}", f"{aside}{suffix}")
            self.notice = (f"the job journal was damaged ({exc}); it was moved aside to {aside} and the job"
                           " history starts afresh")
            log.warning("%s", self.notice, extra={"event": "journal_damaged"})
            try:
                self._db = self._open(path)
            except sqlite3.Error as again:
                raise ConfigError(f"journal = {str(path)!r}: cannot be opened ({again})") from None
        except (sqlite3.Error, OSError) as exc:
            raise ConfigError(f"journal = {str(path)!r}: cannot be opened ({exc})") from exc
        self._db.row_factory = sqlite3.Row

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        """Connect and check; :class:`sqlite3.DatabaseError` when the file is not a sound journal."""
        if path.exists() and path.stat().st_size == 0:
            raise sqlite3.DatabaseError("the file is empty")
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            problems = [row[0] for row in db.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError("; ".join(problems[:3]))
            db.executescript(SCHEMA)
            for table, column, kind in (("jobs", "submitting", "INTEGER NOT NULL DEFAULT 0"),
                                        ("subscribers", "updated", "REAL NOT NULL DEFAULT 0")):
                if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")  # an older journal
        except BaseException:
            db.close()
            raise
        return db

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
        allowed = {"remote_id", "take_path", "manifest_path", "take_start", "take_end", "error", "engine", "submitting"}
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
        """Add (or renew) a subscriber; beyond :data:`SUBSCRIBERS_PER_HOST` per host and
        :data:`SUBSCRIBERS` in all, the least recently renewed go."""
        self._db.execute("INSERT INTO subscribers (host, port, updated) VALUES (?, ?, ?) ON CONFLICT (host, port)"
                         " DO UPDATE SET updated = excluded.updated", (host, port, time.time()))
        self._db.execute("DELETE FROM subscribers WHERE host = ? AND port NOT IN (SELECT port FROM subscribers WHERE"
                         " host = ? ORDER BY updated DESC, rowid DESC LIMIT ?)", (host, host, SUBSCRIBERS_PER_HOST))
        self._db.execute("DELETE FROM subscribers WHERE rowid NOT IN (SELECT rowid FROM subscribers"
                         " ORDER BY updated DESC, rowid DESC LIMIT ?)", (SUBSCRIBERS,))

    def unsubscribe(self, host: str, port: int) -> None:
        self._db.execute("DELETE FROM subscribers WHERE host = ? AND port = ?", (host, port))

    def spend(self, usd: float, *, model: str, origin: str, request_id: str | None = None) -> None:
        """Record an estimated cost as the paid request goes out (today, local time)."""
        self._db.execute("INSERT INTO spend (day, at, usd, model, request_id, origin) VALUES (?, ?, ?, ?, ?, ?)",
                         (time.strftime("%Y-%m-%d"), time.time(), usd, model, request_id, origin))

    def spent_today(self) -> float:
        row = self._db.execute("SELECT COALESCE(SUM(usd), 0) FROM spend WHERE day = ?",
                               (time.strftime("%Y-%m-%d"),)).fetchone()
        return float(row[0])

    def spending(self, days: int = 14) -> list[tuple[str, float, int]]:
        """(day, USD, requests) for the newest ``days`` days with any spend, newest first."""
        rows = self._db.execute("SELECT day, SUM(usd), COUNT(*) FROM spend GROUP BY day ORDER BY day DESC LIMIT ?",
                                (days,))
        return [(str(d), float(u), int(n)) for d, u, n in rows]

    def prune(self, *, keep_jobs: int, subscriber_days: float = SUBSCRIBER_DAYS) -> int:
        """Forget finished jobs beyond the newest ``keep_jobs`` (unfinished ones always stay) and
        subscribers not renewed for ``subscriber_days``; returns how many jobs went."""
        final = tuple(state.value for state in FINAL)
        gone = self._db.execute(
            f"DELETE FROM jobs WHERE state IN ({', '.join('?' * len(final))}) AND id NOT IN"
            " (SELECT id FROM jobs ORDER BY created DESC LIMIT ?)", (*final, keep_jobs)).rowcount
        self._db.execute("DELETE FROM subscribers WHERE updated < ?", (time.time() - subscriber_days * 86400,))
        return int(gone)


def _record(row: sqlite3.Row) -> JobRecord:
    """A row as a record; a damaged row still reads (its request empty, its state failed), so
    listing and resuming can name it instead of stopping."""
    values = dict(row)
    try:
        request = json.loads(values["request"])
    except (TypeError, ValueError, RecursionError):
        request = None
    values["request"] = request if isinstance(request, dict) else {}
    try:
        values["state"] = JobState(values["state"])
    except ValueError:
        values["state"] = JobState.FAILED
    values["submitting"] = bool(values["submitting"])
    return JobRecord(**values)
