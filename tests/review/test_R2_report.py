"""`fleetgen diff` reports (helper R2, issue 16): pool headroom from structured pool data,
the --max-bytes budget, one row per cause, and JSON paths as they are in the objects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.check.fleet import Fleet
from generator.review.diff import Change, FieldChange, compare
from generator.review.report import as_json as json_report
from generator.review.report import as_markdown, as_text
from generator.review.result import Review
from generator.review.risks import Risk
from support.cli import fleetgen
from support.fleets import VSPHERE_DEFAULTS, write_tree
from support.gitrepo import commit_all, git, init

SHARED = """\
ipPools:
  shared: {kind: GlobalInClusterIPPool, gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.10-10.0.0.99]}
network:
  nodes: {ipPool: shared}
  nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}
"""


def fleet(root: Path, clusters: int, defaults: str = SHARED) -> Path:
    """A committed fleet of ``clusters`` clusters drawing from one pool declared in defaults."""
    init(root)
    files = {"clusters/_defaults.yaml": VSPHERE_DEFAULTS + defaults}
    files.update({f"clusters/dev/c{i:03}.yaml":
                  f"controlPlane: {{endpoint: 10.9.{i // 250}.{i % 250 + 1}}}\n"
                  for i in range(clusters)})
    write_tree(root, files)
    assert fleetgen(root, "render").exit_code == 0
    commit_all(root, "fleet")
    git(root, "checkout", "-q", "-b", "pr")
    return root


def edit(root: Path, path: str, old: str, new: str) -> None:
    file = root / path
    text = file.read_text()
    assert old in text, (path, old)
    file.write_text(text.replace(old, new))


def as_json(root: Path, *args: str) -> dict[str, object]:
    result = fleetgen(root, "diff", "--format", "json", *args)
    assert result.exit_code in (0, 1, 4), result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


# --- pool headroom: structured data, never titles ------------------------------------------

def test_shrinking_a_shared_global_pool_shows_its_headroom_and_its_clusters(tmp_path: Path
                                                                            ) -> None:
    root = fleet(tmp_path, 4)
    # 4 clusters need 16 (1 cp + 1 worker + 2 surge each): 17 allocatable leaves 1 (6 %)
    edit(root, "clusters/_defaults.yaml", "10.0.0.10-10.0.0.99", "10.0.0.10-10.0.0.26")
    markdown = fleetgen(root, "diff", "--format", "markdown").stdout
    summary = markdown.splitlines()[4]
    assert summary.startswith("| 4 | 0 | 1 | 0 | +0 / -73 |"), summary
    assert "`GlobalInClusterIPPool shared` 1 of 17 (6 %)" in summary
    report = as_json(root)
    assert report["summary"]["clustersTouched"] == 4  # type: ignore[index]
    pool = next(c for c in report["changes"]  # type: ignore[union-attr]
                if c["object"] == {"kind": "GlobalInClusterIPPool", "namespace": None,
                                   "name": "shared"})
    assert pool["clusters"] == [f"mgmt-a/dev/c{i:03}" for i in range(4)]
    assert report["summary"]["pools"] == [{  # type: ignore[index]
        "managementCluster": "mgmt-a", "kind": "GlobalInClusterIPPool", "namespace": None,
        "name": "shared", "allocatable": 17, "needed": 16, "headroom": 1,
        "clusters": [f"mgmt-a/dev/c{i:03}" for i in range(4)]}]
    text = fleetgen(root, "diff").stdout
    assert "4 clusters touched" in text
    assert "pool headroom: GlobalInClusterIPPool shared 1 of 17 (6 %)" in text


def test_a_namespaced_pool_shared_by_two_clusters_counts_both(tmp_path: Path) -> None:
    root = fleet(tmp_path, 2, SHARED.replace("kind: GlobalInClusterIPPool, ", ""))
    edit(root, "clusters/_defaults.yaml", "10.0.0.10-10.0.0.99", "10.0.0.10-10.0.0.50")
    report = as_json(root)
    assert report["summary"]["clustersTouched"] == 2  # type: ignore[index]
    markdown = fleetgen(root, "diff", "--format", "markdown").stdout
    assert "`InClusterIPPool dev/shared` 33 of 41 (80 %)" in markdown


# --- the --max-bytes budget: summary and risk table first, cut last -------------------------

def review_of(risks: list[Risk], clusters: list[str]) -> Review:
    changes = [Change("changed", f"{c}/cluster.yaml", f"Cluster {c.split('/', 1)[1]}", c,
                      [FieldChange("spec.topology.version", "v1.27.5", "v1.28.7")])
               for c in clusters]
    return Review(changes, risks, Fleet(clusters=(), pools=()), "rendered/ in the working tree")


LONG = "the vCenter placement changes, so machines are replaced " + "(datastore moved) " * 6


def seven_risks() -> list[Risk]:
    return [Risk("rollout", f"Cluster dev/c{i}", LONG, f"clusters/dev/c{i}.yaml:{i + 1}:3",
                 f"mgmt-a/dev/c{i}") for i in range(7)]


def table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("| `")]


def test_a_small_budget_keeps_summary_and_risk_rows_before_any_section() -> None:
    review = review_of(seven_risks(), [f"mgmt-a/dev/c{i}" for i in range(7)] + ["mgmt-a/dev/calm"])
    markdown = as_markdown(review, 1000)
    assert len(markdown.encode()) <= 1000
    assert markdown.startswith("### fleetgen diff: rendered/ in the working tree\n")
    assert "| 8 | 0 | 8 | 0 | +0 / -0 | rollout 7 causes (7 clusters) | - |" in markdown
    assert "7 more risks not shown" not in markdown
    rows = table_rows(markdown)
    assert rows, markdown
    shown = len(rows)
    assert 4 <= shown < 7, markdown  # shortened first, then only the last rows dropped
    assert f"| … | | {7 - shown} more risks not shown |" in markdown
    assert [row.split(" | ")[1] for row in rows] == [f"clusters/dev/c{i}.yaml:{i + 1}:3"
                                                     for i in range(shown)]
    # rows are shortened before any is dropped, and no section comes before the risks are shown
    assert "mgmt-a/dev/calm" not in markdown
    assert all(len(row.encode()) < len(LONG) for row in rows)


def test_risk_rows_are_shortened_before_they_are_dropped() -> None:
    review = review_of(seven_risks(), [f"mgmt-a/dev/c{i}" for i in range(7)])
    full = as_markdown(review, 65000)
    assert all(LONG.strip() in row for row in table_rows(full))
    short = as_markdown(review, 1500)
    assert len(short.encode()) <= 1500
    assert len(table_rows(short)) == 7 and "more risks not shown" not in short
    assert "<details><summary>mgmt-a/dev/c0" not in short


def test_sections_fill_what_the_risk_table_leaves() -> None:
    review = review_of(seven_risks()[:1], ["mgmt-a/dev/c0", "mgmt-a/dev/calm"])
    markdown = as_markdown(review, 65000)
    assert "<details><summary>mgmt-a/dev/calm: 1 change</summary>" in markdown
    assert markdown.index("| `rollout` |") < markdown.index("<details><summary>mgmt-a/dev/c0")


# --- one cause, one row ----------------------------------------------------------------------

WHAT = "the node network changes, so machines are replaced"


def fleet_wide(n: int) -> list[Risk]:
    return [Risk("rollout", f"Cluster dev/c{i:03}", WHAT, "clusters/_defaults.yaml:17:5",
                 f"mgmt-a/dev/c{i:03}") for i in range(n)]


def test_one_cause_on_many_clusters_is_one_row_listing_them() -> None:
    risks = [*fleet_wide(200), Risk("rollout", "Cluster dev/c000", WHAT,
                                    "overlays/big/patch.yaml:3:1", "mgmt-a/dev/c000")]
    review = review_of(risks, [f"mgmt-a/dev/c{i:03}" for i in range(200)])
    markdown = as_markdown(review, 65000)
    rows = table_rows(markdown)
    assert len(rows) == 2, rows
    row = next(r for r in rows if "_defaults.yaml" in r)
    assert row.startswith(f"| `rollout` | clusters/_defaults.yaml:17:5 | 200 clusters: {WHAT} "
                          "<details><summary>clusters</summary>mgmt-a/dev/c000, ")
    assert all(f"mgmt-a/dev/c{i:03}" in row for i in range(200))
    assert "| `rollout` | overlays/big/patch.yaml:3:1 | Cluster dev/c000: " in markdown


def test_text_gives_a_grouped_risk_a_count_and_the_first_few(capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    from rich.console import Console
    review = review_of(fleet_wide(200), [f"mgmt-a/dev/c{i:03}" for i in range(200)])
    as_text(review, Console(highlight=False, soft_wrap=True, no_color=True))
    risk_lines = [line for line in capsys.readouterr().out.splitlines() if "risk rollout" in line]
    assert risk_lines == [
        f"  risk rollout  clusters/_defaults.yaml:17:5  200 clusters (mgmt-a/dev/c000, "
        f"mgmt-a/dev/c001, mgmt-a/dev/c002 and 197 more): {WHAT}"]


def test_a_nameserver_change_in_defaults_on_200_clusters_is_one_row(tmp_path: Path) -> None:
    root = fleet(tmp_path, 200, SHARED.replace("prefix: 24", "prefix: 16")
                 .replace("10.0.0.99", "10.0.9.99"))
    edit(root, "clusters/_defaults.yaml", "worker: [10.0.0.2]", "worker: [10.0.0.3]")
    result = fleetgen(root, "diff", "--format", "markdown")
    assert result.exit_code == 1, result.stderr
    rows = table_rows(result.stdout)
    assert len(rows) == 1, rows[:3]
    assert rows[0].startswith("| `rollout` | clusters/_defaults.yaml:")
    assert "| 200 clusters: " in rows[0]
    assert all(f"mgmt-a/dev/c{i:03}" in rows[0] for i in range(200))
    # the summary counts causes (rows) and the clusters they touch, not the 200 risks
    assert "| rollout 1 cause (200 clusters) |" in result.stdout
    report = json.loads(fleetgen(root, "diff", "--format", "json").stdout)
    assert report["summary"]["risks"] == {"rollout": 200}
    assert report["summary"]["riskGroups"] == {"rollout": 1}
    [group] = report["riskGroups"]
    assert group["class"] == "rollout" and group["location"].startswith("clusters/_defaults.yaml:")
    assert group["clusters"] == [f"mgmt-a/dev/c{i:03}" for i in range(200)]
    assert len(group["subjects"]) == 200


def test_one_cause_with_different_words_on_different_clusters_is_one_row() -> None:
    where = "overlays/big/overlay.yaml:2:3"
    risks = [Risk("rollout", "Cluster dev/a", "the vCenter placement changes, so machines are "
                  "replaced", where, "mgmt-a/dev/a"),
             Risk("rollout", "Cluster dev/b", WHAT, where, "mgmt-a/dev/b")]
    review = review_of(risks, ["mgmt-a/dev/a", "mgmt-a/dev/b"])
    [row] = table_rows(as_markdown(review, 65000))
    assert row.startswith(f"| `rollout` | {where} | 2 clusters: the vCenter placement changes, "
                          f"so machines are replaced; {WHAT} <details>")
    assert json_report(review)["summary"]["riskGroups"] == {"rollout": 1}


# --- JSON: paths and values as they are in the objects (schemaVersion 3) ---------------------

def test_json_paths_name_list_items_and_values_keep_their_name(tmp_path: Path) -> None:
    root = fleet(tmp_path, 1)
    edit(root, "clusters/_defaults.yaml", "worker: [10.0.0.2]", "worker: [10.0.0.3]")
    edit(root, "clusters/dev/c000.yaml", "controlPlane: {endpoint: 10.9.0.1}",
         "controlPlane: {endpoint: 10.9.0.11}")
    report = as_json(root)
    assert report["schemaVersion"] == 3
    cluster = next(c for c in report["changes"]  # type: ignore[union-attr]
                   if c.get("object") == {"kind": "Cluster", "namespace": "dev", "name": "c000"})
    paths = {f["path"]: f for f in cluster["fields"]}
    assert not [p for p in paths if "[" in p and "[name=" not in p and "]" in p
                and not p.split("[", 1)[1][0].isdigit()], paths
    field = paths["spec.topology.variables[name=apiServerEndpoint].value"]
    assert (field["old"], field["new"]) == ("10.9.0.1", "10.9.0.11")
    text = fleetgen(root, "diff").stdout
    assert "spec.topology.variables[name=apiServerEndpoint].value: 10.9.0.1 → 10.9.0.11" in text


def test_an_added_named_item_keeps_its_name_in_json() -> None:
    cluster = ("apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata: {name: c}\n"
               "spec: {topology: {variables: [%s]}}\n")
    old = {"m/n/c/cluster.yaml": (cluster % "{name: a, value: 1}").encode()}
    new = {"m/n/c/cluster.yaml": (cluster % "{name: a, value: 2}, {name: b, value: 3}").encode()}
    review = Review(compare(old, new), [], Fleet(clusters=(), pools=()), "x")
    fields = json_report(review)["changes"][0]["fields"]
    assert fields == [
        {"path": "spec.topology.variables[name=a].value", "old": 1, "new": 2},
        {"path": "spec.topology.variables[name=b]", "old": None, "new": {"name": "b", "value": 3}}]


def test_no_color_turns_off_bold_too(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """NO_COLOR means no styling at all (issue 19): rich alone drops colours and keeps bold."""
    from generator.commands.diff import text_console
    review = review_of(fleet_wide(2), ["mgmt-a/dev/c000", "mgmt-a/dev/c001"])
    monkeypatch.setenv("NO_COLOR", "1")
    as_text(review, text_console(force_terminal=True))  # on a terminal, where bold would show
    assert "\x1b[" not in capsys.readouterr().out
    monkeypatch.delenv("NO_COLOR")
    as_text(review, text_console(force_terminal=True))
    assert "\x1b[1m" in capsys.readouterr().out
