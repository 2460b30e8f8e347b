"""The CI recipes call the real command line: docs/ci/*.yml, .pre-commit-hooks.yaml and the
workflow `fleetgen init` writes.

Why: a recipe is copied into fleet repositories and runs only there, on their pull requests. An
option renamed here, a typo'd choice or a typo'd program would break every fleet's CI at once and
fail nowhere in this repository. So every shell line of every recipe is split into simple
commands; each program must be on an allow-list, and each `fleetgen …` is resolved against the
real command tree (`typer.main.get_command(app)`) and parsed by it, which checks subcommands,
options, choices and ranges exactly as a run would.

The splitter understands what the recipes use: `;`, `&&`, `||`, `|`, `$(…)`, redirections,
`if … then … fi`, `VAR=value`. Command substitutions inside double quotes are not looked into,
so the recipes assign them unquoted (`changes=$(git status …)`).
"""

from __future__ import annotations

import importlib
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
from ruamel.yaml import YAML
from support.fleets import PIN

from generator.cli import app
from generator.commands.init import init_fleet
from generator.paths import INPUT_FILES, INPUT_FOLDERS, RENDERED_DIR
from generator.review.risks import RISK_CLASSES

REPO = Path(__file__).resolve().parents[1]
RECIPES = sorted((REPO / "docs" / "ci").glob("*.yml"))
PRE_COMMIT_HOOKS = REPO / ".pre-commit-hooks.yaml"

ALLOWED_PROGRAMS = frozenset({
    "fleetgen", "git", "gh", "pip", "python", "python3", "curl", "kubectl", "chmod",
    "test", "[", "echo", "cat", "exit", "true", "false",
})
SHELL_KEYWORDS = frozenset({"if", "then", "else", "elif", "fi", "while", "until", "do", "done",
                            "!", "{", "}"})
UNSUPPORTED = frozenset({"case", "select", "function", "eval"})
SCRIPT_KEYS = ("run", "script", "before_script", "after_script")
OPERATORS = frozenset({";", "&&", "||", "|", "|&", "&", "(", ")", ";;"})
GATE_CLASSES = {"ip-removed-in-use", "ip-overlap", "pool-capacity", "dhcp-to-ipam",
                "cluster-removed"}

_FD_BEFORE_REDIRECT = re.compile(r"(?<!\S)\d+(?=[<>])")  # the 2 of `2>&1`; not `65000 > x`
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


# --- finding the shell in a recipe -------------------------------------------------------------

@dataclass(frozen=True)
class Script:
    where: str  # e.g. "jobs.fleetgen.steps[4].run"
    text: str


def scripts(doc: Any, where: str = "") -> Iterator[Script]:
    """Every shell script of a GitHub (`run:`) or GitLab (`script:` and friends) recipe."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            at = f"{where}.{key}" if where else str(key)
            if key in SCRIPT_KEYS and isinstance(value, str):
                yield Script(at, value)
            elif key in SCRIPT_KEYS and isinstance(value, list):
                yield from (Script(f"{at}[{i}]", item) for i, item in enumerate(value))
            else:
                yield from scripts(value, at)
    elif isinstance(doc, list):
        for index, item in enumerate(doc):
            yield from scripts(item, f"{where}[{index}]")


def logical_lines(text: str) -> list[str]:
    """Lines with backslash continuations joined; GitHub expressions become a plain word (the
    runner substitutes them before the shell runs)."""
    joined = re.sub(r"\\\n", " ", _GITHUB_EXPRESSION.sub("GITHUB_EXPRESSION", text))
    return [line for line in joined.splitlines() if line.strip()]


def simple_commands(line: str) -> tuple[list[list[str]], list[str]]:
    """The simple commands of one shell line (words, redirections removed), and what the
    splitter cannot follow."""
    lexer = shlex.shlex(_FD_BEFORE_REDIRECT.sub("", line), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as exc:  # an unclosed quote
        return [], [f"cannot split {line.strip()!r}: {exc}"]
    commands: list[list[str]] = [[]]
    unsupported: list[str] = []
    skip_target = False
    for token in tokens:
        if skip_target:
            skip_target = False
        elif token == "<<" or "`" in token:
            unsupported.append(f"{token!r} (heredocs and backticks are not checked; "
                               "use files and $(…))")
        elif token in OPERATORS:
            current = commands[-1]
            if token == "(" and current and current[-1].endswith("$"):  # `x=$(`: a substitution
                current[-1] = current[-1][:-1]
                if not current[-1]:
                    current.pop()
            commands.append([])
        elif set(token) <= set("<>&|") and set(token) & set("<>"):
            skip_target = True  # `>`, `>>`, `>&`, `<`: the next word is the target, not an argument
        else:
            commands[-1].append(token)
    return [c for c in commands if c], unsupported


def invocation(words: list[str]) -> tuple[str, list[str]] | None:
    """The program and its arguments, past shell keywords and `VAR=value` prefixes (a
    `for NAME in WORDS` loop header runs no program; its body's commands are checked)."""
    if words and words[0] == "for":
        return None
    index = 0
    while index < len(words) and (words[index] in SHELL_KEYWORDS
                                  or _ASSIGNMENT.match(words[index])):
        index += 1
    return (words[index], words[index + 1:]) if index < len(words) else None


# --- checking fleetgen invocations against the real command tree -------------------------------

ROOT_COMMAND = typer.main.get_command(app)


def _usage_errors() -> tuple[type[Exception], ...]:
    # Classic typer raises click's exceptions; typer releases that vendor click raise their own.
    found = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(importlib.import_module(module).UsageError)
        except ImportError:
            continue
    return tuple(found)


USAGE_ERRORS = _usage_errors()


def check_fleetgen(args: list[str]) -> list[str]:
    """Problems of one `fleetgen ARGS…` invocation: unknown subcommand or option, a value the
    real parser refuses, an unknown risk class. Empty when the real CLI would accept it."""
    command: Any = ROOT_COMMAND
    path = ["fleetgen"]
    rest = list(args)
    while isinstance(getattr(command, "commands", None), dict):
        if rest and rest[0].startswith("-"):  # `fleetgen --version`: an option that ends the run
            ending = {opt for p in command.params if p.param_type_name == "option"
                      and p.is_eager and getattr(p, "is_flag", False) for opt in p.opts}
            return [] if rest[0] in ending | {"--help"} else [
                (f"`{' '.join(path)}` has no option {rest[0]} that a recipe can run; it has: "
                 f"{', '.join(sorted(ending | {'--help'}))}")]
        if not rest or rest[0] not in command.commands:
            what = f"has no subcommand {rest[0]!r}" if rest else "needs a subcommand"
            return [f"`{' '.join(path)}` {what}; it has: {', '.join(sorted(command.commands))}"]
        path.append(rest[0])
        command = command.commands[rest.pop(0)]
    shown = " ".join(path)
    known = {opt for p in command.params if p.param_type_name == "option"
             for opt in (*p.opts, *p.secondary_opts)} | {"--help"}
    unknown = [a.split("=", 1)[0] for a in rest
               if a.startswith("-") and a != "-" and a.split("=", 1)[0] not in known]
    if unknown:
        return [(f"`{shown}` has no option {', '.join(unknown)}; it has: "
                 f"{', '.join(sorted(known))}")]
    try:
        ctx = command.make_context(shown, list(rest))
    except USAGE_ERRORS as exc:
        return [f"`{shown} {' '.join(rest)}`: {exc.format_message()}"]  # type: ignore[attr-defined]
    fail_on = ctx.params.get("fail_on") or ""
    bad = [c for c in fail_on.split(",") if c.strip() and c.strip() not in RISK_CLASSES]
    return [f"`{shown}`: unknown risk class {', '.join(bad)}; known: {', '.join(RISK_CLASSES)}"
            ] if bad else []


def check_script(text: str) -> list[str]:
    """Every problem of one shell script: programs off the allow-list, constructs the splitter
    cannot follow, and fleetgen invocations the real CLI would refuse."""
    problems = []
    for number, line in enumerate(logical_lines(text), start=1):
        commands, unsupported = simple_commands(line)
        problems += [f"line {number}: {what}" for what in unsupported]
        for words in commands:
            found = invocation(words)
            if found is None:
                continue
            program, args = found
            if program in UNSUPPORTED:
                problems.append(f"line {number}: `{program}` is not checked; use if/then")
            elif program not in ALLOWED_PROGRAMS:
                problems.append(f"line {number}: `{program}` is not an allowed program "
                                f"({', '.join(sorted(ALLOWED_PROGRAMS))})")
            elif program == "fleetgen":
                problems += [f"line {number}: {p}" for p in check_fleetgen(args)]
    return problems


def fleetgen_calls(text: str) -> list[list[str]]:
    """The argument lists of every `fleetgen` call in a script."""
    calls = []
    for line in logical_lines(text):
        for words in simple_commands(line)[0]:
            found = invocation(words)
            if found is not None and found[0] == "fleetgen":
                calls.append(found[1])
    return calls


# --- the recipes -------------------------------------------------------------------------------

def test_recipes_exist_and_each_has_shell_scripts() -> None:
    assert [p.name for p in RECIPES] == ["github-nightly.yml", "github-pull-request.yml",
                                         "gitlab-ci.yml"]
    for path in RECIPES:
        assert list(scripts(_load(path))), path


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipe_calls_only_allowed_programs_and_real_fleetgen_options(recipe: Path) -> None:
    problems = [f"{recipe.name} {s.where}: {p}" for s in scripts(_load(recipe))
                for p in check_script(s.text)]
    assert problems == []


def test_workflow_written_by_init_calls_only_allowed_programs_and_real_options(
        tmp_path: Path) -> None:
    init_fleet(tmp_path / "fleet", PIN)
    workflow = _load(tmp_path / "fleet" / ".github" / "workflows" / "fleetgen.yml")
    problems = [f"{s.where}: {p}" for s in scripts(workflow) for p in check_script(s.text)]
    assert problems == []


def _calls(path: Path) -> list[list[str]]:
    return [call for s in scripts(_load(path)) for call in fleetgen_calls(s.text)]


@pytest.mark.parametrize("recipe", ["github-pull-request.yml", "gitlab-ci.yml"])
def test_merge_request_recipes_validate_check_diff_and_gate_on_the_agreed_risk_classes(
        recipe: str) -> None:
    calls = _calls(REPO / "docs" / "ci" / recipe)
    assert ["render", "--check"] in calls
    assert any(c[0] == "validate" for c in calls)
    diffs = [c for c in calls if c[0] == "diff" and "--live" not in c]  # live: the nightly's
    markdown = [c for c in diffs if "markdown" in c]
    gates = [c for c in diffs if "--fail-on" in c]
    assert len(markdown) == 1 and "--max-bytes" in markdown[0] and "--against" in markdown[0]
    assert len(gates) == 1 and "--against" in gates[0]
    assert set(gates[0][gates[0].index("--fail-on") + 1].split(",")) == GATE_CLASSES
    assert gates[0][gates[0].index("--format") + 1] == "json"


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_exit_1_of_diff_and_render_check_is_handled_not_fatal(recipe: Path) -> None:
    # Scripts run with `bash -e`: a bare `fleetgen diff` (exit 1 = there are changes) or
    # `fleetgen render --check` (exit 1 = stale) would end the script before its exit code is
    # looked at. Each such call must record its code (`|| rc=$?`).
    for script in scripts(_load(recipe)):
        for line in logical_lines(script.text):
            if re.search(r"\bfleetgen (diff|render --check)\b", line):
                assert line.rstrip().endswith("|| rc=$?"), f"{script.where}: {line.strip()}"


def test_github_workflows_pass_expressions_through_env_and_fetch_full_history() -> None:
    for path in RECIPES:
        if not path.name.startswith("github-"):
            continue
        doc = _load(path)
        for script in scripts(doc):
            # Pasting ${{ … }} into a script lets a branch name or title inject shell code.
            assert "${{" not in script.text, f"{path.name} {script.where}"
        for job in doc["jobs"].values():
            checkout = next(s for s in job["steps"] if s.get("uses", "").startswith(
                "actions/checkout@"))
            assert checkout["with"]["fetch-depth"] == 0, path.name
            python = next(s for s in job["steps"] if s.get("uses", "").startswith(
                "actions/setup-python@"))
            assert python["with"]["python-version"] == "3.11", path.name


@pytest.mark.parametrize("recipe", ["github-nightly.yml", "gitlab-ci.yml"])
def test_nightly_live_drift_exports_every_management_cluster_and_fails_on_removals(
        recipe: str) -> None:
    """The optional live-drift step (issue 17): one export per context, with the ClusterClasses
    (for Cluster API's defaults), then diff --live failing on what a sync would remove."""
    text = "\n".join(s.text for s in scripts(_load(REPO / "docs" / "ci" / recipe)))
    assert re.search(r"for ctx in \$\w+; do", text)
    assert "kubectl --context \"$ctx\" get clusterclasses.cluster.x-k8s.io,clusters." in text
    [live] = [c for c in _calls(REPO / "docs" / "ci" / recipe) if "--live" in c]
    assert set(live[live.index("--fail-on") + 1].split(",")) == {"adoption-removes",
                                                                   "cluster-removed"}


def test_triggers_are_pull_requests_and_a_schedule_with_a_manual_run() -> None:
    pull_request = _load(REPO / "docs" / "ci" / "github-pull-request.yml")
    nightly = _load(REPO / "docs" / "ci" / "github-nightly.yml")
    # YAML 1.2 keeps the key `on` a string (YAML 1.1 would make it true).
    assert set(pull_request["on"]) == {"pull_request"}
    assert set(nightly["on"]) == {"schedule", "workflow_dispatch"}
    nightly_script = "\n".join(s.text for s in scripts(nightly))
    assert "fleetgen/nightly-render" in str(nightly) and "gh pr create" in nightly_script
    assert "git status --porcelain" in nightly_script
    gitlab = _load(REPO / "docs" / "ci" / "gitlab-ci.yml")
    jobs = {name: job for name, job in gitlab.items()
            if isinstance(job, dict) and "script" in job}
    rules = {name: str(gitlab[job["extends"]]["rules"] if "extends" in job else job["rules"])
             for name, job in jobs.items()}
    nightly_jobs = ("fleetgen-nightly-render", "fleetgen-live-drift")
    assert all("merge_request_event" in rules[n] for n in jobs if n not in nightly_jobs)
    assert all("schedule" in rules[n] and "merge_request_event" not in rules[n]
               for n in nightly_jobs)


def test_pre_commit_hooks_run_real_commands_on_fleet_files_only() -> None:
    hooks = {hook["id"]: hook for hook in _load(PRE_COMMIT_HOOKS)}
    assert set(hooks) == {"fleetgen-validate", "fleetgen-render-check"}
    assert hooks["fleetgen-validate"]["entry"] == "fleetgen validate"
    assert hooks["fleetgen-render-check"]["entry"] == "fleetgen render --check"
    for hook in hooks.values():
        words = [*shlex.split(hook["entry"]), *hook.get("args", [])]
        assert words[0] == "fleetgen" and check_fleetgen(words[1:]) == [], hook["id"]
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        files = re.compile(hook["files"])
        for path in ("clusters/_defaults.yaml", "overlays/a/overlay.yaml",
                     "templates/cluster.yaml.j2", "rendered/mgmt/kustomization.yaml"):
            assert files.search(path), (hook["id"], path)
        for path in ("README.md", "generator/cli.py", "docs/clusters/x.yaml"):
            assert not files.search(path), (hook["id"], path)


# --- the checker can fail ----------------------------------------------------------------------

@pytest.mark.parametrize(("line", "culprit"), [
    ("fleetgen diff --agaisnt origin/main --format markdown", "--agaisnt"),
    ("fleetgen diff --against origin/main --format markdwn", "markdwn"),
    ("fleetgen diff --max-bytes 10", "--max-bytes"),
    ("fleetgen diff --fail-on ip-overlap,ip-overlapp --format json", "ip-overlapp"),
    ("fleetgen difff --against origin/main", "difff"),
    ("fleetgen ipam plann", "plann"),
    ("fleetgen ipam", "needs a subcommand"),
    ("fleetgen validate --format gitlab", "gitlab"),
    ('rc=0\nfleetgen render --chek || rc=$?', "--chek"),
    ('if ! fleetgen render --check --forse; then exit 1; fi', "--forse"),
    ('changes=$(fleetgn render)', "fleetgn"),
    ("gti status --porcelain", "gti"),
    ("fleetgen diff \\\n  --formatt json", "--formatt"),
    ("cat <<EOF\nfleetgen diff\nEOF", "heredoc"),
])
def test_checker_rejects_a_recipe_line_with_a_wrong_program_command_option_or_value(
        line: str, culprit: str) -> None:
    problems = check_script(line)
    assert problems, line
    assert culprit in "\n".join(problems)


@pytest.mark.parametrize("line", [
    "fleetgen ipam plan --format json",
    "if ! fleetgen render --check; then exit 1; fi",
    'open_pr=$(gh pr list --head "$BRANCH" --json number --jq ".[].number")',
    'fleetgen diff --against "origin/${{ github.base_ref }}" --format markdown > diff.md 2>&1',
    "FOO=1 fleetgen validate --format=json | cat",
])
def test_checker_accepts_what_the_real_cli_accepts(line: str) -> None:
    assert check_script(line) == []


# --- the render cache (issue 20) ---------------------------------------------------------------

CACHE_DIR_GITHUB = "${{ github.workspace }}/.fleetgen-cache"
CACHE_ACTIONS = {"actions/cache@v4": "restore and save", "actions/cache/restore@v4": "restore",
                 "actions/cache/save@v4": "save"}
# The cache each GitHub job uses: the pull request restores (the base branch's, at first) and
# saves its own; the nightly renders from nothing and saves, so the pull requests find the
# default branch warm and its committed render never comes from a cache; live drift only reads.
GITHUB_CACHE_USE = {("github-pull-request.yml", "fleetgen"): "actions/cache@v4",
                    ("github-nightly.yml", "render"): "actions/cache/save@v4",
                    ("github-nightly.yml", "live-drift"): "actions/cache/restore@v4"}
_HASH_FILES = re.compile(r"\$\{\{ hashFiles\(((?:'[^']*'(?:, )?)+)\) \}\}$")


def _runs_fleetgen(step: dict[str, Any]) -> bool:
    """Whether a step renders, reviews or validates (`fleetgen --version` names it only)."""
    return any(call and not call[0].startswith("-")
               for call in fleetgen_calls(str(step.get("run", ""))))


def _github_jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in RECIPES:
        if path.name.startswith("github-"):
            for name, job in _load(path)["jobs"].items():
                yield path.name, name, job


def test_every_github_job_that_runs_fleetgen_uses_the_render_cache_as_agreed() -> None:
    found = {}
    for recipe, name, job in _github_jobs():
        steps = job["steps"]
        cache = [i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/cache")]
        fleetgen_steps = [i for i, s in enumerate(steps) if _runs_fleetgen(s)]
        if not fleetgen_steps:
            assert not cache, (recipe, name)
            continue
        assert len(cache) == 1, (recipe, name)
        found[(recipe, name)] = uses = steps[cache[0]]["uses"]
        assert steps[cache[0]]["with"]["path"] == "${{ env.FLEETGEN_CACHE_DIR }}"
        if "restore" in CACHE_ACTIONS[uses]:  # restored before the first fleetgen run
            assert cache[0] < fleetgen_steps[0], (recipe, name)
        else:  # saved after the last
            assert cache[0] > fleetgen_steps[-1], (recipe, name)
        # Every fleetgen step sees the folder the cache step restores or saves.
        assert job["env"]["FLEETGEN_CACHE_DIR"] == CACHE_DIR_GITHUB, (recipe, name)
        for index in fleetgen_steps:
            assert "FLEETGEN_CACHE_DIR" not in (steps[index].get("env") or {}), (recipe, name)
    assert found == GITHUB_CACHE_USE


def test_github_cache_key_is_os_fleetgen_and_every_input_with_a_same_fleetgen_fallback() -> None:
    """One key text in every job (the pull requests must find the nightly's cache), naming the
    runner OS, the installed fleetgen (from `fleetgen --version`, run before it) and a hash of
    every input fleetgen reads; the fallback is the newest cache of the same OS and fleetgen."""
    keys = set()
    for recipe, name, job in _github_jobs():
        steps = job["steps"]
        cache = [i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/cache")]
        if not cache:
            continue
        options = steps[cache[0]]["with"]
        keys.add(key := options["key"])
        prefix = "fleetgen-render-${{ runner.os }}-${{ steps.fleetgen.outputs.release }}-"
        assert key.startswith(prefix), (recipe, name)
        hashed = _HASH_FILES.fullmatch(key.removeprefix(prefix))
        assert hashed, key
        patterns = set(re.findall(r"'([^']*)'", hashed.group(1)))
        assert patterns == {f"{folder}/**" for folder in INPUT_FOLDERS} | set(INPUT_FILES)
        if "restore" in CACHE_ACTIONS[steps[cache[0]]["uses"]]:
            assert options["restore-keys"].splitlines() == [prefix], (recipe, name)
        else:
            assert "restore-keys" not in options
        [named] = [i for i, s in enumerate(steps) if s.get("id") == "fleetgen"]
        assert named < cache[0]
        assert fleetgen_calls(steps[named]["run"]) == [["--version"]]
        assert 'echo "release=$release" >> "$GITHUB_OUTPUT"' in steps[named]["run"]
    assert len(keys) == 1


def test_the_cache_folder_is_outside_the_fleet_and_ignored_by_git() -> None:
    """A cache folder among the inputs would change the fleet it caches; in the project (GitLab
    caches nothing outside it), it must also never be committed."""
    gitlab = _load(REPO / "docs" / "ci" / "gitlab-ci.yml")
    folders = {CACHE_DIR_GITHUB.removeprefix("${{ github.workspace }}/"),
               gitlab["variables"]["FLEETGEN_CACHE_DIR"].removeprefix("$CI_PROJECT_DIR/")}
    assert folders == {".fleetgen-cache"}
    assert ".fleetgen-cache" not in {*INPUT_FOLDERS, *INPUT_FILES, RENDERED_DIR, ".fleetgen"}
    ignored = (REPO / "generator" / "commands" / "skeleton" / "gitignore").read_text()
    assert ".fleetgen-cache/" in ignored.splitlines()


def _gitlab_jobs() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every GitLab job, with what it inherits through `extends` merged in."""
    doc = _load(REPO / "docs" / "ci" / "gitlab-ci.yml")
    for name, job in doc.items():
        if isinstance(job, dict) and "script" in job:
            yield name, {**(doc[job["extends"]] if "extends" in job else {}), **job}


def test_every_gitlab_job_that_runs_fleetgen_pulls_the_cache_and_the_nightly_pushes_it() -> None:
    gitlab = _load(REPO / "docs" / "ci" / "gitlab-ci.yml")
    assert gitlab["variables"]["FLEETGEN_CACHE_DIR"] == "$CI_PROJECT_DIR/.fleetgen-cache"
    policies = {}
    for name, job in _gitlab_jobs():
        if not any(c and not c[0].startswith("-")
                   for s in scripts(job) for c in fleetgen_calls(s.text)):
            continue
        cache = job["cache"]
        assert "FLEETGEN_CACHE_DIR" not in (job.get("variables") or {}), name
        assert cache["paths"] == [".fleetgen-cache/"], name
        # one cache per fleetgen pin: the install line is in the CI file the key hashes
        assert cache["key"] == {"prefix": "fleetgen-render", "files": [".gitlab-ci.yml"]}, name
        # merge-request pipelines run on unprotected branches: without this they would never
        # see the cache the nightly job saves on the protected default branch
        assert cache["unprotect"] is True, name
        policies[name] = cache["policy"]
    assert policies == {"fleetgen-validate": "pull", "fleetgen-render-check": "pull",
                        "fleetgen-diff": "pull", "fleetgen-risk-gate": "pull",
                        "fleetgen-nightly-render": "push", "fleetgen-live-drift": "pull"}
    assert "python -m pip install" in str(gitlab["default"]["before_script"])  # in the key file
