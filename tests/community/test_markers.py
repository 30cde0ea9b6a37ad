"""The browser step of `make test` collects tests/e2e only, and the other step leaves out tests
marked e2e: a browser test anywhere else would run in neither. Every e2e mark is in
tests/e2e, and every test module there carries it."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_browser_tests_live_in_tests_e2e_and_are_marked() -> None:
    outside = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if TESTS / "e2e" not in path.parents
        and "mark.e2e" in path.read_text(encoding="utf-8")
        and path != Path(__file__).resolve()
    ]
    assert outside == []
    unmarked = [
        path.name
        for path in (TESTS / "e2e").glob("test_*.py")
        if "pytest.mark.e2e" not in path.read_text(encoding="utf-8")
    ]
    assert unmarked == []
    assert len(list((TESTS / "e2e").glob("test_*.py"))) >= 7
