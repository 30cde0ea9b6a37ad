"""What the PostgreSQL benchmarks share: a database of their own (``<name>_bench``, next to
the one DATABASE_URL names), production-like settings, the services up, Django set up — all
on import, before the script imports any model — and the timing helpers that print p50/p95.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from django.test import Client


def bench_database_url() -> str:
    url = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/community"))
    if not url.scheme.startswith("postgres"):
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    return urlunparse(url._replace(path=url.path.rstrip("/") + "_bench"))


os.environ["DATABASE_URL"] = bench_database_url()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")
# Production-like: DEBUG off (its query log costs time); a throw-away key for this process.
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)
# Pages are rendered without collectstatic (as in the tests): plain static file URLs.
os.environ.setdefault("DJANGO_STATIC_MANIFEST", "false")
sys.argv = [sys.argv[0]]

subprocess.run(  # noqa: S603
    [sys.executable, str(ROOT / "scripts" / "ensure_services.py")], check=True, env=dict(os.environ)
)

import django

django.setup()
# WhiteNoise warns that collectstatic has not run; the pages' static URLs do not need it.
warnings.filterwarnings("ignore", "No directory at", UserWarning)


def timed(label: str, rounds: int, call: Callable[[], str], *, width: int = 52) -> None:
    """Warm up, then time ``rounds`` calls; print the call's note and p50/p95 in ms."""
    for _ in range(max(3, rounds // 10)):
        call()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        note = call()
        times.append((time.perf_counter() - started) * 1000)
    q = statistics.quantiles(times, n=100)
    print(f"{label:<{width}} {note:>12}  p50 {q[49]:7.2f} ms  p95 {q[94]:7.2f} ms", flush=True)


def get(client: Client, url: str, expect: str = "") -> Callable[[], str]:
    """A timed page request: it must answer 200 and contain ``expect``; notes its size."""

    def call() -> str:
        response = client.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert expect.encode() in body, (url, expect)
        return f"{len(body) // 1024:,} KB"

    return call


# --- Databases of a benchmark's own (on the server DATABASE_URL names) -------------------------


def _admin(statement: object, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Run one statement on the server's ``postgres`` database, in autocommit (CREATE and DROP
    DATABASE cannot run in a transaction, nor from a connection to the database concerned)."""
    import psycopg2

    url = urlparse(os.environ["DATABASE_URL"])
    connection = psycopg2.connect(
        dbname="postgres",
        host=url.hostname,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def database_url(name: str) -> str:
    """DATABASE_URL with the database ``name`` (same server and user)."""
    return urlunparse(urlparse(os.environ["DATABASE_URL"])._replace(path="/" + name))


def database_exists(name: str) -> bool:
    return bool(_admin("SELECT 1 FROM pg_database WHERE datname = %s", (name,)))


def database_create(name: str, *, template: str | None = None) -> None:
    """CREATE DATABASE ``name``, empty or a copy of ``template`` (nobody may be connected to
    ``template`` meanwhile: point Django's connection elsewhere first)."""
    from psycopg2 import sql

    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    _admin(statement)


def database_drop(name: str) -> None:
    """DROP DATABASE ``name`` if it exists, ending the sessions still connected to it."""
    from psycopg2 import sql

    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_rename(name: str, to: str) -> None:
    from psycopg2 import sql

    _admin(
        sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(name), sql.Identifier(to))
    )


def database_use(name: str) -> None:
    """Point this process's Django connection at the database ``name`` (it reconnects on its
    next query)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def percentiles(values: list[float]) -> tuple[float, float]:
    """(p50, p95) of ``values`` (two or more)."""
    q = statistics.quantiles(values, n=100)
    return q[49], q[94]


# --- CPU time (Linux /proc), so that figures taken on a shared machine can be compared ------

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (None: it has exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of every core since boot."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICK, sum(ticks) / TICK


def process_tree(root: int) -> list[int]:
    """``root`` and its children (a worker and its pool's processes)."""
    children = [
        int(stat.parent.name) for stat in Path("/proc").glob("[0-9]*/stat") if _parent(stat) == root
    ]
    return [root, *children]


def _parent(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
