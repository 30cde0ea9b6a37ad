"""The weekly digest e-mailed to 100,000 members, on PostgreSQL, Redis and a local SMTP sink.

    make bench-digest                           # 100,000 members, one worker of 2 processes
    DATABASE_URL=postgres://… .venv/bin/python bench/digest.py --members 5000
    … bench/digest.py --profile 2000            # no Celery: 2,000 sends in this process, profiled

Builds (once) a template database (``<name>_bench_digest_template_<v>_<N>``, next to the one
DATABASE_URL names) of one community with N active members who will receive the digest (its
organiser, 40 answer authors with profiles, and N - 41 members without; every fifth writes
in Chinese), a few who will not (opted out, reported undeliverable, without an address,
lapsed), a week of 5 questions with 8 answers each in the last week that has ended, and that
week's draft digest (``services.digest_draft``: items, winners, fund statement) with a
summary. ``--rebuild`` builds it again.

Each run copies the template into ``<name>_bench_digest`` and starts an SMTP sink on
127.0.0.1 (aiosmtpd, in a process of its own: it counts messages per recipient and discards
them); Django, here and in the worker, sends to it (EMAIL_URL). Then:

1. Publish: ``services.digest_publish`` by the organiser, then ``delivery.deliveries_queue``
   in this process (what the ``deliveries_queue`` task runs), which adds the N delivery rows
   and dispatches one ``batch_send`` task per DIGEST_BATCH_SIZE rows to the real broker
   (Redis database 13, or BENCH_REDIS_URL; the queue purged first). Timed from the publish
   until every row is queued and every batch task is in Redis. Aim: 60 s.
2. Send: one Celery worker of 2 prefork processes is started on the run's database; timed
   from the sink's first message until every row is ``sent`` (the database polled every
   0.5 s). Aim: 500 messages a second. Prints also the CPU it cost (the worker's processes,
   PostgreSQL's backends, the sink) and how busy the machine was.

Checks at the end: every eligible member has one row, none of the others has one, every row
is ``sent``, the sink received exactly one message for each of them (no duplicates, none
missing). Exits non-zero only when a check fails (not when an aim is missed). The worker and
the sink are stopped at the end, also on error; the run's database is dropped (``--keep``
keeps it).

``--profile K``: no Celery. Publishes and queues as above (the batch tasks are purged), then
sends K rows in this process with ``delivery.batch_send`` batch by batch as a worker would:
once timed, then K more under cProfile, printing where a message's time goes (rendering,
building the MIME message, the SMTP exchange, the per-row UPDATEs) and the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import multiprocessing
import os
import pstats
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=100_000, help="recipients (100,000)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--rebuild", action="store_true", help="build the template again")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to send (900)")
    parser.add_argument("--keep", action="store_true", help="keep the run's database")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="K",
        help="no Celery: send K rows in this process, then K more under cProfile",
    )
    args = parser.parse_args()
    if args.members < 100:
        parser.error("--members: at least 100")
    return args


ARGS = arguments()  # before bench.common, which clears sys.argv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SINK_PORT = free_port()
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"  # tasks go to the broker
os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{SINK_PORT}"
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "community.example.com")
os.environ.setdefault("SITE_URL", "https://community.example.com")

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Max, Min

from bench.common import (
    cpu_seconds,
    database_create,
    database_drop,
    database_exists,
    database_rename,
    database_url,
    database_use,
    machine_seconds,
    process_tree,
)
from community.celery import app
from members import services as member_services
from members import weeks
from members.models import Community, Membership, UndeliverableAddress, User
from questions import markdown
from questions.digests import delivery, tasks
from questions.digests import services as digest_services
from questions.digests.models import Digest, DigestDelivery, DigestSubscription
from questions.models import Answer
from tests.factories import UserFactory, bulk_members, bulk_questions

Delivery = DigestDelivery
BENCH_DB = settings.DATABASES["default"]["NAME"]  # <name>_bench (bench.common)
TEMPLATE = f"{BENCH_DB}_digest_template_v1_{ARGS.members}"
RUN = f"{BENCH_DB}_digest"

AUTHORS = 40  # members with profiles who wrote the week's answers
QUESTIONS = 5
ANSWERS = 8  # per question
# Members who get no digest: opted out, reported undeliverable, no address, lapsed.
OPTED_OUT, UNDELIVERABLE, NO_ADDRESS, LAPSED = 30, 30, 10, 10
OPTED_IN = 30  # eligible members with an explicit subscription row (e-mails on)
CHUNK = 10_000
UNUSABLE = make_password(None)  # the members never sign in here
QUEUE_AIM = 60.0  # seconds, publish → every row queued and dispatched
RATE_AIM = 500.0  # messages a second on 2 worker processes
POLL = 0.5
STALLED = 60  # seconds without a row sent while rows are left: give up

BODIES = [
    "先做**用户访谈**，再看数据。Talk to users first, then read the numbers.",
    "把留存拆成 *第一周* 和 *第一个月* 两段看。Split retention into week one and month one.",
    "Ask the ten most active members what they came for, and build for that.",
    "Measure the *aha moment*: what did retained users do in their first session?",
]
SUMMARY = (
    "这周的重点：**留存**。Five questions on keeping new members, forty answers; the three "
    "best are below, with the fund statement and next week's questions.\n\n"
    "- Talk to users first\n- Cohorts, not averages\n- 少即是多"
)


# --- Build the template ---------------------------------------------------------------------


def last_ended_week() -> datetime.date:
    return weeks.start_of(Community()) - datetime.timedelta(days=7)


def _plain_members(community: Community, start: int, n: int, **membership: Any) -> list[int]:
    """``n`` members without profiles (users ``d{start}``…), in chunks; their ids."""
    ids: list[int] = []
    for first in range(start, start + n, CHUNK):
        last = min(first + CHUNK, start + n)
        users = User.objects.bulk_create(
            [
                User(
                    username=f"d{i}",
                    email=membership.get("email", "d{i}@example.com").format(i=i),
                    password=UNUSABLE,
                    language="zh-hans" if i % 5 == 0 else "",
                )
                for i in range(first, last)
            ],
            batch_size=5000,
        )
        rows = Membership.objects.bulk_create(
            [
                Membership(
                    user=u,
                    community=community,
                    role=Membership.Role.MEMBER,
                    status=membership.get("status", Membership.Status.ACTIVE),
                    joined_via=Membership.JoinedVia.IMPORTED,
                )
                for u in users
            ],
            batch_size=5000,
        )
        ids += [m.pk for m in rows]
    return ids


def build(template: str) -> None:
    building = f"{template}_building"
    plain = ARGS.members - 1 - AUTHORS  # the organiser and the authors receive it too
    print(
        f"Building {template}: {ARGS.members:,} recipients and "
        f"{OPTED_OUT + UNDELIVERABLE + NO_ADDRESS + LAPSED} members who get no digest…",
        flush=True,
    )
    started = time.perf_counter()
    database_drop(building)
    database_create(building)
    database_use(building)
    call_command("migrate", verbosity=0)
    week = last_ended_week()
    with transaction.atomic():
        organiser: User = UserFactory(  # type: ignore[assignment]
            username="digest-organiser", email="organiser@example.com"
        )
        community = member_services.community_create(
            creator=organiser, slug="digest-bench", name="Digest bench"
        )
        authors = bulk_members(community, AUTHORS, prefix="author")
        bulk_questions(
            community,
            authors,
            QUESTIONS,
            week=week,
            answers=ANSWERS,
            body=lambda i, j: BODIES[(i + j) % len(BODIES)],
        )
        eligible = _plain_members(community, 0, plain)
        n = plain
        opted_out = _plain_members(community, n, OPTED_OUT)
        n += OPTED_OUT
        # Stored in mixed case: the address is compared in lower case.
        undeliverable = _plain_members(community, n, UNDELIVERABLE, email="Bounce{i}@Example.com")
        UndeliverableAddress.objects.bulk_create(
            UndeliverableAddress(email=f"bounce{i}@example.com", reason="bounced")
            for i in range(n, n + UNDELIVERABLE)
        )
        n += UNDELIVERABLE
        _plain_members(community, n, NO_ADDRESS, email="")
        n += NO_ADDRESS
        _plain_members(community, n, LAPSED, status=Membership.Status.LAPSED)
        DigestSubscription.objects.bulk_create(
            [DigestSubscription(membership_id=pk, emails=False) for pk in opted_out]
            + [DigestSubscription(membership_id=pk, emails=True) for pk in eligible[:OPTED_IN]]
        )
        del undeliverable
        # The week's draft, as the close writes it: answers ranked by votes, three winners.
        answers = list(
            Answer.objects.filter(question__community=community)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        votes = {pk: (pk * 7) % 23 for pk in answers}
        top = sorted(answers, key=lambda pk: -votes[pk])[:3]
        facts = digest_services.CloseFacts(
            votes=votes,
            winners=[
                digest_services.Winner(place=k + 1, answer_id=pk, amount=amount)
                for k, (pk, amount) in enumerate(zip(top, (50000, 30000, 20000), strict=True))
            ],
            fund={
                "reward_budget": 120000,
                "reward_paid": 100000,
                "operations_budget": 40000,
                "operations_paid": 25000,
            },
        )
        digest = digest_services.digest_draft(community=community, week=week, facts=facts)
        digest.summary, digest.summary_html = SUMMARY, markdown.render(SUMMARY)
        digest.save(update_fields=["summary", "summary_html"])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    database_drop(template)
    database_rename(building, template)
    print(f"Built in {time.perf_counter() - started:.0f} s", flush=True)


def copy_template() -> None:
    if ARGS.rebuild or not database_exists(TEMPLATE):
        build(TEMPLATE)
    started = time.perf_counter()
    database_drop(RUN)
    database_create(RUN, template=TEMPLATE)
    database_use(RUN)
    print(f"{RUN} copied from {TEMPLATE} in {time.perf_counter() - started:.1f} s", flush=True)


# --- The SMTP sink (a process of its own) ---------------------------------------------------


def _sink_main(port: int, pipe: Any, count: Any, first: Any, last: Any, size: Any) -> None:
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopped through the pipe
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    recipients: Counter[str] = Counter()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            now = time.perf_counter()  # CLOCK_MONOTONIC: comparable between processes
            for address in envelope.rcpt_tos:
                recipients[address.lower()] += 1
            with count.get_lock():
                if count.value == 0:
                    first.value = now
                count.value += 1
                last.value = now
                size.value += len(envelope.content or b"")
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    pipe.send("ready")
    pipe.recv()  # stop
    controller.stop()
    pipe.send(dict(recipients))


class Sink:
    """aiosmtpd on 127.0.0.1:``port`` in a child process: counts messages (and copies per
    recipient), discards them."""

    def __init__(self, port: int) -> None:
        context = multiprocessing.get_context("fork")
        self.count = context.Value("q", 0)
        self.size = context.Value("q", 0)
        self.first = context.Value("d", 0.0, lock=False)
        self.last = context.Value("d", 0.0, lock=False)
        self.pipe, child = context.Pipe()
        connection.close()  # not shared with the child
        self.process = context.Process(
            target=_sink_main,
            args=(port, child, self.count, self.first, self.last, self.size),
            daemon=True,
        )
        self.process.start()
        if not self.pipe.poll(30) or self.pipe.recv() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        self.recipients: dict[str, int] | None = None

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value = self.size.value = 0
            self.first.value = self.last.value = 0.0

    def stop(self) -> dict[str, int]:
        if self.recipients is None and self.process.is_alive():
            self.pipe.send("stop")
            self.recipients = self.pipe.recv() if self.pipe.poll(60) else {}
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        return self.recipients or {}


# --- The Celery worker ----------------------------------------------------------------------


def worker_env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(RUN),
        "REDIS_URL": os.environ["REDIS_URL"],
        "EMAIL_URL": os.environ["EMAIL_URL"],
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_CONN_MAX_AGE": "60",
    }


def worker_start(log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603
            [
                *(sys.executable, "-m", "celery", "-A", "community", "worker"),
                *("-c", str(ARGS.concurrency), "--pool", "prefork", "-Q", "celery"),
                *("--without-heartbeat", "--without-mingle", "--without-gossip"),
                *("-n", f"digest-bench@{os.uname().nodename}", "--loglevel", "WARNING"),
            ],
            cwd=ROOT,
            env=worker_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its pool
        )


def worker_stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)  # warm shutdown: the batch at hand finishes
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def queued_in_redis() -> int:
    with app.connection_for_write() as conn:
        return int(conn.default_channel.client.llen("celery"))  # type: ignore[attr-defined]


class CpuMeter:
    """CPU seconds spent by the worker (and its pool), PostgreSQL's backends on the run's
    database (sampled at every poll; one that lives less than a poll is missed), the sink
    and this process; and the whole machine's busy and total time."""

    def __init__(self, worker: int, sink: int) -> None:
        self.worker, self.sink = worker, sink
        self.seen: dict[int, tuple[float, float]] = {}  # pid: (first, last)
        self.backends: dict[int, tuple[float, float]] = {}
        self.sample(start=True)
        self.machine = machine_seconds()

    def _track(self, table: dict[int, tuple[float, float]], pid: int, start: bool) -> None:
        now = cpu_seconds(pid)
        if now is not None:
            table[pid] = (table.get(pid, (now if start else 0.0, 0.0))[0], now)

    def sample(self, *, start: bool = False) -> None:
        for pid in process_tree(self.worker):
            # the worker's pool processes are forked after it starts: counted from zero
            self._track(self.seen, pid, start)
        for pid in (self.sink, os.getpid()):
            now = cpu_seconds(pid)
            if now is not None:
                key = -pid
                self.seen[key] = (self.seen.get(key, (now, 0.0))[0], now)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            for (pid,) in cursor.fetchall():
                self._track(self.backends, pid, start)

    def stop(self) -> dict[str, float]:
        self.sample()
        busy, total = machine_seconds()
        used = {pid: b - a for pid, (a, b) in self.seen.items()}
        return {
            "worker": sum(v for pid, v in used.items() if pid > 0),
            "sink": used.get(-self.sink, 0.0),
            "bench": used.get(-os.getpid(), 0.0),
            "postgres": sum(b - a for a, b in self.backends.values()),
            "busy": busy - self.machine[0],
            "all": total - self.machine[1],
        }


# --- Measure --------------------------------------------------------------------------------

W = 50  # label width


def line(label: str, value: str, aim: str = "") -> None:
    print(f"  {label:<{W}} {value:>14}  {aim}", flush=True)


def publish() -> tuple[Digest, dict[str, float], int]:
    """Publish the digest and queue its deliveries in this process (the deliveries_queue task
    the publish would queue is run here instead, after the commit); timings."""
    digest = Digest.objects.select_related("community").get()
    organiser = Membership.objects.get(community=digest.community, role=Membership.Role.ORGANISER)
    timing: dict[str, float] = {}
    dispatch = delivery.deliveries_dispatch

    def timed_dispatch(digest_id: int) -> int:
        began = time.perf_counter()
        count = dispatch(digest_id)
        timing["dispatch"] = time.perf_counter() - began
        timing["tasks"] = count
        return count

    queued_ids: list[int] = []
    connection.close()  # from a fresh connection, as a request or a worker would
    with (
        mock.patch.object(tasks.deliveries_queue, "delay", queued_ids.append),
        mock.patch.object(delivery, "deliveries_dispatch", timed_dispatch),
    ):
        began = time.perf_counter()
        digest_services.digest_publish(digest=digest, publisher=organiser)
        timing["publish"] = time.perf_counter() - began
        assert queued_ids == [digest.pk], queued_ids  # on commit
        began = time.perf_counter()
        added = delivery.deliveries_queue(digest.pk)
        timing["queue"] = time.perf_counter() - began
    timing["rows"] = timing["queue"] - timing["dispatch"]
    timing["total"] = timing["publish"] + timing["queue"]
    return digest, timing, added


def report_queue(timing: dict[str, float], added: int, in_redis: int) -> None:
    met = timing["total"] <= QUEUE_AIM
    print("\n1. Publish → every delivery row queued and its batch task in the broker")
    line("digest_publish (the transaction)", f"{timing['publish']:.2f} s")
    line(f"deliveries_queue: {added:,} rows inserted", f"{timing['rows']:.2f} s")
    line(
        f"deliveries_dispatch: {int(timing['tasks']):,} batch_send tasks",
        f"{timing['dispatch']:.2f} s",
    )
    line(f"batch tasks waiting in Redis ({settings.DIGEST_BATCH_SIZE} rows each)", f"{in_redis:,}")
    line(
        "publish → all queued",
        f"{timing['total']:.2f} s",
        f"aim ≤ {QUEUE_AIM:.0f} s: {'met' if met else 'MISSED'}",
    )
    line("rows queued a second", f"{added / timing['total']:,.0f}")


def wait_for_sends(expected: int, worker: subprocess.Popen[bytes], sink: Sink, meter: CpuMeter,
                   digest: Digest) -> float:  # fmt: skip
    """Poll until ``expected`` rows are sent; the poll's time when they are."""
    started = time.perf_counter()
    sent, progressed = 0, started
    rows = Delivery.objects.filter(digest=digest, state=Delivery.State.SENT)
    next_note = started + 30
    while True:
        time.sleep(POLL)
        now_sent = rows.count()
        now = time.perf_counter()
        meter.sample()
        if now_sent >= expected:
            return now
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited ({worker.returncode}) with {now_sent:,} sent")
        if now_sent > sent:
            sent, progressed = now_sent, now
        elif now - progressed > STALLED:
            raise RuntimeError(f"no row sent for {STALLED} s: {now_sent:,} of {expected:,}")
        if now - started > ARGS.timeout:
            raise RuntimeError(f"timed out after {ARGS.timeout:.0f} s: {now_sent:,} sent")
        if now >= next_note:
            elapsed = now - (sink.first.value or now)
            print(
                f"  … {now_sent:,} sent, sink {sink.count.value:,}"
                + (f", {now_sent / elapsed:,.0f}/s" if elapsed > 0 else ""),
                flush=True,
            )
            next_note = now + 30


def report_send(digest: Digest, started: float, done: float, sink: Sink,
                cpu: dict[str, float]) -> None:  # fmt: skip
    sent = Delivery.objects.filter(digest=digest, state=Delivery.State.SENT)
    n = sent.count()
    first, last = sink.first.value, sink.last.value
    wall = done - first
    rate = n / wall
    by_db = sent.aggregate(a=Min("sent_at"), b=Max("sent_at"))
    db_span = (by_db["b"] - by_db["a"]).total_seconds() if n > 1 else 0.0
    processes = ARGS.concurrency
    print(f"\n2. Sending: one worker, {processes} prefork processes, SMTP sink on 127.0.0.1")
    line("worker started → first message at the sink", f"{first - started:.2f} s")
    line(f"first message → all {n:,} rows sent (polled)", f"{wall:.2f} s")
    line(
        "messages a second (polled)",
        f"{rate:,.0f}",
        f"aim ≥ {RATE_AIM:.0f}/s on 2 processes: {'met' if rate >= RATE_AIM else 'MISSED'}",
    )
    if last > first:
        line("messages a second (sink: first → last message)", f"{n / (last - first):,.0f}")
    if db_span:
        line("messages a second (rows: first → last sent_at)", f"{n / db_span:,.0f}")
    line("message size (average)", f"{sink.size.value / max(1, sink.count.value) / 1024:.1f} KB")
    per = 1000 / n
    print(
        f"  CPU a message: worker {cpu['worker'] * per:.2f} ms + PostgreSQL "
        f"{cpu['postgres'] * per:.2f} ms + sink {cpu['sink'] * per:.2f} ms "
        f"(+ polling {cpu['bench']:.1f} s in all)"
    )
    mine = cpu["worker"] + cpu["postgres"] + cpu["sink"] + cpu["bench"]
    print(
        f"  the machine meanwhile ({os.cpu_count()} cores): {cpu['busy'] / cpu['all']:.0%} busy; "
        f"this benchmark {mine / cpu['all']:.0%}, the rest "
        f"{(cpu['busy'] - mine) / cpu['all']:.0%}; worker processes busy "
        f"{cpu['worker'] / (wall * processes):.0%} of {processes} × wall",
        flush=True,
    )


def check(digest: Digest, received: dict[str, int]) -> list[str]:
    """Correctness: what was queued and what the sink received. The problems found."""
    problems = []
    eligible = dict(delivery.recipients(digest))  # membership id → address
    rows = dict(Delivery.objects.filter(digest=digest).values_list("membership_id", "email"))
    states = dict(
        Delivery.objects.filter(digest=digest)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    if len(eligible) != ARGS.members:
        problems.append(f"{len(eligible):,} eligible members, not {ARGS.members:,}")
    if set(rows) != set(eligible):
        problems.append(
            f"rows for {len(set(rows) - set(eligible))} members not eligible, none for "
            f"{len(set(eligible) - set(rows))} eligible ones"
        )
    if states.get(Delivery.State.SENT, 0) != len(rows):
        problems.append(f"not every row sent: {states}")
    expected = Counter(address.lower() for address in rows.values())
    duplicates = {a: k for a, k in received.items() if k > 1}
    missing = set(expected) - set(received)
    strangers = set(received) - set(expected)
    if duplicates:
        problems.append(f"{len(duplicates):,} recipients got more than one message")
    if missing:
        problems.append(f"{len(missing):,} recipients got nothing")
    if strangers:
        problems.append(f"{len(strangers):,} addresses that have no row got a message")
    total = sum(received.values())
    print(
        f"\nchecks: {len(eligible):,} eligible members, {len(rows):,} rows ({states}); "
        f"the sink received {total:,} messages for {len(received):,} addresses "
        f"({len(duplicates)} duplicated, {len(missing)} missing, {len(strangers)} unexpected)."
    )
    return problems


def describe() -> None:
    members = Membership.objects.count()
    print(
        f"\nOne community of {members:,} members ({ARGS.members:,} to receive the digest); "
        f"DIGEST_BATCH_SIZE {settings.DIGEST_BATCH_SIZE}; PostgreSQL {connection.pg_version}; "  # type: ignore[attr-defined]
        f"broker {os.environ['REDIS_URL']}; sink 127.0.0.1:{SINK_PORT}; "
        f"{os.cpu_count()} cores.",
        flush=True,
    )


def run() -> int:
    describe()
    purged = app.control.purge()
    if purged:
        print(f"purged {purged} task(s) left in the queue", flush=True)
    logs = Path(tempfile.mkdtemp(prefix="bench-digest-"))
    sink = Sink(SINK_PORT)
    worker: subprocess.Popen[bytes] | None = None
    received: dict[str, int] = {}
    problems: list[str] = []
    try:
        digest, timing, added = publish()
        in_redis = queued_in_redis()
        report_queue(timing, added, in_redis)
        sink.reset()
        connection.close()
        started = time.perf_counter()
        worker = worker_start(logs / "worker.log")
        assert sink.process.pid is not None
        meter = CpuMeter(worker.pid, sink.process.pid)
        print("\n  (the worker sends…)", flush=True)
        try:
            done = wait_for_sends(added, worker, sink, meter, digest)
        except RuntimeError as error:
            problems.append(str(error))
            done = 0.0
        cpu = meter.stop()
    except BaseException:
        print(f"worker log: {logs / 'worker.log'}", file=sys.stderr)
        raise
    finally:
        if worker is not None:
            worker_stop(worker)
        received = sink.stop()
        left = app.control.purge()
    if done:
        report_send(digest, started, done, sink, cpu)
    if left:
        print(f"  {left} task(s) left in the queue, purged")
    problems += check(digest, received)
    errors = (logs / "worker.log").read_text(errors="replace").count("Traceback")
    if errors:
        print(f"  the worker logged {errors} traceback(s): {logs / 'worker.log'}")
    return report_problems(problems)


def report_problems(problems: list[str]) -> int:
    if problems:
        print("\nFAILED:\n" + "\n".join(f"  - {p}" for p in problems), file=sys.stderr)
        return 1
    print("\nOK: every eligible member was sent the digest exactly once.")
    return 0


# --- Profile (no Celery) --------------------------------------------------------------------

# (file ending, function): what a send is made of
PARTS = [
    ("the whole batch_send", "digests/delivery.py", "batch_send"),
    ("_claim (select for update + update)", "digests/delivery.py", "_claim"),
    ("render (once per language and batch)", "digests/delivery.py", "render"),
    ("delivery.message (EmailMultiAlternatives)", "digests/delivery.py", "message"),
    ("  of which unsubscribe_url (sign + reverse)", "digests/delivery.py", "unsubscribe_url"),
    ("EmailMessage.send (MIME + SMTP)", "django/core/mail/message.py", "send"),
    ("  EmailMessage.message (MIME building)", "django/core/mail/message.py", "message"),
    ("  as_bytes (MIME serialising)", "django/core/mail/message.py", "as_bytes"),
    ("  SMTP.sendmail (round trips to the sink)", "smtplib.py", "sendmail"),
    ("connection open/close (per batch)", "mail/backends/smtp.py", "open"),
    ("QuerySet.update (claim, per-row state)", "django/db/models/query.py", "update"),
    ("  SQL execute (each UPDATE commits: WAL flush)", "django/db/backends/utils.py", "execute"),
    ("loading rows (select_related)", "django/db/models/query.py", "_fetch_all"),
]


def profile() -> int:
    describe()
    app.control.purge()
    sink = Sink(SINK_PORT)
    try:
        digest, timing, added = publish()
        report_queue(timing, added, queued_in_redis())
        purged = app.control.purge()  # the batch tasks: sent here instead
        print(f"  ({purged} batch tasks purged: this process sends)")
        ids = list(
            Delivery.objects.filter(digest=digest).order_by("pk").values_list("pk", flat=True)
        )
        size = settings.DIGEST_BATCH_SIZE
        k = min(ARGS.profile, len(ids) // 2)

        def send(chunk: list[int]) -> int:
            sent = 0
            for start in range(0, len(chunk), size):
                batch = chunk[start : start + size]
                sent += delivery.batch_send(digest.pk, batch[0], batch[-1]).sent
            return sent

        send(ids[:size])  # warm-up: templates, translations, connections
        plain = ids[size : size + k]
        began = time.perf_counter()
        sent = send(plain)
        seconds = time.perf_counter() - began
        print(f"\n3. {sent:,} sends in this process, batch by batch (one process, no profiler)")
        line("seconds", f"{seconds:.2f} s")
        line("messages a second (one process)", f"{sent / seconds:,.0f}")
        line("ms a message", f"{seconds / sent * 1000:.2f}")

        profiled = ids[size + k : size + 2 * k]
        profiler = cProfile.Profile()
        profiler.enable()
        sent = send(profiled)
        profiler.disable()
        stats = pstats.Stats(profiler)
        total = stats.total_tt  # type: ignore[attr-defined]
        print(f"\n{sent:,} more sends under cProfile ({total:.2f} s profiled; ms a message):")
        entries = stats.stats  # type: ignore[attr-defined]
        for label, ending, name in PARTS:
            found = [
                (calls, cumulative)
                for (file, _line, func), (_cc, calls, _tt, cumulative, _callers) in entries.items()
                if file.endswith(ending) and func == name
            ]
            if found:
                calls = sum(c for c, _ in found)
                cumulative = max(t for _, t in found)  # the outermost
                print(
                    f"  {label:<46} {cumulative / sent * 1000:7.3f} ms  "
                    f"{cumulative / total:5.0%}  ×{calls / sent:.2f} a message"
                )
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
        print("\ntop 20 by own time:")
        print("\n".join(out.getvalue().splitlines()[6:]))
    finally:
        received = sink.stop()
    print(f"sink received {sum(received.values()):,} messages for {len(received):,} addresses")
    duplicates = sum(1 for k in received.values() if k > 1)
    return report_problems([f"{duplicates} duplicated recipients"] if duplicates else [])


def main() -> None:
    copy_template()
    # Stopped from outside (kill, a CI timeout): stop the worker and the sink too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped (SIGTERM)"))
    code = 1
    try:
        code = profile() if ARGS.profile else run()
    finally:
        connection.close()
        if not ARGS.keep:
            database_drop(RUN)
    sys.exit(code)


if __name__ == "__main__":
    main()
