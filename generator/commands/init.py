"""``fleetgen init``: start a fleet repository that validates and renders as it is.

It only ever creates files, never changes one: a target folder may hold anything init does not
write (``.git`` of a fresh ``git init`` or clone, a LICENSE), and init refuses, writing nothing,
when any file it would write is already there (a located FleetError, like every other stage). The files come from ``generator/commands/skeleton/``, package
data written verbatim but for two placeholders: ``@VERSION@`` (fleetgen's version, in the README)
and ``@INSTALL@`` (how the README and CI install fleetgen). The install is pinned to exactly this
fleetgen: the commit pip resolved for a git install, the index version for an index install
(``generator.commands.source``), or what ``--install`` gives; when neither tells, init refuses
rather than write an install no runner could run.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from generator import __version__
from generator.commands.exits import EXIT_OK
from generator.commands.output import err, out
from generator.commands.source import INSTALL_SPEC, pip_install, source
from generator.load.schema import schema_modeline, schema_text
from generator.paths import CLUSTERS_DIR, DEFAULTS_FILE, OVERLAYS_DIR, SCHEMA_FILE
from generator.problems import FleetError, Location, Problem
from generator.write.files import atomic_write

SOURCE_INSTALL = "python -m pip install ."
"""How fleetgen's own repository (whose example fleet is a fleet repository) installs fleetgen."""

# The files init writes (fleet path → its file in the skeleton), in the order it writes them:
# the schema (not a skeleton file) comes first, so every modeline can point at it.
SKELETON = {
    f"{CLUSTERS_DIR}/{DEFAULTS_FILE}": "root-defaults.yaml",
    f"{CLUSTERS_DIR}/example/dev/{DEFAULTS_FILE}": "example-defaults.yaml",
    f"{CLUSTERS_DIR}/example/dev/hello.yaml": "hello.yaml",
    f"{OVERLAYS_DIR}/README.md": "overlays-README.md",
    ".gitignore": "gitignore",
    ".github/workflows/fleetgen.yml": "pull-request-workflow.yml",
    ".github/workflows/fleetgen-nightly.yml": "nightly-workflow.yml",
    "README.md": "fleet-README.md",
}


def _skeleton(name: str) -> str:
    return files("generator.commands.skeleton").joinpath(name).read_text(encoding="utf-8")


def pinned_install(spec: str | None) -> str:
    """How a fleet repository installs fleetgen: ``spec`` (from ``--install``) or this
    installation's own source, pinned, so a render never changes by surprise."""
    if spec is not None:
        if not INSTALL_SPEC.fullmatch(spec.strip()):
            raise FleetError([Problem(Location("--install"), "bad-install",
                                      f"'{spec}' is not a fleetgen requirement init can write "
                                      "into a workflow",
                                      "give fleetgen==VERSION or fleetgen @ git+https://HOST/"
                                      "PATH@TAG-OR-COMMIT (no quotes, $ or backticks)")])
        return pip_install(spec.strip())
    found = source()
    if not found.spec:
        raise FleetError([Problem(Location("--install"), "install-unknown",
                                  f"this fleetgen is installed {found.described}, which a CI "
                                  "runner cannot install; the workflows init writes would not run",
                                  "say where CI installs fleetgen from, pinned: --install "
                                  "'fleetgen @ git+https://HOST/PATH@TAG-OR-COMMIT'")])
    return pip_install(found.spec)


def pull_request_workflow(install: str) -> str:
    """The GitHub Actions pull-request workflow, installing fleetgen with ``install``.

    One text for both copies: docs/ci/github-pull-request.yml (with SOURCE_INSTALL) and the
    .github/workflows/fleetgen.yml that init writes (with pinned_install()).
    tests/commands/test_scaffold.py holds the docs copy to this text, tests/test_ci_recipes.py
    checks every fleetgen command in it against the real command line."""
    return _skeleton(SKELETON[".github/workflows/fleetgen.yml"]).replace("@INSTALL@", install)


def nightly_workflow(install: str) -> str:
    """The nightly workflow (drift render, optional live drift), installing with ``install``:
    docs/ci/github-nightly.yml is this text with SOURCE_INSTALL, init writes it pinned."""
    return _skeleton(SKELETON[".github/workflows/fleetgen-nightly.yml"]).replace("@INSTALL@",
                                                                                 install)


def _fleet_files(install: str) -> dict[str, str]:
    texts = {rel: _skeleton(name) for rel, name in SKELETON.items()}
    texts[".github/workflows/fleetgen.yml"] = pull_request_workflow(install)
    texts[".github/workflows/fleetgen-nightly.yml"] = nightly_workflow(install)
    texts["README.md"] = (texts["README.md"].replace("@VERSION@", __version__)
                          .replace("@INSTALL@", install.replace("python -m pip", ".venv/bin/pip")))
    return {SCHEMA_FILE: schema_text(), **texts}


def _in_the_way(target: Path, rels: list[str]) -> list[str]:
    """The files init would write that something already occupies (the file itself, or a file
    where one of its folders goes)."""
    found = []
    for rel in rels:
        parts = Path(rel).parts
        if any((target.joinpath(*parts[:i])).is_file() or (target.joinpath(*parts[:i])).is_symlink()
               for i in range(1, len(parts))) or os.path.lexists(target / rel):
            found.append(rel)
    return found


def init_fleet(target: Path, install: str | None = None) -> list[Path]:
    """Scaffold a fleet repository in ``target`` (created if missing) that validates and renders
    as it is; returns the files written. Refuses a ``target`` that is a file, or that holds any
    file init would write; anything else there (``.git``, a LICENSE) is left alone. ``install``
    is the pip requirement CI installs fleetgen with (default: this installation's source)."""
    wanted = _fleet_files(pinned_install(install))
    if target.exists() and not target.is_dir():
        raise FleetError([Problem(Location(str(target)), "target-not-empty",
                                  f"{target} is a file; fleetgen init writes into a folder",
                                  "pick a folder, e.g. fleetgen init my-fleet")])
    taken = _in_the_way(target, list(wanted)) if target.exists() else []
    if taken:
        raise FleetError([Problem(Location(str(target / rel)), "target-not-empty",
                                  f"{rel} already exists in {target}; fleetgen init never "
                                  "overwrites a file",
                                  "move it aside, or run init in a new folder "
                                  "(fleetgen init my-fleet)") for rel in taken])
    written = []
    for rel, text in wanted.items():
        path = target / rel
        if rel.startswith(f"{CLUSTERS_DIR}/"):
            text = schema_modeline(target, path) + text
        atomic_write(path, text.encode("utf-8"))
        written.append(path)
    return sorted(written)


def init(target: Path, install: str | None = None) -> int:
    """The command: scaffold, then list the files created."""
    written = init_fleet(target, install)
    if install is None and source().dirty:
        err("warning: this fleetgen has uncommitted changes; the workflows pin its last commit")
    out("\n".join(f"create {p.relative_to(target.resolve()).as_posix()}"
                  if p.is_absolute() else f"create {p.as_posix()}" for p in written))
    return EXIT_OK
