"""A content-addressed cache of rendered files, so a re-render of an unchanged cluster costs a
hash instead of templates, overlays and YAML.

The key of an entry is the SHA-256 of everything its bytes depend on: fleetgen's version and the
digest of its code (``code_digest``), every template, every overlay file, the plain values the
templates see (the views, which hold every default and derived value) and the output paths. Equal
keys mean equal inputs, so a hit can never change the output; anything unrecognised or unreadable
is a miss. The cache lives outside the repository, in ``$FLEETGEN_CACHE_DIR`` or
``${XDG_CACHE_HOME:-~/.cache}/fleetgen``, in one SQLite file per fleetgen version, so it is never
trusted across versions; it is safe to delete at any time. Since entries are addressed by content,
clones and fleets share it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from generator import __version__

if TYPE_CHECKING:
    from generator.render.core import Built


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


def digest_files(paths: list[Path]) -> str:
    """One digest over the names and bytes of ``paths`` (missing files count as absent)."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(str(path).encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"\0missing\0")
        h.update(b"\0")
    return h.hexdigest()


def tree_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


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

    def get(self, key: str) -> Built | None:
        """The files and objects of a render group stored under ``key``, or None."""
        from generator.render.core import Built

        try:
            entry = json.loads(self.read(key) or "")
            files = {str(p): str(t).encode("utf-8") for p, t in entry["files"].items()}
            objects = [(str(m), str(g), str(k), str(ns), str(n), str(p), int(i))
                       for m, g, k, ns, n, p, i in entry["objects"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            self.misses += 1
            return None
        self.hits += 1
        return Built(files, objects)

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

    def put(self, key: str, built: Built) -> None:
        """Store a built render group under ``key`` (at the next ``flush``)."""
        self.write(key, json.dumps({"files": {p: b.decode("utf-8") for p, b in built.files.items()},
                                    "objects": built.objects}))
