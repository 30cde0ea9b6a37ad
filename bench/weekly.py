"""The weekly close of 1,000 communities through the Celery tasks, on PostgreSQL and Redis.

    make bench-weekly                      # 1,000 communities, two workers of one process
    DATABASE_URL=postgres://… .venv/bin/python bench/weekly.py --communities 100
    … bench/weekly.py --workers 1 --concurrency 2     # one worker of two processes instead
    … bench/weekly.py --profile 20         # no Celery: 20 closes in this process, query counts

Builds (once) a template database (``<name>_bench_weekly_template_<N>``, next to the one
DATABASE_URL names) of N communities, each of 500 members who paid the entrance fee four
weeks before the week to close (so every community has a real reward budget: the fee's 52
weekly shares), created in the last week that has ended (Asia/Shanghai), with that week's
session of 10 published questions of 50 answers each (each member writes one) and a ballot
of 1,500 votes (each member votes 3 times, never for their own answer; a few answers are
much more popular than the rest). The build uses the bulk factories of tests/factories.py,
two processes at once, into ``…_building``, renamed when complete. It is rebuilt with
``--rebuild``, or when the week it was built for is no longer the last ended one (its
communities would then close two weeks, not one).

Each run copies the template (``CREATE DATABASE … TEMPLATE``) into ``<name>_bench_weekly``,
so every run closes the same open weeks; starts the Celery workers on it (Redis database 8,
or BENCH_REDIS_URL; the queue purged first), calls ``community.weekly.weeks_dispatch`` as
beat would, and polls the pipelines until every community's week is closed. Prints the
dispatch time, the wall time from the dispatch to the last close, closes per second, and
p50/p95/max of the closes (``WeekPipeline.started_at`` → ``finished_at``); the CPU time a
close costs (the workers' processes, PostgreSQL's backends) and how busy the machine was
meanwhile, so that runs on a shared machine can be compared; then checks that every
pipeline is done, each community's prizes were posted once, and the ledger of a sample of
communities balances. The workers are stopped at the end, also on error. The e-mails the
closes queue (``send_notification_email``, six a community) wait behind the closes and are
purged, unsent, at the end; their count is printed. The run's database is dropped at the
end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--communities", type=int, default=1000, help="default 1000")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers (default 2)")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="processes per worker (default 1)"
    )
    parser.add_argument("--rebuild", action="store_true", help="build the template again")
    parser.add_argument("--timeout", type=float, default=600, help="seconds (default 600)")
    parser.add_argument("--keep", action="store_true", help="keep the run's database")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="K",
        help="no Celery: close K communities in this process, counting queries per step",
    )
    return parser.parse_args()


ARGS = arguments()  # before bench.common, which clears sys.argv

MEMBERS = 500
QUESTIONS = 10
ANSWERS = 50  # per question: each member writes one answer
VOTES_EACH = 3  # every member votes 3 times: 1,500 votes a community
BUILD_JOBS = 2
SAMPLE = 20  # communities whose whole ledger is summed after the run
WEEK = datetime.timedelta(days=7)

os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"  # tasks go to the broker
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "community.example.com")

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.common import (
    cpu_seconds,
    database_create,
    database_drop,
    database_exists,
    database_rename,
    database_url,
    database_use,
    machine_seconds,
    percentiles,
    process_tree,
)
from community import weekly
from community.celery import app
from community.models import WeekPipeline, WeekPipelineStep
from members import services, weeks
from members.models import Community, Membership
from questions.models import Answer, Notification, Question, Rating, Vote
from rewards import ledger
from rewards.models import Payment, Prize, Transaction, WeekClose
from rotation import services as rotation_services
from rotation.models import RosterEntry
from tests.factories import UserFactory, bulk_members, bulk_payments, bulk_questions

BENCH_DB = settings.DATABASES["default"]["NAME"]  # <name>_bench (bench.common)
# (v4: with a moderator roster and ratings, so the moderator-pay step pays)
TEMPLATE = f"{BENCH_DB}_weekly_template_v4_{ARGS.communities}"
RUN = f"{BENCH_DB}_weekly"

BODIES = [
    "先做**用户访谈**，再看数据。Talk to users first, then read the numbers.",
    "把留存拆成 *第一周* 和 *第一个月* 两段看。Split retention into week one and month one.",
    "Ask the ten most active members what they came for, and build for that.",
    "推送没用的话，试试 **每周精选**。If pushes fail, try a weekly digest.",
    "Measure the *aha moment*: what did retained users do in their first session?",
    "先把新用户的第一个问题答好。Answer a newcomer's first question well, and fast.",
    "Cohorts, not averages: a chart per signup week tells you what changed.",
    "少即是多：删掉两个入口，留存反而升了。We removed two entry points; retention went up.",
]


def last_ended_week(now: datetime.datetime | None = None) -> datetime.date:
    """The last week that has ended for a community of the default rules (Asia/Shanghai,
    Monday): the week the benchmark closes."""
    return weeks.start_of(Community(), now) - WEEK


# --- Build the template ---------------------------------------------------------------------


def _ballot(
    rng: random.Random, answers: list[tuple[int, int]], voters: list[Membership]
) -> list[tuple[int, int]]:
    """(answer, voter) pairs: each voter ``VOTES_EACH`` distinct answers, never their own;
    answers drawn with weight 1/rank (a random order), so a few are far ahead."""
    order = answers[:]
    rng.shuffle(order)
    cumulative, total = [], 0.0
    for rank in range(len(order)):
        total += 1 / (rank + 1)
        cumulative.append(total)
    pairs = []
    for voter in voters:
        chosen: list[int] = []
        while len(chosen) < VOTES_EACH:
            for answer, author in rng.choices(order, cum_weights=cumulative, k=2 * VOTES_EACH):
                if author != voter.pk and answer not in chosen and len(chosen) < VOTES_EACH:
                    chosen.append(answer)
        pairs += [(answer, voter.pk) for answer in chosen]
    return pairs


def build_community(i: int, week: datetime.date) -> None:
    """Community ``i``: its members, their entrance fees, its week of questions, answers
    and votes; in one transaction."""
    rng = random.Random(i)
    with transaction.atomic():
        organiser = UserFactory(username=f"weekly-organiser-{i}")
        community = services.community_create(
            creator=organiser, slug=f"weekly-{i:05d}", name=f"Weekly bench {i}"
        )
        members = bulk_members(community, MEMBERS, prefix="w")
        paid = weeks.begins_at(community, week - 4 * WEEK) + datetime.timedelta(days=2, hours=12)
        bulk_payments(
            community,
            [(m, Payment.Kind.ENTRANCE, community.entrance_fee, paid) for m in members],
        )
        # Monthly fees whose month covers the week: the operations fund pays the moderator.
        monthly = weeks.begins_at(community, week) - datetime.timedelta(days=10)
        bulk_payments(
            community,
            [(m, Payment.Kind.MONTHLY, community.monthly_fee, monthly) for m in members],
        )
        # One call per question so that its 50 answerers are the next 50 members: each
        # member writes one answer, and asks nothing they answer.
        for q in range(QUESTIONS):
            bulk_questions(
                community,
                members,
                1,
                week=week,
                answers=ANSWERS,
                start=q * ANSWERS,
                body=lambda i, j: BODIES[(i + j) % len(BODIES)],
            )
        answers = list(
            Answer.objects.filter(question__community=community).values_list("pk", "author_id")
        )
        Vote.objects.bulk_create(
            [
                Vote(community=community, week=week, answer_id=answer, voter_id=voter)
                for answer, voter in _ballot(rng, answers, members)
            ],
            batch_size=5000,
        )
        # A roster of five who signed up before the week, and a rating of every answer by
        # the next member, so the moderator-pay step computes KPIs and pays.
        RosterEntry.objects.bulk_create(
            RosterEntry(
                community=community,
                membership=m,
                signed_up_at=weeks.begins_at(community, week - 2 * WEEK)
                + n * datetime.timedelta(minutes=1),
            )
            for n, m in enumerate(members[:5])
        )
        # The week's shift was fixed when the week began (the rotation's beat tick).
        rotation_services.shifts_fix_through(community=community, week=week)
        by_author = {m.pk: members[(k + 1) % len(members)].pk for k, m in enumerate(members)}
        Rating.objects.bulk_create(
            [
                Rating(answer_id=answer, rater_id=by_author[author], stars=3 + answer % 3)
                for answer, author in answers
            ],
            batch_size=5000,
        )
        services.community_sync_phase(community_id=community.pk)


def _build_share(job: int, count: int, week: datetime.date, database: str) -> None:
    """A build process: communities ``job``, ``job + BUILD_JOBS``, … of ``count``."""
    database_use(database)
    mine = range(job, count, BUILD_JOBS)
    started = time.perf_counter()
    for k, i in enumerate(mine, start=1):
        build_community(i, week)
        if k % 50 == 0 or k == len(mine):
            elapsed = time.perf_counter() - started
            print(
                f"  [{job + 1}] {k:,}/{len(mine):,} communities, {elapsed:.0f} s",
                flush=True,
            )
    connection.close()


def build(template: str, count: int, week: datetime.date) -> None:
    building = f"{template}_building"
    print(
        f"Building {template}: {count:,} communities of {MEMBERS} members, their week "
        f"{weeks.label(week)} ({BUILD_JOBS} processes)…",
        flush=True,
    )
    started = time.perf_counter()
    database_drop(building)
    database_create(building)
    database_use(building)
    call_command("migrate", verbosity=0)
    connection.close()
    children = []
    for job in range(BUILD_JOBS):
        pid = os.fork()
        if pid == 0:  # the child builds its share and exits
            code = 1
            try:
                _build_share(job, count, week, building)
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
    if failed:
        sys.exit(f"A build process failed; {building} is left as it was for a look.")
    database_use(building)
    # Created in the week being closed (its first week: the first the dispatcher closes).
    Community.objects.update(
        created_at=weeks.begins_at(Community(), week) + datetime.timedelta(hours=9)
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    database_drop(template)
    database_rename(building, template)
    print(f"Built in {time.perf_counter() - started:.0f} s", flush=True)


def template_week(template: str) -> datetime.date | None:
    """The week the template's communities close, if it has any."""
    database_use(template)
    try:
        first = Community.objects.order_by("pk").first()
        return weekly.first_week(first) if first is not None else None
    finally:
        connection.close()


def ensure_template() -> datetime.date:
    week = last_ended_week()
    if ARGS.rebuild or not database_exists(TEMPLATE):
        build(TEMPLATE, ARGS.communities, week)
        return week
    built_for = template_week(TEMPLATE)
    if built_for != week:
        print(
            f"{TEMPLATE} was built for {weeks.label(built_for) if built_for else 'nothing'}; "
            f"the last ended week is {weeks.label(week)}: building it again.",
            flush=True,
        )
        build(TEMPLATE, ARGS.communities, week)
    return week


def copy_template() -> None:
    started = time.perf_counter()
    database_drop(RUN)
    database_create(RUN, template=TEMPLATE)
    database_use(RUN)
    print(f"{RUN} copied from {TEMPLATE} in {time.perf_counter() - started:.1f} s", flush=True)


# --- The Celery workers ---------------------------------------------------------------------


def worker_env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(RUN),
        "REDIS_URL": os.environ["REDIS_URL"],
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"],
        "DJANGO_ALLOWED_HOSTS": os.environ["DJANGO_ALLOWED_HOSTS"],
        "DATABASE_CONN_MAX_AGE": "60",
    }


def workers_start(logs: Path, processes: list[subprocess.Popen[bytes]]) -> list[str]:
    """Start the workers, each added to ``processes`` as it starts (so that all are stopped
    even if a later one fails to start); returns their names."""
    names = [f"weekly-bench-{k + 1}@{os.uname().nodename}" for k in range(ARGS.workers)]
    for k, name in enumerate(names):
        with (logs / f"worker-{k + 1}.log").open("wb") as log:
            processes.append(
                subprocess.Popen(  # noqa: S603
                    [
                        *(sys.executable, "-m", "celery", "-A", "community", "worker"),
                        *("--pool", "prefork", "--concurrency", str(ARGS.concurrency)),
                        *("-Q", "celery", "-n", name, "--loglevel", "INFO"),
                    ],
                    cwd=ROOT,
                    env=worker_env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: stopped with its pool
                )
            )
    return names


def workers_ready(processes: list[subprocess.Popen[bytes]], names: list[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a worker exited on start: see its log")
        replies = app.control.ping(destination=names, timeout=0.5)
        if {name for reply in replies for name in reply} >= set(names):
            return
    raise RuntimeError("the workers did not answer a ping within 60 s")


def workers_stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)  # warm shutdown: the task at hand finishes
    for p in processes:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


class CpuMeter:
    """CPU time the close costs: the workers' processes, the PostgreSQL backends serving
    this database (sampled while the run goes on, as backends may end; a backend that lives
    less than a sample's interval is missed), and this process (the dispatch and the
    polling); and how busy the whole machine was meanwhile (the rest: other people's work,
    Redis, PostgreSQL's own processes, autovacuum, connections made and ended)."""

    def __init__(self, workers: list[subprocess.Popen[bytes]]) -> None:
        pids = [pid for worker in workers for pid in process_tree(worker.pid)]
        self.workers = {pid: cpu_seconds(pid) or 0.0 for pid in pids}
        self.me = cpu_seconds(os.getpid()) or 0.0
        self.backends: dict[int, tuple[float, float]] = {}  # pid: (at start, last seen)
        self.sample(start=True)
        self.machine = machine_seconds()
        self.sessions = self._sessions()

    @staticmethod
    def _sessions() -> int:
        """Connections made to this database so far (PostgreSQL's statistics)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )
            return int(cursor.fetchone()[0])

    def sample(self, *, start: bool = False) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, pid = pg_backend_pid() FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_type = 'client backend'"
            )
            pids = cursor.fetchall()
        for pid, mine in pids:
            now = cpu_seconds(pid)
            if now is None:
                continue
            key = -pid if mine else pid  # this process's own backend, apart
            # a backend that began after the start counts from zero
            first = self.backends.get(key, (now if start or mine else 0.0, 0.0))[0]
            self.backends[key] = (first, now)

    def stop(self) -> dict[str, float]:
        self.sample()
        busy, total = machine_seconds()
        workers = sum((cpu_seconds(pid) or used) - used for pid, used in self.workers.items())
        used = {pid: last - first for pid, (first, last) in self.backends.items()}
        return {
            "workers": workers,
            "postgres": sum(seconds for pid, seconds in used.items() if pid > 0),
            "bench": (cpu_seconds(os.getpid()) or 0.0)
            - self.me
            + sum(seconds for pid, seconds in used.items() if pid < 0),
            "machine busy": busy - self.machine[0],
            "machine all": total - self.machine[1],
            "sessions": self._sessions() - self.sessions,
        }


# --- Measure --------------------------------------------------------------------------------


def describe(week: datetime.date) -> int:
    communities = Community.objects.count()
    members = Membership.objects.filter(role=Membership.Role.MEMBER).count()
    answers = Answer.objects.filter(question__session__week=week).count()
    votes = Vote.objects.filter(week=week).count()
    questions = Question.objects.filter(session__week=week).count()
    print(
        f"\n{communities:,} communities, each with {members / communities:,.0f} members "
        f"(and an organiser), {questions / communities:,.0f} questions in "
        f"{weeks.label(week)}, {answers / communities:,.0f} answers, "
        f"{votes / communities:,.0f} votes. PostgreSQL {connection.pg_version}; "
        f"{ARGS.workers} worker(s) × concurrency {ARGS.concurrency} "
        f"(prefork), on {os.cpu_count()} cores.\n",
        flush=True,
    )
    return communities


STALLED = 30  # seconds without a close finished, with closes left and none queued in Redis


def queued_in_redis() -> int:
    """Messages waiting in the workers' queue (the ``celery`` list, on Redis)."""
    with app.connection_for_write() as conn:
        return int(conn.default_channel.client.llen("celery"))


def wait_for_closes(week: datetime.date, expected: int, started: float, meter: CpuMeter) -> None:
    """Poll the pipelines until ``expected`` are done (or one failed, or the timeout, or no
    progress with the queue empty: the tasks were lost)."""
    done, progressed = 0, time.perf_counter()
    while True:
        meter.sample()
        states = Counter(
            dict(
                WeekPipeline.objects.filter(week=week)
                .values_list("state")
                .annotate(n=Count("pk"))
                .values_list("state", "n")
            )
        )
        if states[WeekPipeline.State.DONE] >= expected:
            return
        if states[WeekPipeline.State.FAILED]:
            failed = WeekPipeline.objects.filter(week=week, state=WeekPipeline.State.FAILED)
            raise RuntimeError(f"a close failed: {failed.first().error}")  # type: ignore[union-attr]
        now = time.perf_counter()
        if now - started > ARGS.timeout:
            raise RuntimeError(f"timed out after {ARGS.timeout:.0f} s: {dict(states)}")
        if states[WeekPipeline.State.DONE] > done:
            done, progressed = states[WeekPipeline.State.DONE], now
        elif now - progressed > STALLED and queued_in_redis() == 0:
            # The tests clear the cache, which is this Redis database too (FLUSHDB).
            raise RuntimeError(
                f"no close for {STALLED} s and no task left in the queue: {dict(states)}. "
                f"Was {os.environ['REDIS_URL']} flushed meanwhile (a test run with this "
                "REDIS_URL clears it)? Run again, or set BENCH_REDIS_URL to another database."
            )
        time.sleep(0.1)


def report(
    week: datetime.date, started_at: datetime.datetime, dispatch: float, cpu: dict[str, float]
) -> None:
    rows = list(WeekPipeline.objects.filter(week=week).values_list("started_at", "finished_at"))
    durations = [(done - began).total_seconds() * 1000 for began, done in rows]
    first = min(began for began, _done in rows)
    last = max(done for _began, done in rows)
    wall = (last - started_at).total_seconds()
    p50, p95 = percentiles(durations)
    processes = ARGS.workers * ARGS.concurrency
    print(
        f"{'dispatch (weeks_dispatch, ' + str(len(rows)) + ' tasks queued)':<44} {dispatch:8.2f} s"
    )
    print(f"{'wall time, dispatch → last close':<44} {wall:8.2f} s")
    print(f"{'closes per second':<44} {len(rows) / wall:8.1f}")
    print(
        f"{'a close (started_at → finished_at)':<44} p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  "
        f"max {max(durations):6.0f} ms"
    )
    print(
        f"{'first close began after the dispatch began':<44} "
        f"{(first - started_at).total_seconds() * 1000:8.0f} ms"
    )
    print(
        f"{'workers busy inside week_close':<44} "
        f"{sum(durations) / 1000 / (wall * processes):8.0%} of {processes} processes × wall"
    )
    n, everything = len(rows), cpu["machine all"]
    mine = cpu["workers"] + cpu["postgres"] + cpu["bench"]
    print(
        f"{'CPU a close: workers + PostgreSQL backends':<44} {cpu['workers'] / n * 1000:5.0f} + "
        f"{cpu['postgres'] / n * 1000:.0f} = {(cpu['workers'] + cpu['postgres']) / n * 1000:.0f} ms"
        f"  (+ dispatch and polling: {cpu['bench']:.1f} s in all)"
    )
    note = ""
    if cpu["sessions"] >= n:  # backends living less than the 0.1 s between samples
        note = "  (about one a task: CPU of short-lived backends is partly missed above)"
    print(f"{'connections made to the database meanwhile':<44} {cpu['sessions']:8,.0f}{note}")
    print(
        f"{'the machine meanwhile (' + str(os.cpu_count()) + ' cores)':<44} "
        f"{cpu['machine busy'] / everything:8.0%} busy: this benchmark {mine / everything:.0%}, "
        f"the rest {(cpu['machine busy'] - mine) / everything:.0%}"
    )


def check(week: datetime.date, communities: int) -> None:
    pipelines = WeekPipeline.objects.filter(week=week)
    done = pipelines.filter(state=WeekPipeline.State.DONE).count()
    steps_left = (
        WeekPipelineStep.objects.filter(pipeline__week=week)
        .exclude(state__in=[WeekPipelineStep.State.DONE, WeekPipelineStep.State.SKIPPED])
        .count()
    )
    assert done == communities == pipelines.count(), (done, communities)
    assert steps_left == 0, steps_left
    assert not WeekPipeline.objects.exclude(week=week).exists()  # no week beyond it queued
    closed = WeekClose.objects.filter(week=week, closed_at__isnull=False).count()
    assert closed == communities, closed
    posted = Counter(
        Transaction.objects.filter(
            kind=Transaction.Kind.WEEK_CLOSE, idempotency_key__endswith=":prizes"
        ).values_list("community_id", flat=True)
    )
    assert len(posted) == communities, len(posted)
    assert set(posted.values()) == {1}, posted.most_common(3)
    prizes = Prize.objects.filter(week_close__week=week)
    unposted = prizes.filter(amount__gt=0, transaction__isnull=True).count()
    assert unposted == 0, unposted
    by_transaction = dict(
        prizes.values("transaction")
        .annotate(total=Sum("amount"))
        .values_list("transaction", "total")
    )
    fund_debits = dict(
        Transaction.objects.filter(pk__in=by_transaction)
        .annotate(debit=Sum("entries__amount", filter=Q(entries__amount__gt=0)))
        .values_list("pk", "debit")
    )
    assert by_transaction == fund_debits, "a prize transaction does not match its prizes"
    sample = random.Random(0).sample(
        list(Community.objects.values_list("pk", flat=True)), min(SAMPLE, communities)
    )
    balances = {ledger.trial_balance(community=Community(pk=pk)) for pk in sample}
    assert balances == {0}, balances
    print(
        f"\nchecks: {done:,} pipelines done (every step done or skipped); "
        f"{prizes.count():,} prizes, {sum(posted.values()):,} prize transactions, one per "
        f"community, each the sum of its prizes; trial balance 0 for {len(sample)} "
        f"communities; {Notification.objects.count():,} notifications."
    )


def run(week: datetime.date) -> None:
    communities = describe(week)
    purged = app.control.purge()
    if purged:
        print(f"purged {purged} task(s) left in the queue", flush=True)
    processes: list[subprocess.Popen[bytes]] = []
    logs = Path(tempfile.mkdtemp(prefix="bench-weekly-"))
    # Stopped from outside (kill, a CI timeout): stop the workers too, as on an error.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(f"stopped (SIGTERM); worker logs: {logs}"))
    try:
        names = workers_start(logs, processes)
        workers_ready(processes, names)
        connection.close()  # start the timing from a fresh connection, as beat would
        meter = CpuMeter(processes)
        started_at = timezone.now()
        started = time.perf_counter()
        queued = weekly.weeks_dispatch()
        dispatch = time.perf_counter() - started
        assert queued == communities, (queued, communities)
        wait_for_closes(week, queued, started, meter)
        cpu = meter.stop()
    except BaseException:
        print(f"worker logs: {logs}", file=sys.stderr)
        raise
    finally:
        workers_stop(processes)
        left = app.control.purge()
    report(week, started_at, dispatch, cpu)
    print(f"{'e-mail tasks queued by the closes, purged':<44} {left:8,}")
    check(week, communities)


def profile(week: datetime.date) -> None:
    """Close ``--profile`` communities in this process: queries and time per step (its
    service), and what the pipeline's own bookkeeping adds."""
    communities = describe(week)
    per_step: dict[str, list[tuple[int, float]]] = defaultdict(list)
    slow: dict[str, list[float]] = defaultdict(list)

    def measured(step: weekly.Step) -> weekly.Step:
        service = step.service
        if service is None:
            return step

        def call(**kwargs: Any) -> object:
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                result = service(**kwargs)
                per_step[step.name].append((len(queries), time.perf_counter() - began))
            return result

        return weekly.Step(step.name, call)

    steps = weekly.STEPS
    pks = list(Community.objects.order_by("pk").values_list("pk", flat=True))[: ARGS.profile + 1]
    weekly.week_close_task_body(pks.pop(0), week.isoformat())  # warm-up: connections, caches
    weekly.STEPS = tuple(measured(step) for step in steps)
    totals = []
    for pk in pks:
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            weekly.week_close_task_body(pk, week.isoformat())
            totals.append((len(queries), time.perf_counter() - began))
        for query in queries.captured_queries:
            slow[query["sql"][:160]].append(float(query["time"]))
    weekly.STEPS = steps
    app.control.purge()  # the e-mails the closes queued
    n = len(totals)

    def line(label: str, rows: list[tuple[int, float]]) -> str:
        queries, seconds = sum(q for q, _ in rows) / n, sum(t for _, t in rows) / n
        return f"  {label:<40} {queries:6.1f} queries  {seconds * 1000:7.1f} ms"

    print(f"{n} of {communities:,} communities closed in this process (queries captured):")
    print(line("the task body (week_close_task_body)", totals))
    for name, rows in per_step.items():
        print(line(f"  step {name} (its service)", rows))
    services = [(sum(q for q, _ in rows), sum(t for _, t in rows)) for rows in per_step.values()]
    print(
        line(
            "  the pipeline's bookkeeping (the rest)",
            [
                (
                    sum(q for q, _ in totals) - sum(q for q, _ in services),
                    sum(t for _, t in totals) - sum(t for _, t in services),
                )
            ],
        )
    )
    print("\nslowest statements (total time per close; the first 150 characters):")
    for sql, times in sorted(slow.items(), key=lambda kv: -sum(kv[1]))[:12]:
        print(f"  {sum(times) / n * 1000:6.2f} ms  ×{len(times) / n:4.1f}  {sql[:150]}")


def main() -> None:
    week = ensure_template()
    copy_template()
    try:
        if ARGS.profile:
            profile(week)
        else:
            run(week)
    finally:
        connection.close()
        if not ARGS.keep:
            database_drop(RUN)


if __name__ == "__main__":
    main()
