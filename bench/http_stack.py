"""The whole stack over HTTP: gunicorn, Django, PostgreSQL and Redis, measured with wrk.

    make bench-http
    DATABASE_URL=postgres://… .venv/bin/python bench/http_stack.py --duration 3 --only question

What a request costs from the socket to the last byte, as production serves it: gunicorn
(``community.wsgi:application``, sync workers, as the Dockerfile runs it, access log
included) with production settings — DEBUG off, WhiteNoise, the security middleware with its
HTTPS redirect, secure cookies and HSTS, sessions in PostgreSQL, the cache in Redis,
``DATABASE_CONN_MAX_AGE`` at the settings' default. wrk speaks plain HTTP to 127.0.0.1 the
way a TLS proxy in front of gunicorn does: every request says ``X-Forwarded-Proto: https``
and ``X-Forwarded-For`` (``TRUSTED_PROXY_COUNT=1``, as docker-compose.yml sets it).

Data, in a database of its own (``<name>_bench_http``, next to the one DATABASE_URL names),
built once and reused (rebuilt with ``--rebuild``, or when the week it was built in is over,
so "this week" always has the demo's questions): migrations, ``manage.py demo``, and a
community *http-bench* of 250 members plus the demo member, with this week's question of
200 answers, 2,000 comments (ten an answer, every second one a reply) and 1,000 ratings.

Each run flushes the servers' Redis database (10, or REDIS_URL if set), starts gunicorn on a
free port of 127.0.0.1 and waits for ``/healthz``, and starts the *framework floor*
(``bench/floor/``: Django with SecurityMiddleware and CommonMiddleware and one view answering
``ok``, no database) by the same command line. Then for every row of ROWS: one request with
urllib with the row's headers (the demo member's session cookie or none, Accept-Language);
if it answers 200, ``wrk --latency`` for the duration with the same headers, else the row
shows the status and is skipped. So caches start cold and are warm when wrk starts. The
floor is always measured, first: the last column is a row's requests per second as a share
of the floor's.

Prints requests per second, p50 and p99 latency, and what wrk counted that was not a 2xx/3xx
answer or was a socket error. Both servers are stopped at the end, also on error or Ctrl-C.
The machine is shared with whatever else runs: compare runs, not absolute figures.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import quote, urlparse, urlunparse

if TYPE_CHECKING:
    from questions.models import Question

ROOT = Path(__file__).resolve().parent.parent

ZH = "zh-CN,zh;q=0.9,en;q=0.8"  # the demo communities are Chinese-first
EN = "en-US,en;q=0.9"


@dataclass(frozen=True)
class Row:
    """A page to measure. ``path`` and ``label`` may name the data: {main} (the demo's main
    community), {big} (the big question's community), {question} (the big question's id),
    {profile} (a membership id in {main}), {word} (a directory search word)."""

    label: str
    path: str
    member: bool = True  # signed in as the demo member, or anonymous
    language: str = ZH  # Accept-Language
    server: str = "app"  # or "floor"


ROWS = [
    Row("framework floor (bench/floor)", "/", member=False, language=EN, server="floor"),
    Row("/healthz", "/healthz", member=False, language=EN),
    Row("community landing (anonymous)", "/c/{main}/", member=False),
    Row("a member's home in the community", "/c/{main}/"),
    Row("questions list", "/c/{main}/questions/"),
    Row("this week", "/c/{main}/week/"),
    Row("directory", "/c/{main}/members/"),
    Row("directory search “{word}”", "/c/{main}/members/?q={word}"),
    Row("profile page", "/c/{main}/members/{profile}/"),
    Row("question, 200 answers + 2,000 comments", "/c/{big}/questions/{question}/"),
    Row("API questions list", "/api/v1/communities/{main}/questions/", language=EN),
    Row("API directory", "/api/v1/communities/{main}/members/", language=EN),
    Row("API question (200 answers)", "/api/v1/questions/{question}/", language=EN),
    Row("API question's answers", "/api/v1/questions/{question}/answers/", language=EN),
]

SEARCH_WORD = "Singapore"  # the city of a third of the demo's English-speaking members
BIG_SLUG = "http-bench"
BIG_TITLE = "[http] 新用户留存怎么做？200 个回答 · Keeping new users: 200 answers"
BIG_MEMBERS = 250
DEMO_ORGANISER = "organiser@demo.example"
DEMO_MEMBER = "member@demo.example"
DEMO_PROFILE = "alicec@demo.example"  # whose profile page is measured
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"
READY_TIMEOUT = 60.0  # seconds for gunicorn to answer its readiness check


def seconds(value: str) -> int:
    """``10`` or ``10s``."""
    match = re.fullmatch(r"(\d+)s?", value)
    if not match or int(match[1]) < 1:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}")
    return int(match[1])


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--duration", type=seconds, default=10, help="seconds a row (10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=30,
        help="wrk's request timeout in seconds (30; with wrk's own 2 s, the queued requests "
        "of a slow page would be dropped from its latencies as timeouts)",
    )
    parser.add_argument(
        "--only", metavar="TEXT", help="rows whose label or path contains TEXT (and the floor)"
    )
    parser.add_argument("--rebuild", action="store_true", help="build the data again")
    args = parser.parse_args()
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections")
    return args


# --- Set-up ---------------------------------------------------------------------------------------


def bench_database_url() -> str:
    """DATABASE_URL with ``_bench_http`` after the database's name (as bench/common.py adds
    ``_bench``: another benchmark's database is left alone)."""
    url = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/community"))
    if not url.scheme.startswith("postgres"):
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    return urlunparse(url._replace(path=url.path.rstrip("/") + "_bench_http"))


def ensure_wrk() -> str:
    """Debian's wrk, installed the way the Makefile installs Chromium if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing Debian's (apt-get install wrk)…", flush=True)
    command = "command -v wrk || (apt-get update -qq && apt-get install -y -qq wrk)"
    result = subprocess.run(["/bin/sh", "-c", command], check=False)  # noqa: S603
    found = shutil.which("wrk")
    if result.returncode != 0 or not found:
        sys.exit("Could not install wrk. Install it (Debian, as root: apt-get install wrk).")
    return found


def set_up(database_url: str, redis_url: str) -> None:
    """PostgreSQL and Redis up (the database created if missing), then Django in this
    process, which builds the data and signs the member in. It shares the servers' database
    and secret key (a session's auth hash is signed with it) but runs tasks in-process with
    the cache in memory: loading the demo queues nothing on a broker nobody reads and leaves
    the servers' Redis alone."""
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="community.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-http-" + secrets.token_urlsafe(40),  # throw-away, per run
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        # Served without collectstatic (as in the tests and bench/common.py).
        DJANGO_STATIC_MANIFEST="false",
        REDIS_URL="",
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "scripts" / "ensure_services.py")],
        check=True,
        env=dict(os.environ, REDIS_URL=redis_url),
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def server_environment(settings_module: str, redis_url: str) -> dict[str, str]:
    """This process's settings (database, secret key, DEBUG off, hosts), as production
    runs: tasks to the broker, the cache in Redis, one trusted proxy in front
    (docker-compose.yml), database connections kept as long as the settings' default."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings_module, REDIS_URL=redis_url)
    env["TRUSTED_PROXY_COUNT"] = "1"
    env.pop("CELERY_TASK_ALWAYS_EAGER")
    env.pop("DATABASE_CONN_MAX_AGE", None)
    # WhiteNoise warns that collectstatic has not run (bench/common.py hushes it too).
    env["PYTHONWARNINGS"] = "ignore:No directory at:UserWarning"
    return env


# --- Data -----------------------------------------------------------------------------------------

ZH_SENTENCES = [
    "我们先做了十个用户访谈，发现新用户在第三天流失最多。",
    "关键不是推送次数，而是第一次打开时能不能马上完成一件有价值的事。",
    "建议把新手引导拆成三步，每一步都有明确的完成反馈。",
    "数据上看，完成首个任务的用户七日留存高出一倍。",
    "不要一上来就要求填写完整资料，先让用户体验核心功能。",
    "我们做过一次实验：去掉引导页以后，激活率反而提高了百分之八。",
    "**复盘的时候要分渠道看**，不同渠道来的用户需求差别很大。",
    "可以给新用户配一个老用户做伙伴，社群里的效果很明显。",
    "埋点要提前设计好，否则上线后很难判断是哪一步出了问题。",
    "留存是结果，真正要改的是用户第一周的体验路径。",
    "我们用看板每天跟踪新用户的漏斗，周会上只讨论掉得最多的一步。",
    "短信召回的效果一般，个性化的内容推荐更有用。",
]
EN_SENTENCES = [
    "We interviewed ten new users and most of them left on the third day.",
    "The number of push messages matters less than the first session.",
    "Split onboarding into three steps, each with clear feedback when it is done.",
    "Users who finish their first task retain twice as well after a week.",
    "**Measure each channel separately**: people from different channels want different things.",
    "Pair every new member with an experienced one for the first two weeks.",
    "Design the tracking before the launch, or you will not know which step fails.",
    "Retention is the outcome; the first week's path is what you actually change.",
]


def answer_text(rng: random.Random) -> str:
    """A Markdown answer of 8 to 30 sentences: paragraphs, sometimes a list or a heading."""
    english = rng.random() < 0.3
    pool = EN_SENTENCES if english else ZH_SENTENCES
    sentences = [rng.choice(pool) for _ in range(rng.randint(8, 30))]
    paragraphs, i = [], 0
    while i < len(sentences):
        chunk = sentences[i : i + rng.randint(1, 4)]
        i += len(chunk)
        style = rng.random()
        if style < 0.1:
            paragraphs.append("\n".join(f"- {s}" for s in chunk))
        elif style < 0.15:
            paragraphs.append("## " + chunk[0].strip("*。.") + "\n\n" + " ".join(chunk[1:]))
        else:
            paragraphs.append((" " if english else "").join(chunk))
    return "\n\n".join(p for p in paragraphs if p.strip())


def big_question() -> Question | None:
    """The question of 200 answers, if it was built in the current week."""
    from members import weeks
    from questions.models import Question

    question = (
        Question.objects.select_related("community", "session")
        .filter(community__slug=BIG_SLUG, title=BIG_TITLE)
        .first()
    )
    if question is None or question.session is None:
        return None
    if question.session.week != weeks.start_of(question.community):
        return None
    return question


def database_recreate() -> None:
    """DROP and CREATE this process's database (ending the sessions connected to it)."""
    import psycopg2
    from django.db import connection
    from psycopg2 import sql

    connection.close()
    name = connection.settings_dict["NAME"]
    url = urlparse(os.environ["DATABASE_URL"])
    admin = psycopg2.connect(
        dbname="postgres",
        host=url.hostname,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            database = sql.Identifier(name)
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(database))
    finally:
        admin.close()


def build(*, rebuild: bool) -> Question:
    """The data (see the module's docstring), built unless it was built this week."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from members import services, weeks
    from members.models import Membership, Tag, User
    from questions.models import Question
    from tests.factories import bulk_members, bulk_questions

    name = connection.settings_dict["NAME"]
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    question = None if rebuild else big_question()
    if question is not None:
        print(f"Data: {name}, built earlier (--rebuild builds it again).", flush=True)
        return question
    if rebuild or Question.objects.filter(title=BIG_TITLE).exists():
        print(f"Data: building {name} again from nothing…", flush=True)
        database_recreate()
        call_command("migrate", verbosity=0)
    else:
        print(f"Data: building {name} (once)…", flush=True)
    demo = subprocess.run(  # the demo, as `make run` loads it
        [sys.executable, "manage.py", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if demo.returncode != 0:
        sys.exit(f"manage.py demo failed:\n{demo.stdout[-3000:]}{demo.stderr[-3000:]}")
    print(f"  migrations and the demo ({time.perf_counter() - started:.0f} s)", flush=True)

    rng = random.Random(200)
    bodies = [answer_text(rng) for _ in range(200)]
    with transaction.atomic():
        organiser_user = User.objects.get(email=DEMO_ORGANISER)
        community = services.community_create(
            creator=organiser_user,
            slug=BIG_SLUG,
            name="HTTP 压测 · HTTP bench",
            description="A question with 200 answers and 2,000 comments (bench/http_stack.py).",
        )
        organiser = Membership.objects.get(community=community, user=organiser_user)
        services.member_add(
            actor=organiser,
            community=community,
            email=DEMO_MEMBER,
            role=Membership.Role.MEMBER,
            profile={"handle": "http-member"},
            notify=False,
        )
        authors = bulk_members(community, BIG_MEMBERS, prefix="http")
        [question] = bulk_questions(
            community,
            authors,
            1,
            week=weeks.start_of(community),
            answers=200,
            comments=10,
            ratings=5,
            needs=list(Tag.objects.filter(community=community, kind=Tag.Kind.SKILL)[:2]),
            title=lambda i: BIG_TITLE,
            background=lambda i: "".join(ZH_SENTENCES[:4]),
            body=lambda i, j: bodies[j],
        )
    services.community_sync_phase(community_id=community.pk)  # 251 members: growth
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    found = big_question()
    assert found is not None
    return found


def names(question: Question) -> dict[str, object]:
    """What ROWS name: the demo's main community (the one with the most members), a profile
    in it, the big question and its community, the search word."""
    from django.db.models import Count, Q

    from members.models import Community, Membership

    active = Q(memberships__status=Membership.Status.ACTIVE)
    main = (
        Community.objects.exclude(pk=question.community_id)
        .annotate(members=Count("memberships", filter=active))
        .order_by("-members", "pk")
        .first()
    )
    if main is None:
        sys.exit("The demo's communities are missing: run with --rebuild.")
    profile = (
        Membership.objects.filter(community=main, user__email=DEMO_PROFILE).first()
        or Membership.objects.filter(community=main, role=Membership.Role.MEMBER).order_by("pk")[0]
    )
    return {
        "main": main.slug,
        "big": question.community.slug,
        "question": question.pk,
        "profile": profile.pk,
        "word": SEARCH_WORD,
    }


def member_cookie() -> str:
    """The Cookie header of a session of the demo member, made as Django's login makes it."""
    from django.conf import settings
    from django.test import Client

    from members.models import User

    client = Client()
    client.force_login(User.objects.get(email=DEMO_MEMBER))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


# --- Servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """urllib without following redirects (made when first used: see the top of the file)."""

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None  # a 3xx is the answer, reported as such

    return urllib.request.build_opener(NoRedirects)


def fetch(url: str, headers: dict[str, str], timeout: float = 60) -> int:
    """One GET; its status (redirects are not followed)."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http://127.0.0.1
    try:
        with _opener().open(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


class Server:
    """gunicorn serving one WSGI application on a free port of 127.0.0.1 by the Dockerfile's
    command line (sync workers, the access log to stdout: here a file)."""

    def __init__(
        self,
        name: str,
        application: str,
        env: dict[str, str],
        *,
        ready: str,
        workers: int,
        logs: Path,
    ) -> None:
        self.name, self.ready = name, ready
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = logs / f"{name}.log"
        self.log: IO[bytes] = self.log_path.open("wb")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), application, "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(workers), "--worker-class", "sync"]
        command += ["--timeout", "60", "--access-logfile", "-"]
        command += ["--no-control-socket"]  # two servers run side by side here
        self.process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches this script, which stops the server
        )

    def wait_ready(self) -> None:
        """Poll the readiness path until it answers 200, for READY_TIMEOUT at most."""
        deadline = time.monotonic() + READY_TIMEOUT
        status: object = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn ({self.name}) exited:\n{self.log_tail()}")
            try:
                status = fetch(self.base + self.ready, {"X-Forwarded-Proto": "https"}, 2)
            except OSError as error:  # not listening yet
                status = error
            if status == 200:
                return
            time.sleep(0.05)
        sys.exit(
            f"gunicorn ({self.name}) not ready in {READY_TIMEOUT:.0f} s ({status}):\n"
            f"{self.log_tail()}"
        )

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def noteworthy(self) -> list[str]:
        """What the server logged besides its access log and its own INFO lines (errors,
        warnings, tracebacks), each line once."""
        access = re.compile(r'^\S+ - \S+ \[[^]]+\] "')
        lines = self.log_path.read_text(errors="replace").splitlines()
        return list(dict.fromkeys(s for s in lines if not access.match(s) and "[INFO]" not in s))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn's graceful shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --- Measure --------------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    status: int | str
    rps: float | None = None
    p50: float | None = None
    p99: float | None = None
    notes: str = ""


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(output: str, percent: int) -> float:
    """A percentile of wrk's Latency Distribution, in milliseconds."""
    match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    if match is None:
        raise ValueError(f"no {percent}% latency in wrk's output:\n{output}")
    return float(match[1]) * UNIT_MS[match[2]]


def wrk(command: list[str], url: str, headers: dict[str, str]) -> Result:
    """``wrk --latency`` on ``url``: requests/s, p50, p99 and what was not a 2xx/3xx."""
    for name, value in headers.items():
        command = [*command, "-H", f"{name}: {value}"]
    result = subprocess.run(  # noqa: S603
        [*command, url], capture_output=True, text=True, check=False
    )
    output = result.stdout
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{output}{result.stderr}")
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if rps is None:
        raise ValueError(f"no Requests/sec in wrk's output:\n{output}")
    notes = []
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        notes.append(f"{int(match[1]):,} non-2xx/3xx")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if errors:
        kinds = zip(("connect", "read", "write", "timeout"), errors.groups(), strict=True)
        notes += [f"{int(n):,} {kind} errors" for kind, n in kinds if int(n)]
    return Result("", 200, float(rps[1]), _ms(output, 50), _ms(output, 99), ", ".join(notes))


def measure(
    row: Row, base: str, wrk_command: list[str], cookie: str, data: dict[str, object]
) -> Result:
    """The row's check request, then wrk if it answered 200."""
    label = row.label.format(**data)
    path = row.path.format(**{k: quote(str(v)) for k, v in data.items()})
    headers = {
        "X-Forwarded-Proto": "https",  # what a TLS proxy in front says
        "X-Forwarded-For": "203.0.113.10",
        "Accept-Language": row.language,
    }
    if row.member:
        headers["Cookie"] = cookie
    try:
        status = fetch(base + path, headers)
    except OSError as error:
        return Result(label, f"error: {error}")
    if status != 200:
        return Result(label, status, notes=f"GET {path}")
    result = wrk(wrk_command, base + path, headers)
    result.label = label
    return result


def print_table(results: list[Result], floor: float | None) -> None:
    width = max(len(r.label) for r in results)
    print(f"{'page':<{width}}  status     req/s       p50        p99  of floor")
    print("-" * (width + 49))
    for r in results:
        if r.rps is None or r.p50 is None or r.p99 is None:
            print(f"{r.label:<{width}}  {r.status!s:>6}{'':>41}  {r.notes}".rstrip())
            continue
        share = f"{r.rps / floor:8.1%}" if floor else f"{'':>8}"
        print(
            f"{r.label:<{width}}  {r.status!s:>6}  {r.rps:8,.1f}  {r.p50:6.1f} ms"
            f"  {r.p99:6.1f} ms  {share}  {r.notes}".rstrip()
        )


def describe(
    args: argparse.Namespace, question: Question, data: dict[str, object], redis_url: str
) -> str:
    """The header: the machine, the commit, the servers, wrk, the data."""
    from django.db import connection

    from questions.models import Comment

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    commit = subprocess.run(  # read-only
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    comments = Comment.objects.filter(answer__question=question).count()
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    pg = connection.pg_version
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), load average {load}; "
        f"commit {commit or '?'}\n"
        f"gunicorn: {args.workers} sync workers; wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s --timeout {args.timeout}s --latency; "
        f"PostgreSQL {pg // 10000}.{pg % 10000}; Redis {redis_url}\n"
        f"data: /c/{data['main']}/ for lists and the directory; "
        f"/c/{data['big']}/questions/{data['question']}/ has "
        f"{question.answers.count()} answers, {comments:,} comments"
    )


def main() -> None:
    args = arguments()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill stops the servers too
    wrk_path = ensure_wrk()  # before the data: a machine without it fails at once
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    set_up(bench_database_url(), redis_url)
    question = build(rebuild=args.rebuild)
    data = names(question)
    cookie = member_cookie()
    top = describe(args, question, data, redis_url)
    from django.db import connection

    connection.close()

    rows = [
        row
        for row in ROWS
        if row.server == "floor"
        or not args.only
        or args.only.lower() in f"{row.label.format(**data)} {row.path.format(**data)}".lower()
    ]
    wrk_command = [wrk_path, f"-t{args.threads}", f"-c{args.connections}"]
    wrk_command += [f"-d{args.duration}s", "--timeout", f"{args.timeout}s", "--latency"]
    import redis

    print(f"Flushing the servers' Redis database ({redis_url}).", flush=True)
    redis.Redis.from_url(redis_url).flushdb()
    results: list[Result] = []
    floor: float | None = None
    servers: dict[str, Server] = {}
    with tempfile.TemporaryDirectory(prefix="bench-http-") as logs:
        try:
            for name, application, settings_module, ready in (
                ("app", "community.wsgi:application", "community.settings", "/healthz"),
                ("floor", "bench.floor.wsgi:application", "bench.floor.settings", "/"),
            ):
                servers[name] = Server(
                    name,
                    application,
                    server_environment(settings_module, redis_url),
                    ready=ready,
                    workers=args.workers,
                    logs=Path(logs),
                )
            for server in servers.values():
                server.wait_ready()
            print(
                f"gunicorn on {servers['app'].base}, the floor on {servers['floor'].base}: "
                f"{len(rows)} rows of {args.duration} s…",
                flush=True,
            )
            for row in rows:
                result = measure(row, servers[row.server].base, wrk_command, cookie, data)
                results.append(result)
                if row.server == "floor":
                    floor = result.rps
                rps = f"{result.rps:,.1f} req/s" if result.rps is not None else "skipped"
                print(f"  {result.label}: {result.status}, {rps}", flush=True)
        finally:
            for server in servers.values():
                server.stop()
            logged = {name: server.noteworthy() for name, server in servers.items()}
    print(f"\n{top}\n")
    print_table(results, floor)
    for name, lines in logged.items():
        if lines:
            print(f"\nThe {name} server logged ({len(lines)} distinct lines, the first 10):")
            print("\n".join(f"  {line}" for line in lines[:10]))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\nInterrupted (the servers are stopped).", file=sys.stderr)
        sys.exit(130)
