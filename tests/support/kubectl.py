"""Find the real kubectl (for `kubectl kustomize`), preferring the pinned one in .tools/bin."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PINNED = REPO / ".tools" / "bin" / "kubectl"


def kubectl() -> str:
    """Path of kubectl; skips the test without one, or fails it in CI (FLEETGEN_REQUIRE_KUBECTL)."""
    found = str(PINNED) if os.access(PINNED, os.X_OK) else shutil.which("kubectl")
    if found:
        return found
    reason = "kubectl not found: run scripts/install-kubectl (kubectl v1.35 / kustomize v5.7)"
    if os.environ.get("FLEETGEN_REQUIRE_KUBECTL"):
        pytest.fail(reason)
    pytest.skip(reason)
