"""Reports a crafted file name cannot forge (issue 14, item 10): ``--format github`` escapes
``,`` and ``:`` in the properties of a workflow command, as GitHub's toolkit does, so an
annotation stays on the file it is about."""

from __future__ import annotations

from pathlib import Path

from support.cli import fleetgen
from support.hostile import write

CRAFTED = "clusters/dev/x,file=README.md,line=1::y.yaml"


def test_a_crafted_file_name_cannot_move_a_github_annotation(fleet: Path) -> None:
    write(fleet, {CRAFTED: "controlPlane: {endpoint: 10.0.0.12}\nbogus: 1\n"})
    result = fleetgen(fleet, "validate", "--format", "github")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stdout.splitlines() if "bogus" in line]
    assert len(lines) == 1, result.stdout
    line = lines[0]
    assert line.startswith("::error file=clusters/dev/x%2Cfile=README.md%2Cline=1%3A%3Ay.yaml,"
                           "line=2,col=1,title=unknown-key::"), line
    properties = line.split("::")[1]  # only the command's own separators remain
    assert properties.count(",") == 3 and "README.md," not in properties
