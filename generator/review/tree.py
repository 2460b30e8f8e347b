"""The old rendered/ of a review, read only where it changed (issue 20: incremental review).

git already knows the blob id of every committed file (``git ls-tree``), and of every file of
the working tree that matches the index (``git ls-files -s``, with ``git diff`` naming the ones
that do not, by git's own stat and racy-timestamp checks). A blob id is the SHA-1 of ``blob
<size>\\0<bytes>``, so a rendered file whose new bytes have the old blob id is unchanged without
reading it. ``OldFiles`` is the old tree as a mapping: its paths are all known at once, and a
file's bytes are read (in one ``git cat-file --batch`` for many) only when asked for: the files
that differ, and the old Clusters a pool change needs (``review.risks.OldUse``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping


def blob_id(data: bytes) -> str:
    """The id git gives a file holding ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class OldFiles(Mapping[str, bytes]):
    """Paths below rendered/ → bytes, where ``blobs`` gives each path's blob id (or None for a
    file already read, in ``read``) and ``load`` reads the bytes of many blob ids at once."""

    def __init__(self, blobs: dict[str, str], read: dict[str, bytes],
                 load: Callable[[list[str]], dict[str, bytes]]) -> None:
        self._blobs = blobs
        self._data = dict(read)
        self._load = load
        self.loaded = 0  # files read through ``load`` (for tests and the benchmark)

    def __len__(self) -> int:
        return len(set(self._blobs) | set(self._data))

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(self._blobs) | set(self._data)))

    def __contains__(self, path: object) -> bool:
        return path in self._data or path in self._blobs

    def __getitem__(self, path: str) -> bytes:
        if path not in self._data:
            self.fetch([path])
        return self._data[path]

    def fetch(self, paths: list[str]) -> None:
        """Read the bytes of ``paths`` not read yet, in one go."""
        wanted = [p for p in paths if p not in self._data and p in self._blobs]
        if not wanted:
            return
        found = self._load([self._blobs[p] for p in wanted])
        self.loaded += len(wanted)
        for path in wanted:
            self._data[path] = found[self._blobs[path]]

    def items(self) -> list[tuple[str, bytes]]:  # type: ignore[override]
        self.fetch(list(self._blobs))
        return [(p, self._data[p]) for p in self]

    def unchanged(self, new: Mapping[str, bytes]) -> set[str]:
        """The paths whose old bytes equal ``new``'s, reading no file git knows."""
        same = set()
        for path, data in new.items():
            if path in self._data:
                if self._data[path] == data:
                    same.add(path)
            elif path in self._blobs and self._blobs[path] == blob_id(data):
                same.add(path)
        return same


def unchanged(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> set[str]:
    """The paths whose bytes are the same in ``old`` and ``new``."""
    if isinstance(old, OldFiles):
        return old.unchanged(new)
    return {path for path, data in old.items() if new.get(path) == data}


def changed_only(old: Mapping[str, bytes], same: set[str]) -> dict[str, bytes]:
    """The files of ``old`` not in ``same``, read in one go."""
    paths = [p for p in old if p not in same]
    if isinstance(old, OldFiles):
        old.fetch(paths)
    return {p: old[p] for p in paths}
