"""factory_boy factories. Communities, memberships and profiles are made through the
services where the services add something (organiser membership, vocabulary, search
documents), so tests see the same rows production does."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Sequence
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import MD5PasswordHasher

from members import services
from members.models import Community, Membership, Tag, User
from questions.models import Question

PASSWORD = "a-long-test-password-42"
# MD5, fast: the tests use it for every password (tests/conftest.py); slow hashing is the
# production settings' job, not what the tests check.
_HASHED = MD5PasswordHasher().encode(PASSWORD, "tests")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = _HASHED

    @factory.post_generation
    def verified(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, primary=True, verified=True)


def make_community(
    *, organiser: User | None = None, slug: str | None = None, **rules: Any
) -> Community:
    organiser = organiser or UserFactory()
    slug = slug or f"c-{organiser.pk}-{Community.objects.count() + 1}"
    rules.setdefault("name", f"Community {slug}")
    return services.community_create(creator=organiser, slug=slug, **rules)


def organiser_of(community: Community) -> Membership:
    return (
        Membership.objects.filter(community=community, role=Membership.Role.ORGANISER)
        .select_related("user", "community")
        .earliest("pk")
    )


def add_member(
    community: Community,
    *,
    role: str = Membership.Role.MEMBER,
    user: User | None = None,
    profile: dict[str, Any] | None = None,
    create_tags: bool = True,
) -> Membership:
    """An active member with the given profile (tags are added to the vocabulary)."""
    user = user or UserFactory()
    return services.member_add(
        actor=organiser_of(community),
        community=community,
        email=user.email,
        role=role,
        profile=profile,
        create_tags=create_tags,
        notify=False,
    )


def set_status(membership: Membership, status: str, role: str | None = None) -> Membership:
    """Put a membership in a state services do not reach directly yet (candidate, pending)."""
    Membership.objects.filter(pk=membership.pk).update(
        status=status, **({"role": role} if role else {})
    )
    services.profile_refresh_search(membership_id=membership.pk)  # role and status are facets
    membership.refresh_from_db()
    return membership


def tag(community: Community, kind: str, name: str) -> Tag:
    return Tag.objects.get_or_create(community=community, kind=kind, name=name)[0]


CITIES = ["上海", "北京", "深圳", "Singapore", "London"]


def _default_fields(i: int) -> dict[str, Any]:
    return {
        "real_name": f"真名{i}",
        "company": f"公司{i}",
        "role_title": "产品经理",
        "industry": "互联网",
        "city": CITIES[i % len(CITIES)],
        "career_path": "从运营到产品",
    }


def bulk_members(
    community: Community,
    n: int,
    *,
    start: int = 0,
    prefix: str = "bulk",
    fields: Callable[[int], dict[str, Any]] = _default_fields,
    tags_for: Callable[[int], list[Tag]] | None = None,
) -> list[Membership]:
    """``n`` active members with full profiles (``fields(i)``) and tags (``tags_for(i)``;
    by default a skill, a need and a hobby), made in a handful of queries — for query
    budgets at several data sizes, the search index tests and the benchmarks."""
    from members import privacy
    from members.models import Profile

    if tags_for is None:
        skills = [tag(community, Tag.Kind.SKILL, s) for s in ("交互设计", "SQL", "Copywriting")]
        needs = [tag(community, Tag.Kind.NEED, name) for name in ("招聘", "Mentoring")]
        hobby = tag(community, Tag.Kind.HOBBY, "跑步")

        def tags_for(i: int) -> list[Tag]:
            return [skills[i % 3], needs[i % 2], hobby]

    users = User.objects.bulk_create(
        User(
            username=f"{prefix}{community.pk}-{i}",
            email=f"{prefix}{community.pk}-{i}@example.com",
            password=_HASHED,
        )
        for i in range(start, start + n)
    )
    memberships = Membership.objects.bulk_create(
        Membership(
            user=u,
            community=community,
            role=Membership.Role.MEMBER,
            status=Membership.Status.ACTIVE,
            joined_via=Membership.JoinedVia.IMPORTED,
        )
        for u in users
    )
    profiles = []
    links = []
    for i, m in enumerate(memberships, start=start):
        p = Profile(membership=m, community=community, handle=f"{prefix}-{i:06d}", **fields(i))
        mine = tags_for(i)
        p.search_document, p.full_search_document = privacy.search_documents(p, mine)
        profiles.append(p)
        links += [Profile.tags.through(profile_id=m.pk, tag_id=t.pk) for t in mine]
    Profile.objects.bulk_create(profiles)
    Profile.tags.through.objects.bulk_create(links)
    return memberships


def bulk_questions(
    community: Community,
    members: Sequence[Membership],
    n: int,
    *,
    week: datetime.date | None = None,
    answers: int = 0,
    comments: int = 0,
    ratings: int = 0,
    needs: Sequence[Tag] = (),
    start: int = 0,
    title: Callable[[int], str] | None = None,
    background: Callable[[int], str] | None = None,
    body: Callable[[int, int], str] | None = None,
) -> list[Question]:
    """``n`` questions of ``community``, made in a handful of queries — for query budgets at
    several data sizes and the benchmarks.

    With a ``week`` (its first day) they are published in that week's session (open if it
    has begun, else scheduled); without one they are submitted briefs. Each has ``answers``
    answers (``body(question index, answer index)``, Markdown), each answer ``comments``
    comments (every second one a reply to the one before) and ``ratings`` ratings, all by
    distinct ``members`` other than the answer's author (so ``answers`` and ``ratings`` must
    be below ``len(members)``). Askers and authors rotate through ``members``. Answers are
    at revision 1 without revision rows. Markdown is rendered, and search documents made, the
    way the services do it, once per distinct text."""
    from django.utils import timezone

    from members import search, weeks
    from questions.models import Answer, Comment, Rating, WeekSession

    if answers >= len(members) or ratings >= len(members):
        raise ValueError("answers and ratings need more members than that")
    now = timezone.now()
    session = None
    state = Question.State.SUBMITTED
    if week is not None:
        session = WeekSession.objects.get_or_create(community=community, week=week)[0]
        begun = weeks.begins_at(community, week) <= now
        state = Question.State.OPEN if begun else Question.State.SCHEDULED
    title = title or (lambda i: f"问题 {i}：如何提高新用户留存？ How to keep new users?")
    body = body or (
        lambda i, j: f"先做**用户访谈**，再看数据。Talk to users first (answer {j} to {i})."
    )
    background = background or (lambda i: "我们的 App 留存低，试过推送。")
    size = len(members)
    facets = [search.facet("t", t.pk) for t in needs]
    wanted = "方法和例子 (methods and examples)"
    questions = []
    for i in range(start, start + n):
        text, situation = title(i), background(i)
        questions.append(
            Question(
                community=community,
                asker=members[i % size],
                title=text,
                background=situation,
                wanted=wanted,
                background_html=_markdown(situation)[0],
                wanted_html=_markdown(wanted)[0],
                state=state,
                session=session,
                submitted_at=now,
                scheduled_at=now if session else None,
                search_document=search.document(
                    text,
                    _markdown(situation)[2],
                    _markdown(wanted)[2],
                    *(t.name for t in needs),
                    facets=facets,
                ),
            )
        )
    questions = Question.objects.bulk_create(questions, batch_size=2000)
    Question.needs.through.objects.bulk_create(
        [Question.needs.through(question_id=q.pk, tag_id=t.pk) for q in questions for t in needs],
        batch_size=5000,
    )
    rows = []
    for i, question in enumerate(questions, start=start):
        for j in range(answers):
            source = body(i, j)
            html, document, _plain = _markdown(source)
            rows.append(
                Answer(
                    question=question,
                    author=members[(i + 1 + j) % size],
                    body=source,
                    body_html=html,
                    search_document=document,
                )
            )
    made = Answer.objects.bulk_create(rows, batch_size=2000)
    html = _markdown("好问题，**赞同**。 Agreed — and measure it.")[0]
    author_index = {m.pk: k for k, m in enumerate(members)}
    top: list[Comment] = []
    replies: list[Comment] = []
    stars: list[Rating] = []
    for answer in made:
        k = author_index[answer.author_id]
        for c in range(comments):
            comment = Comment(
                answer=answer,
                author=members[(k + 1 + c) % size],
                parent=top[-1] if c % 2 else None,  # saved first, so it has its id by then
                body="好问题，**赞同**。 Agreed — and measure it.",
                body_html=html,
            )
            (replies if c % 2 else top).append(comment)
        stars += [
            Rating(answer=answer, rater=members[(k + 1 + r) % size], stars=1 + (k + r) % 5)
            for r in range(ratings)
        ]
    Comment.objects.bulk_create(top, batch_size=5000)
    Comment.objects.bulk_create(replies, batch_size=5000)
    Rating.objects.bulk_create(stars, batch_size=5000)
    return questions


@functools.lru_cache(maxsize=100_000)
def _markdown(source: str) -> tuple[str, str, str]:
    """(sanitised HTML, an answer's search document, plain text) for Markdown ``source``."""
    from members import search
    from questions import markdown

    text = markdown.plain_text(source)
    return markdown.render(source), search.document(text), text


# --- Money ------------------------------------------------------------------------------------


def totp_activate(user: User) -> str:
    """Turn on two-factor authentication (TOTP) for ``user``; returns the secret, for
    ``totp_code``."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return str(secret)


def totp_code(secret: str) -> str:
    """The authenticator app's current code for ``secret`` (still accepted for a step after
    it turns over: MFA_TOTP_TOLERANCE, so a slow machine checking it late is no problem)."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return str(format_hotp_value(hotp_value(secret, int(time.time()) // 30)))


def mfa_sign_in(client: Any, user: User) -> None:
    """Sign ``user`` in to the portal as allauth does after the password *and* the TOTP code:
    the session holds allauth's record of an MFA step (members.access.mfa_verified). Turns
    TOTP on first if the user has none."""
    import time

    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from allauth.mfa.models import Authenticator

    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        totp_activate(user)
        authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    client.force_login(user)
    session = client.session
    now = time.time()
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "email": user.email},
        {"method": "mfa", "at": now, "id": authenticator.pk, "type": "totp"},
    ]
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()


def mfa_token(api: Any, user: User, secret: str | None = None) -> str:
    """An API token issued through ``POST /api/v1/auth/token/`` with a TOTP code, as an
    organiser gets one for the money endpoints. Turns TOTP on first if the user has none."""
    if secret is None:
        from allauth.mfa.adapter import get_adapter
        from allauth.mfa.models import Authenticator

        existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        secret = get_adapter().decrypt(existing.data["secret"]) if existing else totp_activate(user)
    response = api.post(
        "/api/v1/auth/token/",
        {"username": user.email, "password": PASSWORD, "code": totp_code(secret)},
    )
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


def bulk_payments(
    community: Community,
    rows: Sequence[tuple[Membership, str, int, datetime.datetime]],
    *,
    method: str = "bank_transfer",
) -> list[Any]:
    """Entrance and monthly fees — ``(membership, kind, amount, received_at)`` — with their
    ledger transactions as ``rewards.services.payment_record`` writes them (cash debited; the
    reward fund credited for an entrance fee, the operations fund for a monthly one; the same
    idempotency keys and descriptions), in a handful of queries: for query budgets at several
    data sizes and the benchmark. Members' statuses and the audit log are left alone."""
    from members.models import Profile
    from rewards import ledger
    from rewards.models import Account, Entry, Payment, Transaction

    if any(kind not in (Payment.Kind.ENTRANCE, Payment.Kind.MONTHLY) for _m, kind, _a, _t in rows):
        raise ValueError("entrance or monthly fees only")
    cash = ledger.account(
        community=community,
        kind=Account.Kind.PROVIDER_CASH if method == "stripe" else Account.Kind.OFFLINE_CASH,
    )
    funds = {
        Payment.Kind.ENTRANCE: ledger.account(community=community, kind=Account.Kind.REWARD_FUND),
        Payment.Kind.MONTHLY: ledger.account(
            community=community, kind=Account.Kind.OPERATIONS_FUND
        ),
    }
    handles = dict(
        Profile.objects.filter(membership_id__in={m.pk for m, *_rest in rows}).values_list(
            "membership_id", "handle"
        )
    )
    payments = Payment.objects.bulk_create(
        [
            Payment(
                community=community,
                membership=membership,
                kind=kind,
                method=method,
                amount=amount,
                currency=community.currency,
                received_at=received_at,
            )
            for membership, kind, amount, received_at in rows
        ],
        batch_size=5000,
    )
    transactions = Transaction.objects.bulk_create(
        [
            Transaction(
                community=community,
                kind=Transaction.Kind.PAYMENT,
                idempotency_key=f"payment:{p.pk}",
                description=f"{p.get_kind_display()} · {handles[p.membership_id]}",
                occurred_at=p.received_at,
                payment=p,
            )
            for p in payments
        ],
        batch_size=5000,
    )
    Entry.objects.bulk_create(
        [
            Entry(transaction=t, account=account, amount=amount)
            for t, p in zip(transactions, payments, strict=True)
            for account, amount in ((cash, p.amount), (funds[p.kind], -p.amount))
        ],
        batch_size=5000,
    )
    return payments


def bulk_refunds(
    rows: Sequence[tuple[Any, int, datetime.datetime]], *, reason: str = "correction"
) -> list[Any]:
    """Money going back — ``(payment, amount, at)``, each payment once, of payments made by
    ``bulk_payments`` — with the reversing transactions ``rewards.services.payment_reverse``
    writes, in a handful of queries."""
    from rewards.models import Entry, Refund, Transaction

    originals = {
        t.payment_id: t
        for t in Transaction.objects.filter(
            payment__in=[p for p, _a, _t in rows], refund__isnull=True, reverses__isnull=True
        ).prefetch_related("entries")
    }
    refunds = Refund.objects.bulk_create(
        [Refund(payment=p, reason=reason, amount=amount, received_at=at) for p, amount, at in rows],
        batch_size=5000,
    )
    labels = dict(Refund.Reason.choices)
    transactions = Transaction.objects.bulk_create(
        [
            Transaction(
                community_id=r.payment.community_id,
                kind=Transaction.Kind.REFUND,
                idempotency_key=f"refund:{r.pk}",
                description=f"{labels[r.reason]} · {originals[r.payment_id].description}",
                occurred_at=r.received_at,
                refund=r,
                reverses=originals[r.payment_id] if r.amount == r.payment.amount else None,
            )
            for r in refunds
        ],
        batch_size=5000,
    )
    Entry.objects.bulk_create(
        [
            Entry(
                transaction=t,
                account_id=e.account_id,
                amount=-r.amount if e.amount > 0 else r.amount,
            )
            for t, r in zip(transactions, refunds, strict=True)
            for e in originals[r.payment_id].entries.all()
        ],
        batch_size=5000,
    )
    return refunds


def bulk_prizes(
    community: Community, rows: Sequence[tuple[Membership, int, datetime.datetime]]
) -> None:
    """Prizes — ``(winner, amount, at)`` — from the reward fund to winners' payable accounts,
    as a week's close posts them, in a handful of queries: so the balances list members'
    accounts and the fund page has earnings."""
    import uuid

    from rewards import ledger
    from rewards.models import Account, Entry, Transaction

    fund = ledger.account(community=community, kind=Account.Kind.REWARD_FUND)
    payable = {
        a.membership_id: a
        for a in Account.objects.filter(community=community, kind=Account.Kind.MEMBER_PAYABLE)
    }
    Account.objects.bulk_create(
        Account(community=community, kind=Account.Kind.MEMBER_PAYABLE, membership_id=pk)
        for pk in {m.pk for m, _a, _t in rows} - set(payable)
    )
    payable = {
        a.membership_id: a
        for a in Account.objects.filter(community=community, kind=Account.Kind.MEMBER_PAYABLE)
    }
    transactions = Transaction.objects.bulk_create(
        [
            Transaction(
                community=community,
                kind=Transaction.Kind.WEEK_CLOSE,
                idempotency_key=f"bulk-prize:{uuid.uuid4().hex}",
                description="Prize",
                occurred_at=at,
            )
            for _m, _a, at in rows
        ],
        batch_size=5000,
    )
    Entry.objects.bulk_create(
        [
            Entry(transaction=t, account=account, amount=amount)
            for t, (m, prize, _at) in zip(transactions, rows, strict=True)
            for account, amount in ((fund, prize), (payable[m.pk], -prize))
        ],
        batch_size=5000,
    )
