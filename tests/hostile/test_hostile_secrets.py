"""Secrets (issue 9, stage 6): a plaintext password, an ``<encoded:…>`` value or a private key in
an inventory is refused, wherever it is written; and nothing secret-looking is ever printed: not
in problems (text, json, github), not in diffs, not in internal-error reports. Every test
asserts that the secret string is absent from all output."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

import generator.write.plan
from generator.problems import Location, Problem
from generator.secrets import scrub
from support.cli import fleetgen
from support.hostile import WEB, WEB_FILE, assert_refused, state, write

SECRET = "hunter2-Sup3rS3cret"
ENCODED = f"<encoded:{base64.b64encode(SECRET.encode()).decode()}>"
PEM = (f"-----BEGIN OPENSSH PRIVATE KEY-----\\n{SECRET}\\n-----END OPENSSH PRIVATE KEY-----")
HINT = ("  hint: keep it in a Secret on the management cluster and reference it (identityRef); "
        "remove it from git history too")
LEAKS = (SECRET, base64.b64encode(SECRET.encode()).decode())


def assert_no_leak(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, f"a secret was printed:\n{text}"


def key_problem(line: int, col: int, key: str) -> list[str]:
    return [f"clusters/dev/web.yaml:{line}:{col}: error[secret-in-inventory]: '{key}' looks like a "
            "secret; inventories must not hold secrets", HINT]


def value_problem(line: int, col: int) -> list[str]:
    return [f"clusters/dev/web.yaml:{line}:{col}: error[secret-in-inventory]: this value is an "
            "encoded password or a private key", HINT]


CASES = {
    "vSphere password": (WEB + f"vsphere:\n  password: {SECRET}\n", key_problem(4, 3, "password")),
    "flat-config style variable": (WEB + f"VSPHERE_PASSWORD: {SECRET}\n",
                                   key_problem(3, 1, "VSPHERE_PASSWORD")),
    "client secret in a label": (WEB + f"labels:\n  azure-client-secret: {SECRET}\n",
                                 key_problem(4, 3, "azure-client-secret")),
    "token in a list item": (WEB + f"workers: [{{name: md-0, replicas: 1, token: {SECRET}}}]\n",
                             key_problem(3, 37, "token")),
    "a number as password": (WEB + "password: 12345\n", key_problem(3, 1, "password")),
    "encoded value": (WEB + f'vsphere:\n  server: "{ENCODED}"\n', value_problem(4, 11)),
    "encoded value in a list": (WEB + f'labels: {{a: b}}\nannotations: {{x: "{ENCODED}"}}\n',
                                value_problem(4, 18)),
    "private key": (WEB + f'azure:\n  sshPublicKey: "{PEM}"\n', value_problem(4, 17)),
    "private key in defaults": (None, None),
}


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][0] is not None])
def test_a_secret_in_an_inventory_is_refused_and_never_printed(fleet: Path, case: str) -> None:
    text, expected = CASES[case]
    assert text is not None and expected is not None
    write(fleet, {WEB_FILE: text})
    result = assert_refused(fleet, expected)
    assert_no_leak(result.output)
    for fmt in ("json", "github"):
        result = fleetgen(fleet, "validate", "--format", fmt)
        assert result.exit_code == 2
        assert "secret-in-inventory" in result.output
        assert_no_leak(result.output)


def test_a_private_key_in_a_defaults_file_is_refused_for_every_cluster_once(fleet: Path) -> None:
    write(fleet, {"clusters/_defaults.yaml": (fleet / "clusters/_defaults.yaml").read_text()
                  + f'annotations: {{key: "{PEM}"}}\n'})
    result = assert_refused(fleet, [
        "clusters/_defaults.yaml:13:20: error[secret-in-inventory]: this value is an encoded "
        "password or a private key", HINT])
    assert_no_leak(result.output)


@pytest.mark.parametrize("text", [
    f"password: {SECRET}\npassword: {SECRET}x\n",      # duplicate key
    f'password: "{SECRET}\n',                           # unterminated string
    f"password: {SECRET}: x\n",                          # syntax error after the value
    f"password: !vault {SECRET}\n",                      # unknown tag
    f"password: &a {SECRET}\nx: *a\n",                   # alias
    f"password: {SECRET}\ncni: \x07\n",                  # control character
    f"password: 0{SECRET[:0]}755\n",                     # ambiguous value under a secret key
    f"controlPlane: {{endpoint: {ENCODED}}}\n",          # plain encoded value (a '<' scalar)
])
def test_yaml_errors_never_print_a_secret(fleet: Path, text: str) -> None:
    write(fleet, {WEB_FILE: text})
    before = state(fleet)
    result = fleetgen(fleet, "render")
    assert result.exit_code == 2
    assert_no_leak(result.output)
    assert state(fleet) == before


def test_model_errors_never_print_a_secret_looking_value(fleet: Path) -> None:
    # A value the model rejects is quoted in the message, unless it looks like a secret.
    from generator.problems import show_value
    assert show_value(ENCODED) == "***"
    write(fleet, {WEB_FILE: WEB + f"cni: {SECRET}\n"})  # not secret-looking: shown, as a typo is
    assert f"'{SECRET}' is not allowed" in fleetgen(fleet, "render").stderr


def test_every_problem_message_is_scrubbed() -> None:
    problem = Problem(Location("x.yaml", 1, 1), "code",
                      f"bad value {ENCODED} near password={SECRET}", f"not {PEM}")
    assert problem.text() == ("x.yaml:1:1: error[code]: bad value *** near password=***\n"
                              "  hint: not ***")
    assert scrub(f"token: '{SECRET}', sshKeyName: mine") == "token: ***, sshKeyName: mine"


def test_a_generated_file_with_a_secret_is_never_written(fleet: Path) -> None:
    write(fleet, {"templates/features.yaml.j2": "apiVersion: v1\nkind: ClientConfig\n"
                  f"note: {ENCODED}\n"})
    result = assert_refused(fleet, [line for c in ("api", "web") for line in (
        f"rendered/mgmt-a/dev/{c}/features.yaml: error[secret-in-output]: this file would hold an "
        "encoded password or a private key; it is not written",
        "  hint: check the inventory and the templates (a template that is a link, or that "
        "includes a file)")])
    assert_no_leak(result.output)


def hand_written_secrets(fleet: Path) -> None:
    """Someone committed secrets into rendered/ by hand; the next diff shows them going away."""
    config = fleet / "rendered/mgmt-a/dev/web/cluster-config.yaml"
    config.write_text(config.read_text() + f"VSPHERE_PASSWORD: {SECRET}\nX: \"{ENCODED}\"\n")
    script = fleet / "rendered/mgmt-a/tanzu-features.sh"
    script.write_text(script.read_text() + f"export VSPHERE_PASSWORD={SECRET}\necho {ENCODED}\n")


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_a_diff_masks_secrets_in_structured_files(fleet: Path, fmt: str) -> None:
    config = fleet / "rendered/mgmt-a/dev/web/cluster-config.yaml"
    config.write_text(config.read_text() + f"VSPHERE_PASSWORD: {SECRET}\nX: \"{ENCODED}\"\n")
    result = fleetgen(fleet, "diff", "--format", fmt)
    assert result.exit_code == 1
    assert "VSPHERE_PASSWORD" in result.stdout
    assert_no_leak(result.output)


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_a_diff_masks_secrets_in_text_files(fleet: Path, fmt: str) -> None:
    hand_written_secrets(fleet)
    result = fleetgen(fleet, "diff", "--format", fmt)
    assert result.exit_code == 1
    assert_no_leak(result.output)


def test_an_internal_error_never_prints_a_secret(fleet: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(data: bytes) -> str:
        raise RuntimeError(f"unexpected value {ENCODED}")

    monkeypatch.setattr(generator.write.plan, "digest", boom)
    result = fleetgen(fleet, "render")
    assert result.exit_code == 3
    assert_no_leak(result.output)
