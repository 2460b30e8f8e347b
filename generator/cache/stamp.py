"""Stamps: a record that a fleet's inputs render to exactly the rendered/ on disk, so that a
``render`` or ``render --check`` of an unchanged fleet costs a ``stat`` of its files, not a
render, and not even reading them.

A stamp is stored in the render cache (``cache.RenderCache``), addressed by the digest of
everything a render reads: fleetgen's version and code (``cache.code_digest``), every file under
``clusters/``, ``overlays/``, ``templates/`` and ``secrets/``, and ``fleetgen.yaml``. It holds
the warnings that the successful full render of those inputs printed and, as git's index does,
one record per file (every input, and every file below rendered/, fleetgen's own bookkeeping
included): its path, the SHA-256 of its bytes, and its size, modification and change times,
inode and mode; and one record per folder below rendered/ (its times, inode and mode), since a
folder's times change whenever an entry is added to it, removed or renamed. A second, small entry
keyed by the fleet's path names the stamp the last render of that fleet left there, and the
digests are stored apart, read only when a status does not vouch for its file.

Rendering is a function of those inputs, so when the stamp's inputs are today's inputs and
rendered/ holds exactly the recorded files, a render would change nothing and find no conflict:
the command prints what it printed then and stops. A file whose status is exactly the recorded
one is taken as unchanged without being read; any other file is read and compared by digest
(``touch`` alone, or a fresh clone of the same fleet, still finds the stamp; only the bytes
matter), and a folder below rendered/ whose status changed is listed again (the input folders,
a tenth of the files, are simply listed at every lookup). Anything else (a file edited, added
or removed anywhere, a lock or journal left by another run, a symlink or an unreadable file)
simply means no stamp applies, and the full render runs. Like the rest of the cache, stamps are
safe to delete at any time.

The racy-timestamp rule (git's "racy git"). A file system keeps times to some granularity (FAT
and exFAT: 2 s; ext3, HFS+ and many network file systems: 1 s; others: a kernel clock tick of a
few milliseconds), so a file edited within the same tick as the moment its status was recorded
can keep every recorded field (same size, same times, same inode). fleetgen cannot know the
granularity of the file system it runs on, so it assumes the coarsest common one, ``TICK_NS``
(2 s), and compares times only to that tick. A record is trusted by its status alone only when
the file's (or folder's) modification and change times are at least two ticks older than the
moment just before it was read (a write after that moment gets a time at most one tick earlier,
the file system's granularity and its clock's lag on the system clock together, so its status
can no longer be the recorded one). Any other record is "racily clean": the file is read and its
digest compared (a folder is listed again) at every lookup. The rule assumes that the file
system's clock and this machine's agree to within a tick, as a local file system's do; git avoids
that assumption by comparing with its index file's own time, which fleetgen, writing nothing
into the fleet, cannot. The one change no one can see is an edit and its exact undo both made
while a render runs, within one tick: the full render reads the inputs on its own.

This module is imported before anything heavy: it uses the standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.cache.records import (_FILE_WIDTH, Key, _files, _key, _read, _Records, _Rendered,
                                     _same_rendered, _settled, _Unstampable)
from generator.cache.store import RenderCache
from generator.paths import INPUT_FILES, INPUT_FOLDERS, RENDERED_DIR

class Inputs:
    """The status of every input file of a fleet, taken at one moment before a render, and the
    digests of those files, read when needed: at once for a racily clean file (one that may
    still change without its status showing it), later for the others, whose unchanged status
    then proves their bytes are the ones the render read."""

    def __init__(self, root: Path, before: int, files: list[tuple[str, str]]) -> None:
        self.root = root
        self.before = before  # ns since the epoch, taken before any status
        self.rels = [rel for rel, _path in files]
        self.paths = [path for _rel, path in files]
        self.keys: list[Key] = []
        self.settled: list[bool] = []
        self.digests: list[str | None] = []
        self.broken = False  # a file changed after its status was taken: record no stamp
        self._vouched: dict[int, _Records] = {}  # files whose digest a stamp's record gives
        for path in self.paths:
            try:
                info = os.lstat(path)
            except OSError:
                raise _Unstampable from None
            if not stat.S_ISREG(info.st_mode):
                raise _Unstampable
            settled = _settled(info, before)
            digest = None
            if not settled:  # its bytes now are the ones to stamp: read them before the render
                info, digest = _read(path)
            self.keys.append(_key(info))
            self.settled.append(settled)
            self.digests.append(digest)

    def digest_of(self, i: int) -> str:
        """The digest of file ``i`` as it was when its status was taken; raises
        ``_Unstampable`` when it has changed since."""
        digest = self.digests[i]
        if digest is None and i in self._vouched:
            digest = self.digests[i] = self._vouched[i].digests[i]
        if digest is None:
            info, digest = _read(self.paths[i])
            if _key(info) != self.keys[i]:
                self.broken = True
                raise _Unstampable
            self.digests[i] = digest
        return digest

    def digest(self) -> str | None:
        """The digest of all the inputs (None when one changed since its status was taken)."""
        try:
            digests = [self.digest_of(i) for i in range(len(self.rels))]
        except _Unstampable:
            return None
        h = hashlib.sha256(RenderCache.key("stamp-inputs").encode())
        for rel, digest in sorted(zip(self.rels, digests)):
            h.update(b"%d:%s\0%s\0" % (len(rel), rel.encode("utf-8", "surrogateescape"),
                                         digest.encode()))
        return h.hexdigest()

    def matches(self, recorded: _Records) -> bool:
        """Whether the inputs are the ones ``recorded``: the same files, each with the recorded
        status (when that status may vouch for it) or else the recorded digest. A vouching
        status also gives the file's digest without reading it."""
        if self.rels != recorded.rels:
            return False
        try:
            for i, key in enumerate(self.keys):
                if key == recorded.keys[i] and recorded.settled[i]:
                    if self.digests[i] is None:  # its digest is read from the stamp if needed
                        self._vouched.setdefault(i, recorded)
                    elif self.digests[i] != recorded.digests[i]:
                        return False
                elif self.digest_of(i) != recorded.digests[i]:
                    return False
        except _Unstampable:
            return False
        return True

    def records(self) -> _Records:
        """The inputs' records, to store in a stamp (every digest read by now)."""
        return _Records(self.rels, self.keys, self.settled,
                        [self.digest_of(i) for i in range(len(self.rels))])


def inputs_of(root: Path) -> Inputs | None:
    """The status of everything a render of ``root`` reads, taken now (before the render), or
    None when the fleet cannot be stamped (a link, a special or an unreadable file)."""
    before = time.time_ns()
    files: list[tuple[str, str]] = []
    try:
        for folder in INPUT_FOLDERS:
            files.extend(_files(root / folder, folder + "/")[0])
        for name in INPUT_FILES:
            path = root / name
            if path.is_symlink():
                raise _Unstampable
            if path.exists():
                files.append((name, str(path)))
        return Inputs(root, before, files)
    except _Unstampable:
        return None


class Stamps:
    """The stamps of the render cache: ``lookup`` before a render, ``record`` after it."""

    def __init__(self, cache: RenderCache | None = None) -> None:
        self.cache = cache or RenderCache()

    @staticmethod
    def _key(digest: str) -> str:
        return RenderCache.key("stamp", digest)

    @staticmethod
    def _digests(digest: str) -> str:
        """The key of the digests of a stamp's files, read only when a status does not vouch."""
        return RenderCache.key("stamp-digests", digest)

    @staticmethod
    def _at(root: Path) -> str:
        """The key of the entry that names the stamp the last render of ``root`` left."""
        return RenderCache.key("stamp-at", str(root))

    def _entry(self, digest: str) -> tuple[_Records, _Rendered, str] | None:
        """The stamp of the inputs whose digest is ``digest``: its inputs' and rendered/'s
        records and its warnings; None when there is none (or it is unreadable)."""
        stored: list[Any] = []

        def digests(part: str) -> Callable[[], Any]:
            def load() -> Any:
                if not stored:
                    stored.append(json.loads(self.cache.read(self._digests(digest)) or ""))
                return stored[0][part]
            return load

        try:
            entry = json.loads(self.cache.read(self._key(digest)) or "")
            inputs = _Records.from_json(entry["inputs"], _FILE_WIDTH, digests("inputs"))
            rendered = _Rendered.from_json(entry["rendered"], digests("rendered"))
            warnings = entry["warnings"]
        except (ValueError, KeyError, TypeError):
            return None
        return (inputs, rendered, warnings) if isinstance(warnings, str) else None

    def lookup(self, root: Path, inputs: Inputs | None) -> str | None:
        """The warnings text of the render that left ``root``'s rendered/ as it is now, when
        ``inputs`` (today's) are the inputs of that render; else None. The stamp the last
        render of ``root`` left is tried first, by status; then (another checkout of the same
        fleet, or inputs that changed back) the stamp of today's inputs, by digest."""
        if inputs is None:
            return None
        digest = self.cache.read(self._at(root))
        entry = self._entry(digest) if digest else None
        if digest is None or entry is None or not inputs.matches(entry[0]):
            digest = inputs.digest()
            if digest is None:
                return None
            entry = self._entry(digest)
            if entry is None or not inputs.matches(entry[0]):
                return None
        recorded, rendered, warnings = entry
        same, refreshed = _same_rendered(root / RENDERED_DIR, rendered)
        if not same:
            return None
        if refreshed or inputs.keys != recorded.keys or inputs.settled != recorded.settled:
            self._store(root, digest, inputs, rendered, warnings)  # as git refreshes its index
        return warnings

    def _store(self, root: Path, digest: str, inputs: Inputs, rendered: _Rendered,
               warnings: str) -> None:
        """Store the stamp of ``inputs`` and name it as ``root``'s."""
        if inputs.broken:
            return
        try:
            records = inputs.records()
        except _Unstampable:
            return
        try:
            digests = {"inputs": records.digests, "rendered": rendered.files.digests}
        except _Unstampable:
            return
        self.cache.write(self._key(digest), json.dumps(
            {"inputs": records.to_json(), "rendered": rendered.to_json(),
             "warnings": warnings}, separators=(",", ":")))
        self.cache.write(self._digests(digest), json.dumps(digests, separators=(",", ":")))
        self.cache.write(self._at(root), digest)
        self.cache.flush()

    def record(self, inputs: Inputs | None, warnings: str, tree: dict[str, bytes]) -> None:
        """After a successful full render (or check) of ``inputs`` that left rendered/ holding
        ``tree`` (every file: what was wanted, and the manifest). If rendered/ holds anything
        else (a file fleetgen does not own), nothing is recorded. Nothing is recorded either
        when an input changed after its status was taken, before the render."""
        if inputs is None or inputs.broken:
            return
        digest = inputs.digest()
        rendered = _Rendered.on_disk(inputs.root / RENDERED_DIR, tree)
        if digest is None or rendered is None:
            return
        self._store(inputs.root, digest, inputs, rendered, warnings)
