"""The CI recipes of docs/ci/, run (issue 19): each shell step executes as the runner would
(`bash --noprofile --norc -eo pipefail`), in order, in a real git repository with a real `origin`
(a bare repository), with the real fleetgen and git, and with `gh` stubbed by a script that logs
its arguments (nothing here may reach the network). `uses:` steps (checkout, setup-python,
upload-artifact, and the render cache's actions/cache, emulated here by copying its folder) and
the install step are the runner's business and are not run. The job's `env:` is passed with the
one expression its values use, `${{ github.workspace }}`, resolved to the checkout.

tests/test_ci_recipes.py checks every command line statically; this runs them.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.cli import fleetgen, scaffolded
from support.gitrepo import commit_all, git

from generator.cache.store import RenderCache, code_digest
from generator.pipeline import load_fleet, wanted_files

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / "docs" / "ci"
GH_STUB = """#!/bin/sh
echo "gh $*" >> "$GH_LOG"
case "$*" in
  "pr list"*) exit 0 ;;
esac
exit 0
"""


def steps(recipe: str, job: str) -> list[tuple[str, str, dict[str, str], str]]:
    """(name, script, env, condition) of every `run:` step of a GitHub job, in order, but the
    install."""
    doc: Any = YAML(typ="safe").load((RECIPES / recipe).read_text())
    out = []
    for step in doc["jobs"][job]["steps"]:
        if "run" not in step or "pip install" in step["run"]:
            continue
        out.append((step.get("name", ""), step["run"], {k: str(v) for k, v in
                                                        (step.get("env") or {}).items()},
                    str(step.get("if", ""))))
    return out


def job_env(recipe: str, job: str, repo: Path) -> dict[str, str]:
    """The job's `env:` as the runner sets it, for the expressions resolvable offline
    (`${{ github.workspace }}`, the checkout); variables with any other expression are left out
    (the tests give those values themselves)."""
    doc: Any = YAML(typ="safe").load((RECIPES / recipe).read_text())
    resolved = {k: str(v).replace("${{ github.workspace }}", str(repo))
                for k, v in (doc["jobs"][job].get("env") or {}).items()}
    return {k: v for k, v in resolved.items() if "${{" not in v}


def outputs(repo: Path) -> dict[str, str]:
    """What the steps wrote to $GITHUB_OUTPUT, as name → value."""
    written = repo.parent / "runner" / "output"
    return dict(line.split("=", 1) for line in written.read_text().splitlines()
                if "=" in line) if written.exists() else {}


_OUTPUT_TEST = re.compile(r"^steps\.(\w+)\.outputs\.(\w+) == '([^']*)'$")
# The pull request comes from a branch of the repository itself (not a fork).
_ALWAYS = {"", "always()", "github.event.pull_request.head.repo.full_name == github.repository"}


def condition_holds(condition: str, output: Path) -> bool:
    """The `if:` forms the recipes use: always, same-repository, and a step output test."""
    if condition in _ALWAYS:
        return True
    match = _OUTPUT_TEST.match(condition)
    assert match, f"a condition the runner here does not know: {condition}"
    written = dict(line.split("=", 1) for line in output.read_text().splitlines()
                   if "=" in line) if output.exists() else {}
    return written.get(match.group(2)) == match.group(3)


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """A fleet repository on main, rendered and committed, pushed to a bare `origin`."""
    repo = scaffolded(tmp_path / "fleet")
    commit_all(repo, "first cluster")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    git(repo, "fetch", "-q", "origin")
    return repo


def run_steps(repo: Path, recipe: str, job: str, env: dict[str, str]
              ) -> list[tuple[str, int, str]]:
    """Run the job's steps until one fails; (name, exit code, output) of each step run."""
    stubs = repo.parent / "stubs"
    stubs.mkdir(exist_ok=True)
    (stubs / "gh").write_text(GH_STUB)
    (stubs / "gh").chmod(0o755)
    runner = repo.parent / "runner"
    runner.mkdir(exist_ok=True)
    base = {**os.environ, "PATH": f"{stubs}{os.pathsep}{Path(sys.executable).parent}"
                                  f"{os.pathsep}{os.environ['PATH']}",
            "GH_LOG": str(runner / "gh.log"), "GITHUB_OUTPUT": str(runner / "output"),
            "GITHUB_STEP_SUMMARY": str(runner / "summary.md"), "NO_COLOR": "1",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
            **job_env(recipe, job, repo), **env}
    results = []
    for name, script, step_env, condition in steps(recipe, job):
        if not condition_holds(condition, runner / "output"):
            continue
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                              cwd=repo, env={**base, **{k: v for k, v in step_env.items()
                                                        if "${{" not in v}},
                              capture_output=True, text=True, check=False)
        results.append((name, done.returncode, done.stdout + done.stderr))
        if done.returncode != 0:
            break
    return results


def gh_calls(repo: Path) -> list[str]:
    log = repo.parent / "runner" / "gh.log"
    return log.read_text().splitlines() if log.exists() else []


PR_ENV = {"BASE_REF": "main", "GH_TOKEN": "x", "GH_REPO": "org/fleet", "PR": "7"}


def _safe_change(fleet: Path) -> None:
    """A pull request branch that scales the example cluster to two workers, rendered."""
    git(fleet, "checkout", "-q", "-b", "pr")
    hello = fleet / "clusters/example/dev/hello.yaml"
    hello.write_text(hello.read_text() + "workers:\n- {name: md-0, replicas: 2}\n")
    assert fleetgen(fleet, "render").exit_code == 0
    commit_all(fleet, "two workers")


def test_pull_request_workflow_posts_the_diff_and_passes_a_safe_change(fleet: Path) -> None:
    _safe_change(fleet)
    results = run_steps(fleet, "github-pull-request.yml", "fleetgen", PR_ENV)
    assert [code for _, code, _ in results] == [0] * len(results), results
    assert gh_calls(fleet) == ["gh pr comment 7 --edit-last --body-file diff.md"]
    summary = (fleet.parent / "runner" / "summary.md").read_text()
    assert summary.startswith("### fleetgen diff: rendered/ at origin/main")


def test_pull_request_workflow_fails_a_stale_render_with_an_annotation(fleet: Path) -> None:
    git(fleet, "checkout", "-q", "-b", "pr")
    hello = fleet / "clusters/example/dev/hello.yaml"
    hello.write_text(hello.read_text().replace("10.50.0.10", "10.50.0.12"))
    commit_all(fleet, "endpoint, not rendered")
    results = run_steps(fleet, "github-pull-request.yml", "fleetgen", PR_ENV)
    name, code, output = results[-1]
    assert (name, code) == ("rendered/ is up to date", 1), results
    assert "::error::rendered/ is stale: run 'fleetgen render' and commit rendered/" in output


def test_pull_request_workflow_gate_blocks_a_cluster_removal(fleet: Path) -> None:
    git(fleet, "checkout", "-q", "-b", "pr")
    (fleet / "clusters/example/dev/hello.yaml").unlink()
    assert fleetgen(fleet, "render").exit_code == 0
    commit_all(fleet, "remove hello")
    results = run_steps(fleet, "github-pull-request.yml", "fleetgen", PR_ENV)
    name, code, output = results[-1]
    assert (name, code) == ("Risk gate", 1), results
    assert "::error::this change has a blocked risk class" in output
    assert '"class": "cluster-removed"' in output


def test_nightly_workflow_pushes_a_render_branch_and_opens_a_pull_request(fleet: Path) -> None:
    hello = fleet / "clusters/example/dev/hello.yaml"
    hello.write_text(hello.read_text().replace("10.50.0.10", "10.50.0.13"))
    commit_all(fleet, "pushed past the checks, not rendered")
    git(fleet, "push", "-q", "origin", "main")
    env = {"BRANCH": "fleetgen/nightly-render", "BASE": "main", "GH_TOKEN": "x",
           "GH_REPO": "org/fleet"}
    stubs_first = run_steps(fleet, "github-nightly.yml", "render", env)
    ran = [(name, code) for name, code, _ in stubs_first]
    assert [code for _, code in ran] == [0] * len(ran), stubs_first
    assert outputs(fleet)["drift"] == "true"
    calls = gh_calls(fleet)
    assert calls[0].startswith("gh pr list --head fleetgen/nightly-render --state open")
    assert calls[-1].startswith("gh pr create --base main --head fleetgen/nightly-render")
    pushed = subprocess.run(["git", "--git-dir", str(fleet.parent / "origin.git"), "log", "-1",
                             "--format=%s", "fleetgen/nightly-render"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert pushed == "fleetgen render: rendered/ had drifted from the inventory"


def test_nightly_workflow_does_nothing_when_rendered_is_current(fleet: Path) -> None:
    env = {"BRANCH": "fleetgen/nightly-render", "BASE": "main", "GH_TOKEN": "x",
           "GH_REPO": "org/fleet"}
    results = run_steps(fleet, "github-nightly.yml", "render", env)
    assert [code for _, code, _ in results] == [0] * len(results), results
    assert outputs(fleet)["drift"] == "false"
    assert not any("pr create" in call for call in gh_calls(fleet))


@pytest.mark.skipif(shutil.which("bash") is None, reason="the recipes' shell is bash")
def test_gitlab_merge_request_diff_without_a_token_keeps_the_report_as_an_artifact(
        fleet: Path) -> None:
    doc: Any = YAML(typ="safe").load((RECIPES / "gitlab-ci.yml").read_text())
    git(fleet, "checkout", "-q", "-b", "mr")
    hello = fleet / "clusters/example/dev/hello.yaml"
    hello.write_text(hello.read_text() + "workers:\n- {name: md-0, replicas: 2}\n")
    assert fleetgen(fleet, "render").exit_code == 0
    commit_all(fleet, "two workers")
    base = git(fleet, "rev-parse", "origin/main").strip()
    env = {**os.environ, "CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "NO_COLOR": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("FLEETGEN_GITLAB_TOKEN", None)
    outputs = []
    for script in doc["fleetgen-diff"]["script"]:
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                              cwd=fleet, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout)
    assert (fleet / "diff.md").read_text().startswith("### fleetgen diff: rendered/ at ")
    assert "FLEETGEN_GITLAB_TOKEN is not set" in "".join(outputs)


# --- the render cache (issue 20) ---------------------------------------------------------------

def cache_keys(folder: Path) -> set[str]:
    """The keys of every entry in the render cache below ``folder`` (FLEETGEN_CACHE_DIR)."""
    [database] = folder.glob(f"v*/{RenderCache.FILE}")
    assert database.stat().st_size > 0
    with sqlite3.connect(database) as db:
        return {key for (key,) in db.execute("SELECT key FROM entries")}


def checkout(origin: Path, where: Path, branch: str) -> Path:
    """A second checkout of ``branch``, at another path: another CI job's workspace."""
    repo = where / "fleet"
    where.mkdir()
    subprocess.run(["git", "clone", "-q", "-b", branch, str(origin), str(repo)], check=True,
                   env={**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null"})
    return repo


def test_pull_request_job_fills_the_cache_folder_it_names_and_a_restored_copy_serves_a_rerun(
        fleet: Path, tmp_path: Path) -> None:
    """The job's FLEETGEN_CACHE_DIR (in the workspace, where actions/cache saves it from) gets
    the entries; restored into another workspace, that folder serves every render group of the
    pull request's tree, byte-identical, and the job run there prints the same diff."""
    _safe_change(fleet)
    first = run_steps(fleet, "github-pull-request.yml", "fleetgen", PR_ENV)
    assert [code for _, code, _ in first] == [0] * len(first), first
    folder = fleet / ".fleetgen-cache"
    saved = cache_keys(folder)
    assert saved
    # git ignores it (the .gitignore init writes): only the job's reports are new files
    assert git(fleet, "status", "--porcelain").split() == ["??", "diff.md", "??", "risks.json"]
    assert len(outputs(fleet)["release"]) == 16  # the key names this fleetgen

    git(fleet, "push", "-q", "origin", "pr")
    rerun = checkout(fleet.parent / "origin.git", tmp_path / "rerun", "pr")
    shutil.copytree(folder, rerun / ".fleetgen-cache")  # what actions/cache restores
    code_digest.cache_clear()  # key entries as the fleetgen the steps just ran (on disk now)
    restored = RenderCache(shutil.copytree(folder, tmp_path / "probe"))
    loaded = load_fleet(rerun)
    assert wanted_files(rerun, loaded, cache=restored) == wanted_files(rerun, loaded)
    assert restored.hits > 0 and restored.misses == 0
    second = run_steps(rerun, "github-pull-request.yml", "fleetgen", PR_ENV)
    assert [code for _, code, _ in second] == [0] * len(second), second
    assert (rerun / "diff.md").read_bytes() == (fleet / "diff.md").read_bytes()
    assert cache_keys(rerun / ".fleetgen-cache") >= saved
    assert outputs(rerun)["release"] == outputs(fleet)["release"]


def test_nightly_saves_a_cache_that_serves_every_group_of_the_default_branch(
        fleet: Path, tmp_path: Path) -> None:
    """The nightly renders from an empty cache and saves it for the pull requests: a render of
    the default branch in another workspace from that cache is all hits, and byte-identical."""
    env = {"BRANCH": "fleetgen/nightly-render", "BASE": "main", "GH_TOKEN": "x",
           "GH_REPO": "org/fleet"}
    results = run_steps(fleet, "github-nightly.yml", "render", env)
    assert [code for _, code, _ in results] == [0] * len(results), results
    assert cache_keys(fleet / ".fleetgen-cache")
    pull_request = checkout(fleet.parent / "origin.git", tmp_path / "pr", "main")
    code_digest.cache_clear()  # key entries as the fleetgen the steps just ran (on disk now)
    restored = RenderCache(fleet / ".fleetgen-cache")
    loaded = load_fleet(pull_request)
    assert wanted_files(pull_request, loaded, cache=restored) == wanted_files(pull_request, loaded)
    assert restored.hits > 0 and restored.misses == 0


def test_gitlab_jobs_keep_the_render_cache_in_the_project_folder_gitlab_caches(
        fleet: Path) -> None:
    """GitLab caches only paths inside the project: FLEETGEN_CACHE_DIR ($CI_PROJECT_DIR/…) is
    the folder the cache's `paths:` names, git ignores it, and a second render --check with the
    cache there still passes (the folder is no input of the fleet)."""
    doc: Any = YAML(typ="safe").load((RECIPES / "gitlab-ci.yml").read_text())
    env = {**os.environ, "CI_PROJECT_DIR": str(fleet), "NO_COLOR": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env["FLEETGEN_CACHE_DIR"] = os.path.expandvars(doc["variables"]["FLEETGEN_CACHE_DIR"].replace(
        "$CI_PROJECT_DIR", str(fleet)))
    [cached] = doc[".merge-request"]["cache"]["paths"]
    for _ in range(2):
        for script in doc["fleetgen-render-check"]["script"]:
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                   script], cwd=fleet, env=env, capture_output=True, text=True,
                                  check=False)
            assert done.returncode == 0, done.stdout + done.stderr
    assert Path(env["FLEETGEN_CACHE_DIR"]) == fleet / cached.rstrip("/")
    assert cache_keys(fleet / cached)
    assert git(fleet, "status", "--porcelain") == ""
