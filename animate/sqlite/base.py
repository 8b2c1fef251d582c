"""Django's SQLite backend, with the threads of one process queueing for the write lock in Python.

SQLite lets one writer at a time hold a database; a connection that finds it taken waits in SQLite's busy
handler, which sleeps 1, 2, 5, 10, 15, 20, 25 ... 100 ms between tries whatever the holder is doing. In
embedded mode every writer is a thread of one process (requests, the worker, the sandbox), and writes
take well under a millisecond, so a writer that arrives during another's commit regularly slept for
tens of milliseconds, and a burst of writers for hundreds: the latency outliers and the lost throughput
of webhook ingest. Here a writer first takes a per-database lock of the process, so it waits exactly as
long as the write before it, and SQLite's busy handler only ever waits for other processes.

A transaction takes the lock at ``BEGIN`` (``transaction_mode`` IMMEDIATE or EXCLUSIVE) and gives it back
at commit, rollback or close; a write statement outside a transaction holds it for that statement.
"""

import threading
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
READS = ("SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK TO", "EXPLAIN")


def _write_lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holds_write_lock = False

    def _acquire_write_lock(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 20))
        if not _write_lock(str(self.settings_dict["NAME"])).acquire(timeout=timeout):
            raise OperationalError("database is locked (no write turn within the timeout)")
        self.holds_write_lock = True

    def _release_write_lock(self) -> None:
        if self.holds_write_lock:
            self.holds_write_lock = False
            _write_lock(str(self.settings_dict["NAME"])).release()

    def _start_transaction_under_autocommit(self) -> None:
        self._acquire_write_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self) -> Any:
        try:
            return super()._close()
        finally:
            self._release_write_lock()

    def create_cursor(self, name: str | None = None) -> Any:
        wrapper = self

        class Cursor(base.SQLiteCursorWrapper):
            def execute(self, query: str, params: Any = None) -> Any:
                if wrapper.holds_write_lock or query.lstrip()[:11].upper().startswith(READS):
                    return super().execute(query, params)
                wrapper._acquire_write_lock()
                try:
                    return super().execute(query, params)
                finally:
                    wrapper._release_write_lock()

            def executemany(self, query: str, param_list: Any) -> Any:
                if wrapper.holds_write_lock:
                    return super().executemany(query, param_list)
                wrapper._acquire_write_lock()
                try:
                    return super().executemany(query, param_list)
                finally:
                    wrapper._release_write_lock()

        return self.connection.cursor(factory=Cursor)
