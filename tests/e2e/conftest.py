from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests save their screenshots (CI keeps the folder)."""
    path = Path(os.environ.get("E2E_ARTIFACTS") or PROJECT_ROOT / "artifacts" / "e2e")
    path.mkdir(parents=True, exist_ok=True)
    return path
