"""Make sure PostgreSQL and Redis answer before the tests run.

Reads DATABASE_URL and REDIS_URL (the test defaults otherwise). When one does not answer and
it is a server installed on this machine, start it with the command the machine uses at boot,
then wait for it. Creates the database named in DATABASE_URL if it is missing. Exits non-zero,
saying why, when a service stays down.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/community")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
LOCAL = {"127.0.0.1", "localhost", "::1"}


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def start_postgres(port: int) -> None:
    etc = Path("/etc/postgresql")
    versions = sorted(p.name for p in etc.iterdir()) if etc.is_dir() else []
    if versions and shutil.which("pg_ctlcluster"):
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
        subprocess.run(command, check=False)  # noqa: S603


def start_redis(port: int) -> None:
    if shutil.which("redis-server"):
        command = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1"]
        command += ["--port", str(port), "--save", "", "--appendonly", "no"]
        subprocess.run(command, check=False)  # noqa: S603


def ensure(name: str, url: str, default_port: int, start: Callable[[int], None]) -> bool:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    if answers(host, port):
        return True
    if host in LOCAL:
        print(f"{name} is not answering on {host}:{port}; starting the local server.")
        start(port)
        for _ in range(40):
            if answers(host, port):
                return True
            time.sleep(0.5)
    print(f"{name} is not reachable at {host}:{port} ({url}).", file=sys.stderr)
    return False


def ensure_database(url: str) -> bool:
    import psycopg2
    from psycopg2 import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    params = {
        "host": parsed.hostname,
        "port": parsed.port or 5432,
        "user": parsed.username,
        "password": parsed.password,
    }
    for _ in range(20):  # a server just started may still be recovering
        try:
            connection = psycopg2.connect(dbname="postgres", **params)
            break
        except psycopg2.OperationalError as exc:
            error = exc
            time.sleep(0.5)
    else:
        print(f"Cannot connect to PostgreSQL as {url}: {error}", file=sys.stderr)
        return False
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name}.")
    connection.close()
    return True


if __name__ == "__main__":
    ok = ensure("PostgreSQL", DATABASE_URL, 5432, start_postgres)
    ok = ok and ensure_database(DATABASE_URL)
    ok = ensure("Redis", REDIS_URL, 6379, start_redis) and ok
    sys.exit(0 if ok else 1)
