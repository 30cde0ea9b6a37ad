"""Production settings that matter for speed: PostgreSQL connections are kept and reused, and
checked before reuse; the embedded SQLite default opens one per request. Sessions stay in
PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import django, json; django.setup(); from django.conf import settings; "
    "d = settings.DATABASES['default']; "
    "print(json.dumps([d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], "
    "d['DISABLE_SERVER_SIDE_CURSORS']]))"
)


def _database_settings(**env: str) -> list[object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE")}
    clean.update(DJANGO_SETTINGS_MODULE="community.settings", DJANGO_DEBUG="true", **env)
    out = subprocess.run(  # noqa: S603 - our own interpreter and a fixed program
        [sys.executable, "-c", PRINT], cwd=ROOT, env=clean, capture_output=True, check=True
    )
    found: list[object] = json.loads(out.stdout)
    return found


def test_postgresql_connections_are_kept_a_minute_and_checked() -> None:
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 60
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    assert connection.vendor == "postgresql"


def test_the_embedded_default_and_the_overrides() -> None:
    assert _database_settings() == [0, True, False]  # SQLite: one connection per request
    postgres = "postgres://postgres@127.0.0.1:5432/x"
    assert _database_settings(DATABASE_URL=postgres) == [60, True, False]
    assert _database_settings(DATABASE_URL=postgres, DATABASE_CONN_MAX_AGE="0") == [0, True, False]
    pooled = _database_settings(DATABASE_URL=postgres, DATABASE_TRANSACTION_POOLING="true")
    assert pooled == [60, True, True]


def test_sessions_are_kept_in_the_database_with_redis_and_without() -> None:
    """Not cached_db: a sign-out while Redis is down would not reach Redis (the cache answers
    from memory then), and the session would come back with Redis."""
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    clean.update(DJANGO_SETTINGS_MODULE="community.settings", DJANGO_DEBUG="true")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.SESSION_ENGINE)",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        check=True,
    )
    assert out.stdout.decode().strip() == "django.contrib.sessions.backends.db"


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE", "DJANGO_", "REDIS")) and k != "SITE_URL"
    }
    clean.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_manage_py_works_on_the_embedded_default_as_make_run_does() -> None:
    """Without DATABASE_URL (SQLite next to manage.py) nothing needs setting: debug mode and
    a development key, so `python manage.py close_week …` works after `make run`."""
    done = _manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)")
    assert (done.returncode, done.stdout.strip().splitlines()[-1]) == (0, "True"), done.stderr


def test_with_a_database_url_debug_is_off_and_the_secret_key_required() -> None:
    url = "postgres://postgres@127.0.0.1:5432/unused"
    done = _manage("check", DATABASE_URL=url)
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY" in done.stderr
    done = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        DATABASE_URL=url,
        DJANGO_SECRET_KEY="k" * 50,
    )
    assert (done.returncode, done.stdout.strip().splitlines()[-1]) == (0, "False"), done.stderr
