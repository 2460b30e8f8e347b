"""Where this fleetgen came from, so ``--version`` can say it and ``init`` can pin it.

pip records how it installed a distribution from anywhere but an index in ``direct_url.json``
(PEP 610): a git URL and the commit it resolved to, an archive URL and its hash, or a local
folder. fleetgen answers from that record:

- installed from an index (no record): ``fleetgen==VERSION``, which that index serves;
- from git (``pip install "fleetgen @ git+URL@TAG"``): ``fleetgen @ git+URL@COMMIT``, the commit
  pip resolved, so a moved tag cannot change what a fleet's CI installs;
- from an archive URL: that URL, with its hash when pip recorded one;
- from a local folder (a checkout, editable or not): the folder's git ``origin`` at its ``HEAD``
  commit, when it has a remote a CI runner can reach; uncommitted changes are said, as they are
  not in that commit.

Anything else (a folder without git, or whose remote is a local path) has no install spec a CI
runner could use: ``init`` then needs ``--install``.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from generator import __version__

DISTRIBUTION = "fleetgen"

# A requirement as init writes it into a workflow's shell step, between double quotes: PEP 508
# names, versions and URLs, and nothing a shell would expand (no quote, $, `, \ or newline).
INSTALL_SPEC = re.compile(r"fleetgen(\[[A-Za-z0-9_,.-]+\])?\s*"
                          r"(==\s*[A-Za-z0-9_.!+-]+|@\s*[A-Za-z0-9+.-]+://[A-Za-z0-9._~:/?#\[\]@!&'()*+,;=%-]+)")


@dataclass(frozen=True)
class Source:
    """How this fleetgen was installed: ``spec`` is a pip requirement that installs the same
    code on another machine ('' when there is none); ``described`` says it for ``--version``."""

    spec: str
    described: str
    dirty: bool = False


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True,
                              check=False, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "replace").strip() if done.returncode == 0 else None


def pip_url(remote: str) -> str | None:
    """A git remote as pip reads it (``git+https://…``, ``git+ssh://…``); None for a remote a
    CI runner cannot reach (a local path or ``file://``)."""
    scp = re.fullmatch(r"([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):(?!//)(.+)", remote)
    if scp:
        user, host, path = scp.groups()
        return f"git+ssh://{user}@{host}/{path.lstrip('/')}"
    scheme = urlsplit(remote).scheme
    if scheme in ("https", "http", "ssh", "git"):
        return f"git+{remote}"
    return None


def _folder(folder: Path) -> Source:
    commit = _git(folder, "rev-parse", "HEAD")
    if not commit:
        return Source("", f"from {folder}, not a git checkout")
    dirty = bool(_git(folder, "status", "--porcelain", "--untracked-files=no"))
    changes = ", with uncommitted changes" if dirty else ""
    remote = _git(folder, "remote", "get-url", "origin")
    url = pip_url(remote) if remote else None
    if url is None:
        return Source("", f"from {folder} at commit {commit[:12]}{changes}", dirty)
    return Source(f"{DISTRIBUTION} @ {url}@{commit}",
                  f"from {url}@{commit[:12]}{changes}", dirty)


def source() -> Source:
    """This installation's source, from the ``direct_url.json`` pip left with it. Without one,
    fleetgen came from an index, unless it runs from its own source tree (where a setuptools
    ``fleetgen.egg-info`` carries no record)."""
    for found in metadata.distributions(name=DISTRIBUTION):
        record = found.read_text("direct_url.json")
        if record is not None:
            return from_record(record)
    tree = Path(__file__).resolve().parents[2]
    if (tree / "pyproject.toml").is_file() and (tree / "generator").is_dir():
        return _folder(tree)
    return from_record(None)


def from_record(record: str | None) -> Source:
    """The source a ``direct_url.json`` text records (None: there is none, an index install)."""
    if record is None:
        return Source(f"{DISTRIBUTION}=={__version__}", "from a package index")
    try:
        direct = json.loads(record)
        url = str(direct["url"])
    except (ValueError, KeyError, TypeError):
        return Source("", "from an unreadable install record")
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id"):
        commit = str(vcs["commit_id"])
        return Source(f"{DISTRIBUTION} @ git+{url}@{commit}", f"from git+{url}@{commit[:12]}")
    archive = direct.get("archive_info")
    if isinstance(archive, dict):
        digest = archive.get("hash") or ""
        hashes = archive.get("hashes")
        if isinstance(hashes, dict) and "sha256" in hashes:
            digest = f"sha256={hashes['sha256']}"
        pinned = f"{url}#{digest}" if digest and "#" not in url else url
        return Source(f"{DISTRIBUTION} @ {pinned}", f"from {url}")
    if urlsplit(url).scheme == "file":
        return _folder(Path(unquote(urlsplit(url).path)))
    return Source("", f"from {url}")


def version_line() -> str:
    """What ``fleetgen --version`` prints: the version, and where it was installed from."""
    return f"{DISTRIBUTION} {__version__} ({source().described})"


def pip_install(spec: str) -> str:
    """The shell command that installs ``spec``."""
    return f'python -m pip install "{spec}"'
