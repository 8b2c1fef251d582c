"""The standalone sandbox's memory across restarts: one SQLite file, written as the state changes.

Runware keeps a task it accepted, and answers ``getResponse`` for it, however often its front ends
restart; the standalone sandbox (``manage.py runware_sandbox``) behaves the same by writing every
accepted task, result, stored media item and charge to its own file, and reading it back when it starts.
The embedded sandbox needs none of this: it lives and dies with the one server process it is part of.

Each write is one small statement in autocommit mode, made with the engine's lock held, so the file is
always a state the sandbox was in.
"""

import json
import sqlite3
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS task (
    task_uuid TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    faults TEXT NOT NULL,
    base_url TEXT NOT NULL,
    results TEXT NOT NULL,
    errors TEXT NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS media (
    media_uuid TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    extension TEXT NOT NULL,
    content_type TEXT NOT NULL,
    expires_at REAL NOT NULL,
    faults TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS submit (task_uuid TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS usage (day TEXT PRIMARY KEY, amount TEXT NOT NULL, results INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class StoredTask:
    task: dict[str, Any]
    faults: dict[str, Any]
    base_url: str
    results: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    finished: bool


@dataclass(frozen=True)
class StoredMedia:
    media_uuid: str
    path: Path
    extension: str
    content_type: str
    expires_at: float
    faults: dict[str, Any]


class StateFile:
    """Reads and writes the sandbox's state; every method is called with the engine's lock held."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection shared by the engine's threads, serialised by the engine's lock (and this one,
        # for reads made while loading).
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._guard = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._guard:
            self._db.execute(sql, params)

    # --- tasks ------------------------------------------------------------------------------------

    def task_save(
        self,
        task_uuid: str,
        *,
        task: dict[str, Any],
        faults: dict[str, Any],
        base_url: str,
        results: list[dict[str, Any]],
        errors: list[dict[str, Any]],
    ) -> None:
        self._write(
            "INSERT INTO task (task_uuid, task, faults, base_url, results, errors) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (task_uuid) DO UPDATE SET results = excluded.results, errors = excluded.errors",
            (
                task_uuid,
                json.dumps(task),
                json.dumps(faults),
                base_url,
                json.dumps(results),
                json.dumps(errors),
            ),
        )

    def task_finished(self, task_uuid: str) -> None:
        """Every delivery of the task has been made (or given up): nothing to resume after a restart."""
        self._write("UPDATE task SET finished = 1 WHERE task_uuid = ?", (task_uuid,))

    def tasks(self) -> list[StoredTask]:
        with self._guard:
            rows = self._db.execute(
                "SELECT task, faults, base_url, results, errors, finished FROM task ORDER BY rowid"
            ).fetchall()
        return [
            StoredTask(json.loads(t), json.loads(f), base, json.loads(r), json.loads(e), bool(done))
            for t, f, base, r, e, done in rows
        ]

    # --- media, submissions, usage ----------------------------------------------------------------

    def media_save(self, media: StoredMedia) -> None:
        self._write(
            "INSERT OR REPLACE INTO media VALUES (?, ?, ?, ?, ?, ?)",
            (
                media.media_uuid,
                str(media.path),
                media.extension,
                media.content_type,
                media.expires_at,
                json.dumps(media.faults),
            ),
        )

    def media_delete(self, media_uuids: list[str]) -> None:
        with self._guard:
            self._db.executemany("DELETE FROM media WHERE media_uuid = ?", [(key,) for key in media_uuids])

    def media(self) -> list[StoredMedia]:
        with self._guard:
            rows = self._db.execute("SELECT * FROM media").fetchall()
        return [
            StoredMedia(key, Path(p), ext, ctype, exp, json.loads(f)) for key, p, ext, ctype, exp, f in rows
        ]

    def submit_save(self, task_uuid: str, count: int) -> None:
        self._write("INSERT OR REPLACE INTO submit VALUES (?, ?)", (task_uuid, count))

    def submits(self) -> dict[str, int]:
        with self._guard:
            return dict(self._db.execute("SELECT task_uuid, count FROM submit").fetchall())

    def usage_save(self, day: str, amount: Decimal, results: int) -> None:
        self._write("INSERT OR REPLACE INTO usage VALUES (?, ?, ?)", (day, str(amount), results))

    def usage(self) -> dict[str, tuple[Decimal, int]]:
        with self._guard:
            rows = self._db.execute("SELECT day, amount, results FROM usage").fetchall()
        return {day: (Decimal(amount), results) for day, amount, results in rows}
