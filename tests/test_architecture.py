"""The package layout holds by test, not by review: no import cycles at all (lazy and
TYPE_CHECKING imports included), the import-linter contracts in pyproject.toml, and small
modules. See docs/architecture.md."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "generator"
MAX_LINES = 500


def _graph() -> grimp.ImportGraph:
    # Every import counts: module level, inside functions and under `if TYPE_CHECKING:`.
    return grimp.build_graph("generator", include_external_packages=False,
                             exclude_type_checking_imports=False)


def test_no_module_takes_part_in_an_import_cycle() -> None:
    graph = _graph()
    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycles.append(" -> ".join((module, *back)))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_cycle_check_sees_lazy_and_type_checking_imports(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """The check above would be worthless if grimp skipped the imports that used to hide cycles."""
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from cyclic import b\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\n"
                                  "if TYPE_CHECKING:\n    from cyclic import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("cyclic", exclude_type_checking_imports=False, cache_dir=None)
    assert graph.find_shortest_chain(importer="cyclic.a", imported="cyclic.b") is not None
    assert graph.find_shortest_chain(importer="cyclic.b", imported="cyclic.a") is not None


def test_the_import_contracts_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is a test dependency (pip install -e '.[test]')"
    result = subprocess.run([lint, "--no-cache"], cwd=REPO, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_contracts_ignore_no_import() -> None:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert "ignore_imports" not in text, "an ignored import needs a reason in the README"


def test_modules_stay_small() -> None:
    large = {path.relative_to(REPO).as_posix(): count for path in sorted(PACKAGE.rglob("*.py"))
             if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not large, f"modules over {MAX_LINES} lines (split them): {large}"


def test_every_sub_package_is_packaged() -> None:
    """pyproject.toml lists packages by name: a new stage must be listed, or an installed
    fleetgen would lack it."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    missing = [f"generator.{p.name}" for p in sorted(PACKAGE.iterdir())
               if (p / "__init__.py").is_file() and f'"generator.{p.name}"' not in text]
    assert not missing, f"add to [tool.setuptools] packages: {missing}"
