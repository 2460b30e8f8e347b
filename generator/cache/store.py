"""The cache store: a content-addressed key-value store of texts that only ever makes a run
faster, never different.

A key is the SHA-256 of fleetgen's version, the digest of its own code (``code_digest``) and
whatever the user of the store names as inputs, so equal keys mean equal inputs; anything
unrecognised or unreadable is a miss. Its users: the inventory loader (parsed values by text,
``RenderCache.values``), render groups (``generator.render.build``) and stamps
(``generator.cache.stamp``). It lives outside the repository, in ``$FLEETGEN_CACHE_DIR`` or
``${XDG_CACHE_HOME:-~/.cache}/fleetgen``, in one SQLite file per fleetgen version, so it is never
trusted across versions; it is safe to delete at any time. Nothing in a key names a fleet's
absolute path (render groups name files relative to the fleet root), so clones of a fleet at
other paths, such as CI jobs restoring one cache, share its entries; a render-group entry is used
only while every file its build read holds the recorded bytes (``render.build.GroupCache``), so
two checkouts sharing a cache never exchange output.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Callable

from generator import __version__


@functools.cache
def code_digest() -> str:
    """fleetgen's version and the digest of its own code and built-in templates: a cache entry
    made by other code (a development checkout between releases included) is never used."""
    from importlib.resources import files

    h = hashlib.sha256(__version__.encode() + b"\0")
    for package in (Path(__file__).resolve().parents[1], Path(str(files("generator.templates")))):
        for path in sorted(package.rglob("*")):
            if path.suffix in (".py", ".j2", ".json") and path.is_file():
                h.update(path.relative_to(package).as_posix().encode() + b"\0")
                h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_home() -> Path:
    explicit = os.environ.get("FLEETGEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fleetgen"


def entry_digest(content: Any) -> str:
    """The digest an entry carries of its own JSON content, so that a damaged entry is a miss
    and never output."""
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


class RenderCache:
    """The cache: one SQLite database per fleetgen version (``cache.sqlite3`` in ``folder``), a
    key-value table of JSON texts. One file instead of one per entry: creating thousands of small
    files cost a cold render of 1,000 clusters seconds of file system time, and reading them back
    more than a query. Writes are collected and committed in one transaction by ``flush``.

    Every failure (no permission, a locked or corrupt database, a bad entry) is a miss or a
    write skipped, never an error: the cache only ever makes a run faster."""

    FILE = "cache.sqlite3"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = (folder or cache_home()) / f"v{__version__}"
        self.hits = self.misses = 0
        self._db: sqlite3.Connection | None = None
        self._unusable = False
        self._pending: dict[str, str] = {}

    @staticmethod
    def key(*parts: str) -> str:
        h = hashlib.sha256(code_digest().encode())
        for part in parts:
            h.update(b"\0" + part.encode())
        return h.hexdigest()

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._unusable:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.folder / self.FILE, timeout=5, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("CREATE TABLE IF NOT EXISTS entries "
                           "(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
                self._db = db
            except (OSError, sqlite3.Error):
                self._unusable = True
        return self._db

    def read(self, key: str) -> str | None:
        """The text stored under ``key``, or None."""
        if key in self._pending:
            return self._pending[key]
        db = self._connect()
        if db is None:
            return None
        try:
            row = db.execute("SELECT value FROM entries WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row is not None and isinstance(row[0], str) else None

    def read_many(self, keys: list[str]) -> dict[str, str]:
        """The texts stored under any of ``keys`` (missing keys are left out): one query per
        few hundred keys instead of one per key, which a fleet of thousands notices."""
        found = {k: self._pending[k] for k in keys if k in self._pending}
        wanted = sorted({k for k in keys if k not in found})
        db = self._connect() if wanted else None
        if db is None:
            return found
        try:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                rows = db.execute("SELECT key, value FROM entries WHERE key IN "
                                  f"({','.join('?' * len(chunk))})", chunk).fetchall()
                found.update((k, v) for k, v in rows if isinstance(v, str))
        except sqlite3.Error:
            pass
        return found

    FLUSH_EVERY = 500  # entries: pending texts are as large as the files they hold

    def write(self, key: str, text: str) -> None:
        """Store ``text`` under ``key`` at the next ``flush`` (or sooner, so that a large fleet
        never holds a second copy of all its files in memory)."""
        self._pending[key] = text
        if len(self._pending) >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Commit every write so far in one transaction (or give them up)."""
        pending, self._pending = self._pending, {}
        db = self._connect() if pending else None
        if db is None:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO entries (key, value) VALUES (?, ?)",
                           pending.items())
            db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")

    def values(self, text: str, compute: Callable[[], Any]) -> Any:
        """The values of an inventory text: parsed once, then read back as JSON (about fifty
        times faster than YAML). Values JSON cannot hold exactly are never cached."""
        key = self.key("values", text)
        try:
            return json.loads(self.read(key) or "")["values"]
        except (ValueError, KeyError, TypeError):
            pass
        value = compute()
        try:
            encoded = json.dumps({"values": value}, allow_nan=False)
        except (TypeError, ValueError):
            return value
        if json.loads(encoded)["values"] == value:
            self.write(key, encoded)
        return value
