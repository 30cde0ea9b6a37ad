"""The apps import one way (CONVENTIONS.md): members ← questions ← rewards ← rotation ←
community. An app may import from the apps on its left, never from its right — at the top of
a module or inside a function alike. Read from the source, so it cannot drift."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORDER = ("members", "questions", "rewards", "rotation", "community")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violations(app: str, root: Path = ROOT) -> list[str]:
    allowed = set(ORDER[: ORDER.index(app) + 1])
    wrong = []
    for path in sorted((root / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top in ORDER and top not in allowed:
                wrong.append(f"{path.relative_to(root)}:{line} imports {module}")
    return wrong


@pytest.mark.parametrize("app", ORDER)
def test_an_app_imports_only_from_the_apps_on_its_left(app: str) -> None:
    assert _violations(app) == []


def test_the_check_sees_a_wrong_way_import_even_inside_a_function(tmp_path: Path) -> None:
    app = tmp_path / "questions"
    (app / "digests").mkdir(parents=True)
    (app / "ok.py").write_text("from members import privacy\nimport questions.models\n")
    (app / "digests" / "bad.py").write_text(
        "import json\n\ndef f():\n    from rotation.models import Shift\n"
    )
    assert _violations("questions", tmp_path) == [
        "questions/digests/bad.py:4 imports rotation.models"
    ]
