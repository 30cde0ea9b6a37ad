from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import pytest

from tests import worlds

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests save their screenshots (CI keeps the folder)."""
    path = Path(os.environ.get("E2E_ARTIFACTS") or PROJECT_ROOT / "artifacts" / "e2e")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def midweek(time_machine: Any) -> datetime.datetime:
    """Move the clock (it keeps ticking) to Wednesday 12:00 (Asia/Shanghai, the communities'
    default zone) of the current week, so that a journey never runs across a week's end:
    weeks, shifts and the ballot stay where the test built them."""
    moment = worlds.midweek()
    time_machine.move_to(moment, tick=True)
    return moment
