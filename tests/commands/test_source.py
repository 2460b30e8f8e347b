"""Where fleetgen was installed from (issue 19): `--version` says it, and `init` pins the CI
install to exactly that code, never to a package no index serves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import fleetgen
from support.fleets import PIN
from support.gitrepo import commit_all, git, init

from generator import __version__
from generator.commands import source as source_module
from generator.commands.source import from_record, pip_url

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_an_index_install_pins_the_version_the_index_serves() -> None:
    found = from_record(None)
    assert found.spec == f"fleetgen=={__version__}"
    assert found.described == "from a package index"


def test_a_git_install_pins_the_commit_pip_resolved_not_the_tag() -> None:
    record = json.dumps({"url": "https://github.com/acme/fleetgen.git",
                         "vcs_info": {"vcs": "git", "requested_revision": "v0.1.0",
                                      "commit_id": COMMIT}})
    found = from_record(record)
    assert found.spec == f"fleetgen @ git+https://github.com/acme/fleetgen.git@{COMMIT}"
    assert found.described == "from git+https://github.com/acme/fleetgen.git@0123456789ab"


def test_an_archive_install_pins_the_archive_by_its_hash() -> None:
    record = json.dumps({"url": "https://files.example.com/fleetgen-0.1.0.tar.gz",
                         "archive_info": {"hashes": {"sha256": "ab" * 32}}})
    assert from_record(record).spec == ("fleetgen @ https://files.example.com/fleetgen-0.1.0"
                                        f".tar.gz#sha256={'ab' * 32}")


def _checkout(tmp_path: Path, remote: str | None) -> Path:
    repo = tmp_path / "fleetgen"
    repo.mkdir()
    init(repo)
    (repo / "pyproject.toml").write_text("[project]\nname = 'fleetgen'\n")
    commit_all(repo, "fleetgen")
    if remote:
        git(repo, "remote", "add", "origin", remote)
    return repo


def _folder_record(repo: Path) -> str:
    return json.dumps({"url": repo.as_uri(), "dir_info": {"editable": True}})


@pytest.mark.parametrize(("remote", "url"), [
    ("https://github.com/acme/fleetgen.git", "git+https://github.com/acme/fleetgen.git"),
    ("git@github.com:acme/fleetgen.git", "git+ssh://git@github.com/acme/fleetgen.git"),
])
def test_a_checkout_pins_its_head_commit_at_its_origin(tmp_path: Path, remote: str,
                                                       url: str) -> None:
    repo = _checkout(tmp_path, remote)
    head = git(repo, "rev-parse", "HEAD").strip()
    found = from_record(_folder_record(repo))
    assert found.spec == f"fleetgen @ {url}@{head}"
    assert not found.dirty
    (repo / "pyproject.toml").write_text("[project]\nname = 'fleetgen'\nversion = '9'\n")
    changed = from_record(_folder_record(repo))
    assert changed.dirty and changed.described.endswith(", with uncommitted changes")


@pytest.mark.parametrize("remote", [None, "/srv/git/fleetgen.git", "file:///srv/git/fleetgen"])
def test_a_checkout_no_runner_can_reach_has_no_install(tmp_path: Path,
                                                        remote: str | None) -> None:
    repo = _checkout(tmp_path, remote)
    found = from_record(_folder_record(repo))
    assert found.spec == ""
    assert found.described.startswith(f"from {repo} at commit ")


def test_pip_urls_of_remotes() -> None:
    assert pip_url("ssh://git@host/x.git") == "git+ssh://git@host/x.git"
    assert pip_url("../fleetgen") is None


class _Installed:
    def __init__(self, record: str | None) -> None:
        self.record = record

    def read_text(self, name: str) -> str | None:
        return self.record if name == "direct_url.json" else None


def _installed(monkeypatch: pytest.MonkeyPatch, record: str | None) -> None:
    monkeypatch.setattr(source_module.metadata, "distributions",
                        lambda name: [_Installed(record)])


def test_version_says_where_fleetgen_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, json.dumps({"url": "https://github.com/acme/fleetgen.git",
                                        "vcs_info": {"vcs": "git", "commit_id": COMMIT}}))
    result = fleetgen(None, "--version")
    assert result.exit_code == 0
    assert result.stdout == (f"fleetgen {__version__} "
                             "(from git+https://github.com/acme/fleetgen.git@0123456789ab)\n")


def test_init_pins_the_workflows_to_this_installation(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, json.dumps({"url": "https://github.com/acme/fleetgen.git",
                                        "vcs_info": {"vcs": "git", "commit_id": COMMIT}}))
    assert fleetgen(None, "init", str(tmp_path / "fleet")).exit_code == 0
    install = f'python -m pip install "fleetgen @ git+https://github.com/acme/fleetgen.git@{COMMIT}"'
    for name in ("fleetgen.yml", "fleetgen-nightly.yml"):
        workflow = (tmp_path / "fleet/.github/workflows" / name).read_text()
        assert f"run: {install}\n" in workflow
        assert "fleetgen==" not in workflow


def test_init_refuses_when_no_runner_could_install_this_fleetgen(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _checkout(tmp_path, None)
    _installed(monkeypatch, _folder_record(repo))
    head = git(repo, "rev-parse", "HEAD").strip()
    result = fleetgen(None, "init", str(tmp_path / "fleet"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"--install: error[install-unknown]: this fleetgen is installed from {repo} at commit "
        f"{head[:12]}, which a CI runner cannot install; the workflows init writes would not run\n"
        "  hint: say where CI installs fleetgen from, pinned: --install "
        "'fleetgen @ git+https://HOST/PATH@TAG-OR-COMMIT'\n"
        "1 error; nothing was written\n")
    assert not (tmp_path / "fleet").exists()


@pytest.mark.parametrize("spec", ['fleetgen; rm -rf /', 'fleetgen==$(id)', 'fleetgen"x',
                                  "requests==2.0", "fleetgen @ git+https://h/x@`id`"])
def test_init_refuses_an_install_a_shell_would_expand(tmp_path: Path, spec: str) -> None:
    result = fleetgen(None, "init", str(tmp_path / "fleet"), "--install", spec)
    assert result.exit_code == 2
    assert "error[bad-install]" in result.stderr
    assert not (tmp_path / "fleet").exists()


def test_init_writes_the_install_it_is_given(tmp_path: Path) -> None:
    assert fleetgen(None, "init", str(tmp_path / "fleet"), "--install", PIN).exit_code == 0
    readme = (tmp_path / "fleet/README.md").read_text()
    assert f'python3 -m venv .venv && .venv/bin/pip install "{PIN}"\n' in readme
