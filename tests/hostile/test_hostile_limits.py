"""Tiny inputs that hung or exhausted memory, and inputs that crashed (issue 14, items 4 and 7).

Each input below is a few lines long. Before, a backtracking target regex, a JSON 6902 patch
copying a value into itself, a component graph listing its next component twice, two nested
``range`` loops in a template, and a killed ``--jobs`` worker kept fleetgen busy forever or ate
all memory; a chain of 400 components, a cluster file 1,100 folders deep and a file name that is
not UTF-8 crashed it (exit 3), and so did ``fleetgen diff`` while a render deleted files. Now each
bound gives a located error at the line that asked for the work (exit 2), ``rendered/`` is left
as it was, and the bounds a real fleet could approach are ``limits:`` in ``fleetgen.yaml``.

The runs that used to hang run in a child process with a timeout (and an address-space limit),
so this file fails instead of hanging on code without the bounds.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.cli import fleetgen
from support.fleets import small_fleet
from support.hostile import (API, WEB, WEB_FILE, assert_clean, assert_refused, state, summary,
                             write)

REPO = Path(__file__).resolve().parents[2]
FEATURES = "templates/features.yaml.j2"
HEAD = "apiVersion: config.tanzu.vmware.com/v1alpha1\nkind: ClientConfig\n"
LONG = "frontend-production-east-a"  # long enough for (.*.*)*\d to backtrack for hours
LONG_FILE = f"clusters/dev/{LONG}.yaml"
LONG_CLUSTER = "controlPlane:\n  endpoint: 10.0.0.12\n"


def subject(name: str) -> str:
    return f"rendering cluster '{name}' (clusters/dev/{name}.yaml)"


def bounded(root: Path, *args: str, timeout: float = 60, memory_mb: int = 1500
            ) -> tuple[int, list[str], float]:
    """``python -m generator ARGS --root ROOT`` in a child process limited to ``timeout`` seconds
    and ``memory_mb`` of address space: (exit code, stderr lines, seconds taken). A run that
    hangs or runs out of memory fails the test instead of the machine."""

    def limit() -> None:
        size = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "generator", *(args or ("render",)),
                               "--root", str(root)], cwd=REPO, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=limit,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    except subprocess.TimeoutExpired:
        pytest.fail(f"fleetgen {' '.join(args)} still ran after {timeout} s")
    return done.returncode, done.stderr.splitlines(), time.monotonic() - started


def assert_bounded_refusal(root: Path, expected: list[str], *args: str, seconds: float = 20,
                           timeout: float = 60) -> None:
    """Like ``assert_refused``, in a bounded child process, and within ``seconds``."""
    before = state(root)
    code, lines, took = bounded(root, *args, timeout=timeout)
    assert (code, lines) == (2, [*expected, summary(expected)]), "\n".join(lines)
    assert took < seconds, f"refused, but only after {took:.1f} s"
    assert state(root) == before, "a refused run changed rendered/"
    assert_clean(root)


# --- item 4: overlay target regexes (RE2, as kustomize) -------------------------------------

def test_a_backtracking_target_regex_runs_in_linear_time(fleet: Path) -> None:
    write(fleet, {LONG_FILE: LONG_CLUSTER,
                  f"clusters/dev/{LONG}.overlay.yaml":
                      "patches:\n- target: {name: '(.*.*)*\\d'}\n  patch: |\n"
                      "    - {op: add, path: /metadata/labels/x, value: z}\n"})
    before = state(fleet)
    code, lines, took = bounded(fleet)
    assert code == 2 and took < 20, (code, took, lines)
    assert lines[0].startswith(f"clusters/dev/{LONG}.overlay.yaml:2:3: error[patch-no-match]: "
                               "patches[0] (target name=(.*.*)*\\d) matches no object"), lines
    assert state(fleet) == before
    assert_clean(fleet)


@pytest.mark.parametrize("regex, message", [
    ("(?=web)web", "invalid perl operator: (?="),
    ("(w)eb\\\\1", "invalid escape sequence: \\1"),
    ("((w{100}){100}){100}", "invalid repetition size: {100}"),
])
def test_what_re2_refuses_is_refused_at_the_target(fleet: Path, regex: str, message: str) -> None:
    write(fleet, {"clusters/dev/web.overlay.yaml":
                  f"patches:\n- target:\n    name: \"{regex}\"\n  patch: |\n"
                  "    - {op: add, path: /metadata/labels/x, value: z}\n"})
    assert_refused(fleet, [
        "clusters/dev/web.overlay.yaml:3:11: error[invalid-target]: patches[0].target.name: "
        + message,
        "  hint: a regular expression in RE2 syntax, as kustomize takes it (no lookaround, no "
        "backreferences), such as web-.*"])


def test_re2_target_regexes_still_select_what_they_did(fleet: Path) -> None:
    write(fleet, {"clusters/dev/web.overlay.yaml":
                  "patches:\n- target: {kind: 'Clust(er|erX)', name: '\\w+'}\n  patch: |\n"
                  "    - {op: add, path: /metadata/labels/x, value: z}\n"})
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output
    assert "    x: z\n" in (fleet / "rendered/mgmt-a/dev/web/cluster.yaml").read_text()


# --- item 4: JSON 6902 ------------------------------------------------------------------------

def copy_bomb(count: int) -> str:
    return "".join("- {op: copy, from: /spec, path: /spec/c%d}\n" % i for i in range(count))


def test_a_json6902_copy_bomb_fails_fast_in_bounded_memory(fleet: Path) -> None:
    bomb = copy_bomb(40)
    assert len(bomb) < 2100
    write(fleet, {"overlays/bomb/overlay.yaml":
                  "patches:\n- path: bomb.yaml\n  target: {kind: Cluster}\n",
                  "overlays/bomb/bomb.yaml": bomb, WEB_FILE: WEB + "overlays: [bomb]\n"})
    code, lines, took = bounded(fleet, memory_mb=1200)
    assert code == 2 and took < 20, (code, took, lines)
    assert lines[0].startswith(
        "overlays/bomb/overlay.yaml:2:3: error[patch-limit]: patches[0] (bomb.yaml) on Cluster "
        "dev/web: operation "), lines
    assert "would build more than 1000000 characters and values" in lines[0], lines
    assert lines[1] == ("  hint: limits.patchSize in fleetgen.yaml bounds what one patch may "
                        "build in one object"), lines


def test_too_many_json6902_operations_are_refused_at_the_patch(fleet: Path) -> None:
    ops = "".join("- {op: test, path: /kind, value: Cluster}\n" for _ in range(1001))
    write(fleet, {"overlays/many/overlay.yaml":
                  "patches:\n- path: many.yaml\n  target: {kind: Cluster}\n",
                  "overlays/many/many.yaml": ops, WEB_FILE: WEB + "overlays: [many]\n"})
    assert_refused(fleet, [
        "overlays/many/overlay.yaml:2:3: error[patch-limit]: patches[0] (many.yaml) has 1001 "
        "operations, more than 1000",
        "  hint: limits.patchOperations in fleetgen.yaml bounds the operations of one patch"])


def test_the_patch_limits_are_settings(fleet: Path) -> None:
    ops = "".join("- {op: test, path: /kind, value: Cluster}\n" for _ in range(1001))
    write(fleet, {"overlays/many/overlay.yaml":
                  "patches:\n- path: many.yaml\n  target: {kind: Cluster}\n",
                  "overlays/many/many.yaml": ops, WEB_FILE: WEB + "overlays: [many]\n",
                  "fleetgen.yaml": "limits:\n  patchOperations: 2000\n"})
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output
    write(fleet, {"fleetgen.yaml": "limits:\n  patchOperations: 2000\n  patchSize: 10\n"})
    result = fleetgen(fleet, "render", "--no-cache")
    assert result.exit_code == 2, result.output
    assert "error[patch-limit]" in result.output and "more than 10 characters" in result.output


# --- item 4 and 7: the component graph ----------------------------------------------------------

def components(root: Path, count: int, listed: int) -> None:
    """c0 … c{count-1}, each listing the next ``listed`` times; web uses c0."""
    files = {f"overlays/c{i}/overlay.yaml": "components: [%s]\n" % ", ".join(
        [f"../c{i + 1}"] * listed) for i in range(count - 1)}
    files[f"overlays/c{count - 1}/overlay.yaml"] = "commonAnnotations: {x: z}\n"
    write(root, {**files, WEB_FILE: WEB + "overlays: [c0]\n"})


def test_a_component_listed_twice_forty_deep_finishes(fleet: Path) -> None:
    components(fleet, 40, 2)
    assert_bounded_refusal(fleet, [
        "overlays/c0/overlay.yaml:1:14: error[component-limit]: overlay 'c0' applies more than "
        "1000 components (a component listed twice counts twice)",
        "  hint: limits.overlayComponents in fleetgen.yaml bounds the components one overlay "
        "applies"])


def test_a_chain_of_400_components_is_refused_at_its_depth_limit(fleet: Path) -> None:
    components(fleet, 400, 1)
    assert_refused(fleet, [
        "overlays/c50/overlay.yaml:1:14: error[component-limit]: component 'c51' is 51 "
        "components deep, more than 50",
        "  hint: limits.componentDepth in fleetgen.yaml bounds how deep components nest"])


def test_a_component_graph_within_the_limits_is_applied_as_kustomize_does(fleet: Path) -> None:
    components(fleet, 6, 2)  # 2**5 applications of c5, as kustomize applies them
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output
    assert "    x: z\n" in (fleet / "rendered/mgmt-a/dev/web/cluster.yaml").read_text()


# --- item 4: template CPU time ------------------------------------------------------------------

LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n"
STEPS_HINT = ("  hint: limits.templateSteps in fleetgen.yaml bounds the loop iterations, calls and "
              "items one template may take")


def test_two_nested_loops_that_print_nothing_stop_at_their_line(fleet: Path) -> None:
    write(fleet, {FEATURES: HEAD + "x: 1\n" + LOOPS})
    assert_bounded_refusal(fleet, [
        line for c in ("api", "web") for line in (
            f"templates/features.yaml.j2:4:1: error[template-error]: {subject(c)}: the template "
            "took more than 1000000 steps", STEPS_HINT)])


@pytest.mark.parametrize("body", [
    "{% for i in range(100000) %}{{ range(100000) | sum }}{% endfor %}",
    "{% for i in range(100000) %}{{ ('a' * 999999) | list | length }}{% endfor %}",
    "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(0) }}",
])
def test_work_done_outside_loops_counts_too(fleet: Path, body: str) -> None:
    write(fleet, {FEATURES: HEAD + "x: 1\n" + body + "\n"})
    before = state(fleet)
    code, lines, took = bounded(fleet)
    assert code == 2 and took < 20, (code, took, lines)
    assert lines[0].startswith("templates/features.yaml.j2:4:1: error[template-error]: "
                               + subject("api")), lines
    assert state(fleet) == before


def test_the_template_budget_is_a_setting(fleet: Path) -> None:
    write(fleet, {FEATURES: HEAD + "x: 1\n{% for i in range(1000) %}{% for j in range(1000) %}"
                  "{% endfor %}{% endfor %}\n"})
    assert fleetgen(fleet, "render").exit_code == 2
    write(fleet, {"fleetgen.yaml": "limits:\n  templateSteps: 5000000\n"})
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output


def test_a_limit_must_be_a_positive_number(fleet: Path) -> None:
    write(fleet, {"fleetgen.yaml": "limits:\n  templateSteps: 0\n  componentDepth: 1000\n"})
    result = fleetgen(fleet, "render")
    assert result.exit_code == 2, result.output
    assert "fleetgen.yaml:2:18: error[" in result.output, result.output
    assert "fleetgen.yaml:3:19: error[" in result.output, result.output


# --- item 4: --jobs with a worker killed by the OOM killer ---------------------------------------

KILLER = textwrap.dedent("""\
    import os, signal, sys
    from generator.render.build import GroupBuilder
    parent, build = os.getpid(), GroupBuilder.build

    def killed(self, group):
        if os.getpid() != parent and any("/c3/" in o.path for o in group):
            os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does
        return build(self, group)

    GroupBuilder.build = killed
    sys.argv = ["fleetgen", *sys.argv[1:]]
    from generator.launcher import main
    main()
""")


def test_a_killed_worker_does_not_leave_the_pool_waiting(tmp_path: Path) -> None:
    root = small_fleet(tmp_path / "fleet", **{f"c{i}": f"controlPlane:\n  endpoint: 10.0.0.{i + 10}\n"
                                              for i in range(12)})
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-c", KILLER, "render", "--jobs", "4", "--root",
                               str(root)], cwd=REPO, capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    except subprocess.TimeoutExpired:
        pytest.fail("the render waited for its killed worker")
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - started < 30
    assert lines[0].startswith("rendered/mgmt-a/dev/c3: error[worker-died]: the --jobs worker "
                               "building rendered/mgmt-a/dev/c3"), lines
    assert "killed by signal 9" in lines[0] or "died" in lines[0]
    assert not (root / "rendered").exists(), "nothing is written"


# --- item 7: crashes ------------------------------------------------------------------------------

def test_a_cluster_file_name_that_is_not_utf8_is_a_located_problem(fleet: Path) -> None:
    name = os.fsencode(fleet / "clusters/dev") + b"/w\xffb.yaml"
    with open(name, "wb") as out:
        out.write(WEB.encode())
    assert_refused(fleet, [
        "clusters/dev/w\\xffb.yaml: error[invalid-name]: the file name is not UTF-8",
        "  hint: rename the file: cluster files are named after their cluster"])


def test_a_cluster_file_1100_folders_deep_does_not_crash(fleet: Path) -> None:
    folder = fleet / "clusters/dev"
    for _ in range(1100):  # Path.mkdir(parents=True) would recurse 1,100 deep itself
        folder = folder / "a"
        folder.mkdir()
    (folder.parent / "_defaults.yaml").write_text("namespace: deep\n")
    (folder / "deep.yaml").write_text(LONG_CLUSTER)
    try:
        result = fleetgen(fleet, "render")
        assert result.exit_code == 0, result.output[-2000:]
        assert (fleet / "rendered/mgmt-a/deep/deep/cluster.yaml").is_file()
    finally:  # bottom up: pytest's own clean-up (shutil.rmtree) recurses, and would fail
        top = fleet / "clusters/dev/a"
        while folder != top.parent:
            for child in folder.iterdir():
                child.unlink()
            folder.rmdir()
            folder = folder.parent


def test_diff_while_a_render_deletes_files(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.write import plan

    walk = plan.walk

    def racing(folder: Path, **kwargs: Any) -> Any:
        listed = walk(folder, **kwargs)
        for rel, path in listed[0]:
            if rel.endswith("features.yaml"):
                os.unlink(path)  # a render removes it between the listing and the read
        return listed

    monkeypatch.setattr(plan, "walk", racing)
    result = fleetgen(fleet, "diff")
    assert result.exit_code == 1, result.output  # the deleted files show as changes
    assert "features.yaml" in result.output


# --- item 7: fuzzing the inventory model through the command line ---------------------------------

HOSTILE = ["10.0.0.5", "10.0.0.20-10.0.0.40", "10.0.0.50-10.0.0.20", "10.0.0.0/24", "fd00::5",
           "fd00::5%eth0", "fd00::1-fd00::5%x", "10.0.0.300", "10.0.0.1-", "-", "", " ", "a b",
           "x" * 300, "../x", "WEB", "web\n", "az\u0085b", "\u2028", "\t", "#", "*", "&a",
           "{{ x }}", "${x}", "; rm -rf /", "\"", "'", "\\", "%", "0755", "1e400", "nan",
           "InClusterIPPool", "GlobalInClusterIPPool", "vsphere", "aws", "ipv4,ipv6", "antrea",
           "md-0", "00:50:56:aa:bb:cc", "v1.27.5+vmware.1-tkg.1", "kube-vip", "nsx-alb"]
scalars = st.one_of(st.sampled_from(HOSTILE), st.integers(-3, 70),
                    st.sampled_from([0, -1, 2 ** 31, 10 ** 20, -(10 ** 20)]), st.booleans(),
                    st.none(), st.floats(allow_nan=False, allow_infinity=False))


def lists_of(item: Any) -> Any:
    return st.lists(item, max_size=3)


pool = st.fixed_dictionaries({}, optional={
    "kind": st.one_of(st.sampled_from(["InClusterIPPool", "GlobalInClusterIPPool"]), scalars),
    "addresses": st.one_of(lists_of(scalars), scalars), "prefix": scalars, "gateway": scalars,
    "excludedAddresses": lists_of(scalars)})
worker = st.fixed_dictionaries({}, optional={
    "name": scalars, "replicas": scalars, "maxSurge": scalars, "failureDomain": scalars,
    "labels": st.dictionaries(st.sampled_from(HOSTILE), scalars, max_size=2),
    "machine": st.fixed_dictionaries({}, optional={"numCPUs": scalars, "memoryMiB": scalars})})
inventory = st.fixed_dictionaries({}, optional={
    "controlPlane": st.fixed_dictionaries({}, optional={
        "endpoint": scalars, "replicas": scalars, "endpointProvider": scalars}),
    "workers": st.one_of(lists_of(worker), scalars),
    "network": st.fixed_dictionaries({}, optional={
        "ipFamily": scalars, "pods": lists_of(scalars), "services": lists_of(scalars),
        "nodes": st.fixed_dictionaries({}, optional={"ipPool": scalars}),
        "nodeNetwork": st.fixed_dictionaries({}, optional={
            "cidr": scalars, "dhcpRanges": lists_of(scalars),
            "dhcpReservations": lists_of(st.fixed_dictionaries({}, optional={
                "mac": scalars, "ip": scalars, "node": scalars}))}),
        "nameservers": st.fixed_dictionaries({}, optional={
            "controlPlane": lists_of(scalars), "worker": lists_of(scalars)})}),
    "ipPools": st.dictionaries(st.sampled_from(["p", "web-pool", "x" * 70, "P"]), pool,
                               max_size=2),
    "features": st.dictionaries(st.sampled_from(["cluster", "plan", "x; y"]),
                                st.dictionaries(st.sampled_from(HOSTILE), scalars, max_size=2),
                                max_size=2),
    "annotations": st.dictionaries(st.sampled_from(HOSTILE), scalars, max_size=2),
    "labels": st.dictionaries(st.sampled_from(HOSTILE), scalars, max_size=2),
    "kubernetes": st.fixed_dictionaries({}, optional={"version": scalars}),
    "namespace": scalars, "os": scalars, "cni": scalars,
})


@settings(max_examples=120, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(inventory)
def test_random_schema_shaped_inventories_never_exit_3(tmp_path: Path, cluster: dict[str, Any]
                                                       ) -> None:
    from generator.yaml.dump import dump
    root = tmp_path / "fuzz"
    small_fleet(root, web=dump(cluster), api=API)
    for command in ("validate", "render"):
        result = fleetgen(root, command)
        assert result.exit_code in (0, 2), (command, dump(cluster), result.output)
        if result.exit_code == 2:
            assert ": error[" in result.stderr, result.output
