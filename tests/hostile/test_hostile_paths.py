"""Hostile paths (issue 9, stage 4): names that would walk out of rendered/, symlinks out of the
repository or in loops, a rendered/ (or a folder or file in it) that is a link, an ownership
manifest that names paths outside rendered/, and two clusters that map to one output path. Each
is refused with exit 2 and a located message; nothing outside the repository is read, written
or deleted, and rendered/ is left byte- and mtime-identical.

Overlay paths (``overlays/``, ``overlay.yaml``) are not covered here: overlays are being built
in parallel and get their own hostile-path cases with that work.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from support.cli import fleetgen
from support.hostile import WEB, WEB_FILE, assert_refused, assert_refused_cleanly, state, write

NOT_A_NAME = ("is not a valid name: use lower-case letters, digits and '-', starting and ending "
              "with a letter or digit, at most 63 characters")
NO_FOLLOW = ["symlinks are not followed in clusters/",
             "  hint: copy the file, or share values through _defaults.yaml"]
LINK_HINT = "  hint: replace the link with a real folder (or remove it)"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the repository, with a file that must never be touched."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim.yaml").write_text("precious\n")
    return folder


NAMES = {
    "cluster name with ../": (
        "name: ../../etc\n",
        [f"clusters/dev/web.yaml:3:7: error[invalid-value]: name: '../../etc' {NOT_A_NAME}"]),
    "absolute namespace": (
        "namespace: /etc\n",
        [f"clusters/dev/web.yaml:3:12: error[invalid-value]: namespace: '/etc' {NOT_A_NAME}"]),
    "management cluster ..": (
        "managementCluster: ..\n",
        [f"clusters/dev/web.yaml:3:20: error[invalid-value]: managementCluster: '..' "
         f"{NOT_A_NAME}"]),
    "pool name with ../": (
        "network: {nodes: {ipPool: ../x}}\nipPools:\n  ../x: {addresses: [10.0.0.20-10.0.0.30], "
        "prefix: 24, gateway: 10.0.0.1}\n",
        [f"clusters/dev/web.yaml:5:3: error[invalid-value]: ipPools.../x: '../x' {NOT_A_NAME}"]),
    "worker name with ../": (
        "workers: [{name: ../md, replicas: 1}]\n",
        [f"clusters/dev/web.yaml:3:18: error[invalid-value]: workers[0].name: '../md' "
         f"{NOT_A_NAME}"]),
    "upper case": (
        "name: Web\n",
        [f"clusters/dev/web.yaml:3:7: error[invalid-value]: name: 'Web' {NOT_A_NAME}"]),
}


@pytest.mark.parametrize("case", NAMES, ids=list(NAMES))
def test_a_name_that_is_not_a_dns_label_is_refused(fleet: Path, case: str) -> None:
    text, expected = NAMES[case]
    write(fleet, {WEB_FILE: WEB + text})
    assert_refused(fleet, expected)


def test_a_file_name_that_is_not_a_dns_label_is_refused(fleet: Path) -> None:
    write(fleet, {"clusters/dev/Db.yaml": "controlPlane: {endpoint: 10.0.0.12}\n"})
    assert_refused(fleet, [f"clusters/dev/Db.yaml:1:1: error[invalid-value]: name: 'Db' "
                           f"{NOT_A_NAME}"])


@pytest.mark.parametrize("key", ["name", "namespace", "managementCluster"])
def test_a_name_with_a_trailing_line_break_never_reaches_the_disk(fleet: Path, key: str) -> None:
    # The model refuses "web\n" as a name at its line (the write plan would refuse the path too,
    # before anything is written), and the line break is printed escaped.
    write(fleet, {WEB_FILE: WEB + f'{key}: "web\\n"\n'})
    result = assert_refused_cleanly(fleet, f"{key}: 'web\\n' {NOT_A_NAME}")
    assert "web\n'" not in result.stderr


def test_a_name_with_a_trailing_line_break_is_refused_at_its_line(fleet: Path) -> None:
    write(fleet, {WEB_FILE: WEB + 'name: "web\\n"\n'})
    assert_refused(fleet, [f"clusters/dev/web.yaml:3:7: error[invalid-value]: name: 'web\\n' "
                           f"{NOT_A_NAME}"])


def test_a_symlink_out_of_the_repository_is_not_followed(fleet: Path, outside: Path) -> None:
    os.symlink(outside / "victim.yaml", fleet / "clusters/dev/out.yaml")
    assert_refused(fleet, [f"clusters/dev/out.yaml: error[symlink]: {NO_FOLLOW[0]}", NO_FOLLOW[1]])


def test_symlinks_in_a_loop_are_not_followed(fleet: Path) -> None:
    os.symlink("b.yaml", fleet / "clusters/dev/a.yaml")
    os.symlink("a.yaml", fleet / "clusters/dev/b.yaml")
    os.symlink("..", fleet / "clusters/dev/up")
    assert_refused(fleet, [
        f"clusters/dev/a.yaml: error[symlink]: {NO_FOLLOW[0]}", NO_FOLLOW[1],
        f"clusters/dev/b.yaml: error[symlink]: {NO_FOLLOW[0]}", NO_FOLLOW[1],
        f"clusters/dev/up: error[symlink]: {NO_FOLLOW[0]}", NO_FOLLOW[1]])


def test_a_defaults_file_that_is_a_link_is_refused(fleet: Path, outside: Path) -> None:
    os.symlink(outside / "victim.yaml", fleet / "clusters/dev/_defaults.yaml")
    assert_refused_cleanly(fleet, f"clusters/dev/_defaults.yaml: error[symlink]: {NO_FOLLOW[0]}")


def test_a_defaults_file_that_is_a_link_is_not_read(fleet: Path, outside: Path) -> None:
    os.symlink(outside / "victim.yaml", fleet / "clusters/dev/_defaults.yaml")
    assert_refused(fleet, [f"clusters/dev/_defaults.yaml: error[symlink]: {NO_FOLLOW[0]}",
                           NO_FOLLOW[1]])


def test_a_clusters_folder_that_is_a_link_is_refused(fleet: Path, outside: Path) -> None:
    os.rename(fleet / "clusters", outside / "clusters")
    os.symlink(outside / "clusters", fleet / "clusters")
    assert_refused(fleet, ["clusters: error[symlink]: 'clusters/' is a symlink",
                           "  hint: fleetgen reads only real folders inside the repository"])


def test_rendered_being_a_link_is_refused(fleet: Path, outside: Path) -> None:
    os.rename(fleet / "rendered", outside / "rendered")
    os.symlink(outside / "rendered", fleet / "rendered")
    write(fleet, {WEB_FILE: WEB + "cni: calico\n"})
    before = state(outside / "..")
    result = fleetgen(fleet, "render")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "rendered: error[symlink]: is a symlink; fleetgen writes only real files and folders",
        LINK_HINT, "1 error; nothing was written"]
    assert state(outside / "..") == before


@pytest.mark.parametrize("link", ["mgmt-a", "mgmt-a/dev", "mgmt-a/dev/web/cluster.yaml"])
def test_a_folder_or_file_in_rendered_being_a_link_is_refused(fleet: Path, outside: Path,
                                                             link: str) -> None:
    target = fleet / "rendered" / link
    os.rename(target, outside / "moved")
    os.symlink(outside / "moved", target)
    write(fleet, {WEB_FILE: WEB + "cni: calico\n"})
    assert_refused(fleet, [f"rendered/{link}: error[symlink]: is a symlink; fleetgen writes only "
                           "real files and folders", LINK_HINT])


@pytest.mark.parametrize("name", [".fleetgen-manifest.json", ".fleetgen.lock"])
def test_fleetgens_own_files_being_links_is_refused(fleet: Path, outside: Path,
                                                    name: str) -> None:
    target = fleet / "rendered" / name
    if target.exists():
        os.rename(target, outside / name)
    else:
        (outside / name).write_text("precious\n")
    os.symlink(outside / name, target)
    write(fleet, {WEB_FILE: WEB + "cni: calico\n"})
    before = state(fleet), (outside / name).read_bytes()
    result = fleetgen(fleet, "render")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        f"rendered/{name}: error[symlink]: is a symlink; fleetgen writes only real files and "
        "folders", LINK_HINT]
    assert (state(fleet), (outside / name).read_bytes()) == before
    assert target.is_symlink()


def manifest_listing(fleet: Path, extra: dict[str, str]) -> None:
    path = fleet / "rendered/.fleetgen-manifest.json"
    body = json.loads(path.read_text())
    body["files"].update(extra)
    path.write_text(json.dumps(body))


@pytest.mark.parametrize(("listed", "why"), [
    ("../clusters/_defaults.yaml", "'..' is not allowed"),
    ("mgmt-a/../../clusters/dev/web.yaml", "'..' is not allowed"),
    ("/etc/passwd", "it is absolute"),
    ("mgmt-a//x.yaml", "it has an empty part"),
])
def test_a_manifest_naming_paths_outside_rendered_is_refused(fleet: Path, listed: str,
                                                            why: str) -> None:
    # A tampered manifest must not make render delete files outside rendered/, even when it
    # carries the right hash (what a hostile pull request could do).
    victim = fleet / "clusters/_defaults.yaml"
    manifest_listing(fleet, {listed: hashlib.sha256(victim.read_bytes()).hexdigest()})
    before = victim.read_bytes()
    assert_refused(fleet, [
        f"rendered/.fleetgen-manifest.json: error[manifest]: the ownership manifest lists "
        f"'{listed}', which is not a path below rendered/ ({why})",
        "  hint: restore it from git (git checkout -- rendered/)"])
    assert victim.read_bytes() == before


def test_a_manifest_path_through_a_linked_folder_is_refused(fleet: Path, outside: Path) -> None:
    os.symlink(outside, fleet / "rendered/mgmt-b")
    digest = hashlib.sha256((outside / "victim.yaml").read_bytes()).hexdigest()
    manifest_listing(fleet, {"mgmt-b/victim.yaml": digest})
    assert_refused(fleet, ["rendered/mgmt-b: error[symlink]: is a symlink; fleetgen writes only "
                           "real files and folders", LINK_HINT])
    assert (outside / "victim.yaml").read_text() == "precious\n"


def test_two_files_naming_one_cluster(fleet: Path) -> None:
    write(fleet, {"clusters/other/web.yaml":
                  "namespace: dev\ncontrolPlane: {endpoint: 10.0.0.12}\n"})
    assert_refused(fleet, [
        "clusters/other/web.yaml:1:1: error[duplicate-cluster]: cluster 'web' in namespace 'dev' "
        "of 'mgmt-a' is also defined by clusters/dev/web.yaml",
        "  hint: rename one of the files or set 'name:'"])


def test_two_clusters_differing_only_in_case(fleet: Path) -> None:
    write(fleet, {"clusters/dev/Web.yaml": "name: web\ncontrolPlane: {endpoint: 10.0.0.12}\n"})
    assert_refused(fleet, [
        "clusters/dev/web.yaml:1:1: error[duplicate-cluster]: cluster 'web' in namespace 'dev' of "
        "'mgmt-a' is also defined by clusters/dev/Web.yaml",
        "  hint: rename one of the files or set 'name:'"])


ALB = "controlPlane: {{endpoint: {}, endpointProvider: nsx-alb, vip: {}}}\n"


def test_names_that_would_join_to_one_output_path_get_their_own_files(fleet: Path) -> None:
    # a-b/c and a/b-c: joined with '-' they would share one DNS record file; '.' cannot occur
    # in a DNS label, so each gets its own.
    write(fleet, {WEB_FILE: "namespace: a-b\nname: c\n" + ALB.format("c.example.com", "10.0.0.50"),
                  "clusters/dev/api.yaml": "namespace: a\nname: b-c\n"
                  + ALB.format("bc.example.com", "10.0.0.51")})
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output
    records = sorted(p.name for p in (fleet / "rendered/mgmt-a/_global").glob("dnsendpoint-*"))
    assert records == ["dnsendpoint-a-b.c.yaml", "dnsendpoint-a.b-c.yaml"]


def test_the_write_plan_refuses_paths_that_collide_by_case() -> None:
    # Names are lower-case DNS labels, so this cannot come from an inventory; the write plan
    # still refuses it, for a checkout on macOS or Windows.
    from generator.problems import FleetError
    from generator.write.plan import check_wanted
    with pytest.raises(FleetError) as caught:
        check_wanted({"mgmt/dev/web/cluster.yaml": b"a: 1\n", "mgmt/dev/Web/cluster.yaml": b""})
    assert [p.text() for p in caught.value.problems] == [
        "rendered/mgmt/dev/Web/cluster.yaml: error[path-conflict]: differs only in case from "
        "rendered/mgmt/dev/web/cluster.yaml; they would be one file on macOS and Windows\n"
        "  hint: rename one of the clusters or pools"]


@pytest.mark.parametrize("to", ["{outside}", "clusters/../../outside", "clusters/link"])
def test_import_never_writes_outside_the_fleet(fleet: Path, outside: Path, to: str) -> None:
    os.symlink(outside, fleet / "clusters/link")
    flat = write(outside, {"wl.yaml": "CLUSTER_NAME: wl\nINFRASTRUCTURE_PROVIDER: vsphere\n"})
    target = to.format(outside=outside)
    before = state(fleet)
    result = fleetgen(fleet, "import", "tkg", str(flat / "wl.yaml"), "--to", target)
    assert result.exit_code == 2, result.output
    assert "error[outside-fleet]" in result.stderr
    assert sorted(p.name for p in outside.iterdir()) == ["victim.yaml", "wl.yaml"]
    assert state(fleet) == before


def test_a_template_link_cannot_copy_a_private_key_into_rendered(fleet: Path,
                                                                 outside: Path) -> None:
    key = write(outside, {"id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1r\n"
                                    "-----END OPENSSH PRIVATE KEY-----\n"}) / "id_rsa"
    (fleet / "templates").mkdir()
    os.symlink(key, fleet / "templates/tanzu-features.sh.j2")
    # The link is refused before it is read; the write plan's secret check stays behind it.
    result = assert_refused(fleet, [
        "templates/tanzu-features.sh.j2: error[symlink]: templates are not read through symlinks",
        "  hint: copy the template into templates/"])
    assert "b3BlbnNzaC1r" not in result.output


@pytest.mark.parametrize("layout", ["file", "folder", "loop"])
def test_template_links_are_refused(fleet: Path, outside: Path, layout: str) -> None:
    write(outside, {"features.yaml.j2": "apiVersion: v1\nkind: ClientConfig\n"})
    if layout == "folder":
        os.symlink(outside, fleet / "templates")
    else:
        (fleet / "templates").mkdir()
        if layout == "file":
            os.symlink(outside / "features.yaml.j2", fleet / "templates/features.yaml.j2")
        else:
            os.symlink("x.j2", fleet / "templates/features.yaml.j2")
            os.symlink("features.yaml.j2", fleet / "templates/x.j2")
    assert_refused_cleanly(fleet, "error[symlink]")
