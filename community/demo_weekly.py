# ruff: noqa: E501 - Markdown paragraphs stay on one line.
"""The demo's past weeks for "product-circle": the weekly cycle with some history.

The community is dated back so that its first week was six weeks before the one the demo
first ran in (PAST_WEEKS). Each past week but the first has questions, answers and votes
(written as rows: the services refuse to write into weeks that are over), and every past
week is then closed through the real pipeline (community/weekly.py), in order:

- the first week is quiet (the community had just moved here), and in the next nobody voted:
  both budgets roll over;
- then a challenge week: a visitor (``challenger@demo.example``) answered the challenge
  question, won first place, and the prize paid their entrance fee — they joined by
  challenge; another visitor's answer got no vote (they are invited to join);
- then a week with five voted answers (winners and a runner-up) and a second challenge, whose
  candidate came third: the prize does not cover the fee (they may pay the difference);
- then a week whose first place the organiser voided (fair play: two members voted for
  each other's answers); its prize went back into the reward budget of the week it was
  voided in;
- last week, just closed: its prizes are still in the payout hold.

Each past week had a moderator on duty from the rotation's roster, and its close computed
their KPIs and pay (community/demo_rotation.py, loaded before the closes).

The closes are dated as if the beat job ran ten minutes after each week ended, so the hold
has passed for the older weeks, whose winners were paid out by bank transfer in one batch.
This week's ballot is open (the demo community's voting opens on Monday), with a few votes
cast already; ``member@demo.example`` has all three of theirs to cast.

Idempotent: questions are found by title, answers by author, votes by voter; a week already
closed is left as it is; the void and the batch are made once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.utils import timezone

from community import demo_digests, demo_rotation, weekly
from community.models import WeekPipeline
from members import search, weeks
from members import services as member_services
from members.models import Community, Membership, User
from questions import markdown, votes
from questions.models import Answer, AnswerRevision, Notification, Question, Vote, WeekSession
from rewards import fairplay, payouts
from rewards.models import Payout, Prize, WeekClose

PAST_WEEKS = 6
WEEK = datetime.timedelta(days=7)
CHALLENGER = "challenger@demo.example"
VISITORS = ("visitor@demo.example", "guest@demo.example")
VOID_REASON = "演示：两位成员互相投票 · demo: two members voted for each other's answers"
BATCH_REFERENCE = "demo: prizes paid by bank transfer"


@dataclass(frozen=True)
class PastAnswer:
    author: str  # an account's username (or a visitor's e-mail for candidates)
    body: str
    voters: tuple[str, ...] = ()


@dataclass(frozen=True)
class PastQuestion:
    asker: str
    title: str
    background: str
    wanted: str
    challenge: bool = False
    answers: tuple[PastAnswer, ...] = field(default_factory=tuple)


def _a(author: str, body: str, *voters: str) -> PastAnswer:
    return PastAnswer(author=author, body=body, voters=voters)


# Weeks before this one: index 1 is last week. The first (the oldest) has no questions.
PAST: dict[int, tuple[PastQuestion, ...]] = {
    5: (
        PastQuestion(
            asker="jiayi",
            title="社群冷启动：前 100 个付费成员从哪里来？",
            background="我们做一个面向设计师的付费社群，种子用户来自公众号，但转化很低。",
            wanted="具体的渠道、话术和节奏，最好有你们试过的数字。",
            answers=(
                _a(
                    "haoran",
                    "先别急着拉新：把现有 30 个人服务好，**每周一次**真问题答疑，让他们自己转发。我们三个月从 30 做到 140，七成来自转介绍。",
                ),
                _a(
                    "benc",
                    "Run a free *challenge question* each week and let outsiders answer; the best answers get a free seat. It converts far better than ads.",
                ),
                _a(
                    "siyuan",
                    "公众号文章末尾放一个「本周问题」，读者留言回答，优质回答私信邀请入群。",
                ),
            ),
        ),
    ),
    4: (
        PastQuestion(
            asker="mengqi",
            title="如何给新人写一份不吓人的入群指南？",
            background="我们的入群指南有 12 页，新人普遍不看，然后在群里问同样的问题。",
            wanted="结构、长度和发放时机。",
            challenge=True,
            answers=(
                _a(
                    CHALLENGER,
                    "一页纸：**三件事**（自我介绍模板、本周问题在哪、怎么提问），其余放到置顶链接。第一周每天推一条小提示，比一次发 12 页有效得多。",
                    "xiaowen",
                    "zeyu_li",
                    "alicec",
                    "gracel",
                    "tomf",
                ),
                _a("yiming", "把指南变成一个 5 分钟的欢迎会，录屏放群公告。", "danielo", "emmas"),
                _a(
                    VISITORS[1],
                    "Make the guide a checklist new members tick off in their first week.",
                ),
                _a("kexin", "分角色写：提问的人看一页，回答的人看一页。"),
            ),
        ),
    ),
    3: (
        PastQuestion(
            asker="zixuan",
            title="B2B SaaS 年费涨价 20%，老客户怎么沟通？",
            background="今年成本上涨，准备给老客户年费提价 20%，担心流失。",
            wanted="沟通节奏、话术，以及给老客户的过渡方案。",
            answers=(
                _a(
                    "mingxuan",
                    "提前 90 天通知，给老客户**锁价一年**的选项（按年预付），同时讲清楚新功能的价值。我们这么做流失不到 5%。",
                    "xinyi_wu",
                    "junjie",
                    "yutong",
                    "wenbo",
                ),
                _a(
                    "chloem",
                    "Segment first: heavy users get a call from their account manager, light users an e-mail with a discount to renew early.",
                    "xiaofeng",
                    "yating",
                    "zihao",
                ),
                _a("ruoxi", "把涨价和一个客户一直想要的功能绑定发布。", "jiale", "jingyi"),
            ),
        ),
        PastQuestion(
            asker="yuhang",
            title="小红书和公众号，三个人的内容团队怎么分工？",
            background="三个人同时写两个平台，两个都做得一般。",
            wanted="分工方式和每周节奏。",
            challenge=True,
            answers=(
                _a(
                    "chenxi",
                    "一人专做公众号长文，一人专做小红书，第三人做选题和数据，每周一开 30 分钟选题会。",
                    "tianyu",
                    "zixuan_han",
                ),
                _a(
                    VISITORS[0],
                    "Write once, cut twice: one long piece a week, cut into five Xiaohongshu notes.",
                    "yifan",
                    "haoyu",
                    "lixin",
                ),
                _a("bowen", "先停掉小红书一个月，看公众号的转化有没有变化，再决定。", "ying_cao"),
            ),
        ),
    ),
    1: (
        PastQuestion(
            asker="haoyu",
            title="Onboarding 砍掉一半步骤后，激活率反而下降了，为什么？",
            background="我们把注册后的 8 步引导砍到 4 步，激活率从 38% 降到 31%。",
            wanted="可能的原因和排查方法。",
            answers=(
                _a(
                    "yuxuan",
                    "被砍掉的步骤里可能有「第一次成功」的关键动作。看每一步的完成率和 7 日留存的相关性，而不是只看步骤数。",
                    "kai_xiao",
                    "nuo_xu",
                    "haoran",
                    "lixin",
                ),
                _a(
                    "lixin",
                    "Check whether the removed steps set up data the product needs later; empty states kill activation.",
                    "xiaowen",
                    "xinran",
                    "zihan",
                ),
                _a("xinran", "做 5 个用户访谈，比看漏斗快。", "danielo"),
            ),
        ),
    ),
}
# Two weeks ago: its first place is voided (the winner and their friend voted for each other);
# two newcomers' votes are in the fair-play report too.
VOIDED_WEEK = 2
NEWCOMERS = ("umas", "victorl")
VOIDED = (
    PastQuestion(
        asker="tiantian",
        title="周报没人看：怎么写一份老板愿意读的周报？",
        background="团队周报越写越长，老板说没时间看。",
        wanted="结构和长度。",
        answers=(
            _a(
                "kavyar",
                "Three lines: what moved, what is stuck, what I need from you. Numbers first.",
                "samt",
                "umas",
                "victorl",
                "liamw",
            ),
            _a("samt", "一句话结论 + 三个数字 + 一个需要决策的问题。", "kavyar", "mayap"),
            _a("noahb", "把周报改成每周 10 分钟的站会。", "oliviab"),
        ),
    ),
)
# This week's open ballot: votes already cast on the current week's answers (by account).
THIS_WEEK_VOTERS = ("xiaowen", "zeyu_li", "siyuan", "alicec", "gracel", "priyan", "quentinm")


def _visitor(email: str, hashed: str) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create(username=email.split("@")[0], email=email, password=hashed)
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"primary": True, "verified": True}
    )
    return user


def _author(
    community: Community, name: str, members: dict[str, Membership], hashed: str
) -> Membership:
    if "@" not in name:
        return members[name]
    candidate = member_services.candidate_enrol(user=_visitor(name, hashed), community=community)
    handle = name.split("@")[0]
    if candidate.profile.handle != handle:
        member_services.profile_update(membership=candidate, data={"handle": handle})
    return candidate


def _question(
    community: Community,
    spec: PastQuestion,
    week: datetime.date,
    moderator: Membership,
    members: dict[str, Membership],
    hashed: str,
) -> None:
    """A past week's question with its answers and votes, written as rows dated in the week
    (the services refuse to write into a week that is over)."""
    begins = weeks.begins_at(community, week)
    session, _created = WeekSession.objects.get_or_create(community=community, week=week)
    question = Question.objects.filter(community=community, title=spec.title).first()
    if question is None:
        submitted = begins - datetime.timedelta(days=community.brief_lead_days + 2)
        question = Question.objects.create(
            community=community,
            asker=members[spec.asker],
            title=spec.title,
            background=spec.background,
            wanted=spec.wanted,
            background_html=markdown.render(spec.background),
            wanted_html=markdown.render(spec.wanted),
            state=Question.State.OPEN,
            session=session,
            is_challenge=spec.challenge,
            submitted_at=submitted,
            scheduled_at=submitted + datetime.timedelta(days=1),
            scheduled_by=moderator,
        )
        Question.objects.filter(pk=question.pk).update(
            created_at=submitted,
            search_document=search.document(
                spec.title,
                markdown.plain_text(spec.background),
                markdown.plain_text(spec.wanted),
            ),
        )
    opens = weeks.voting_opens_at(community, week)
    for i, data in enumerate(spec.answers):
        author = _author(community, data.author, members, hashed)
        answer = Answer.objects.filter(question=question, author=author).first()
        if answer is None:
            written = begins + datetime.timedelta(days=1, hours=3 * i)
            answer = Answer.objects.create(
                question=question,
                author=author,
                body=data.body,
                body_html=markdown.render(data.body),
                search_document=search.document(markdown.plain_text(data.body)),
            )
            AnswerRevision.objects.create(answer=answer, number=1, body=data.body)
            Answer.objects.filter(pk=answer.pk).update(created_at=written, updated_at=written)
            AnswerRevision.objects.filter(answer=answer).update(created_at=written)
        for k, voter in enumerate(data.voters):
            vote, created = Vote.objects.get_or_create(
                answer=answer, voter=members[voter], defaults={"community": community, "week": week}
            )
            if created:
                Vote.objects.filter(pk=vote.pk).update(
                    created_at=opens + datetime.timedelta(hours=5 + k)
                )


def load(
    *, community: Community, organiser: Membership, moderator: Membership, hashed: str
) -> None:
    """Write and close the past weeks, void one win, pay the older winners, and cast a few
    of this week's votes (see the module docstring). Call inside a transaction."""
    started = timezone.now()
    this_week = weeks.start_of(community)
    first = this_week - PAST_WEEKS * WEEK
    if community.created_at > weeks.begins_at(community, first):
        Community.objects.filter(pk=community.pk).update(
            created_at=weeks.begins_at(community, first) + datetime.timedelta(hours=10)
        )
        community.refresh_from_db()
    members = {
        m.user.username: m
        for m in Membership.objects.filter(community=community).select_related("user")
    }
    first_open = weekly.first_week(community)
    closed = set(
        WeekPipeline.objects.filter(community=community, state=WeekPipeline.State.DONE).values_list(
            "week", flat=True
        )
    )
    for back, specs in PAST.items():
        week = this_week - back * WEEK
        if week < first_open or week in closed:
            continue
        for spec in specs:
            _question(community, spec, week, moderator, members, hashed)
    week = this_week - VOIDED_WEEK * WEEK
    if week >= first_open and week not in closed:
        for spec in VOIDED:
            _question(community, spec, week, moderator, members, hashed)
        Membership.objects.filter(
            community=community,
            user__username__in=NEWCOMERS,
            activated_at__lt=weeks.begins_at(community, week),
        ).update(activated_at=weeks.voting_opens_at(community, week) - datetime.timedelta(days=2))
    # The moderator rotation: the roster signed up and every week fixed as it began, before
    # the closes compute the past shifts' KPIs and pay (community/demo_rotation.py).
    demo_rotation.load(community=community, members=members, this_week=this_week)
    # Close every past week in order, as the beat job would have, ten minutes after its end.
    last = this_week - WEEK
    if weekly.weeks_to_close(community, last):
        weekly.close_through(community=community, week=last)
    for close in WeekClose.objects.filter(community=community, closed_at__gt=started):
        on_time = weeks.ends_at(community, close.week) + datetime.timedelta(minutes=10)
        WeekClose.objects.filter(pk=close.pk).update(
            frozen_at=on_time, closed_at=on_time + datetime.timedelta(seconds=3)
        )
        WeekPipeline.objects.filter(community=community, week=close.week).update(
            queued_at=on_time,
            started_at=on_time,
            finished_at=on_time + datetime.timedelta(seconds=3),
        )
    demo_digests.load(community=community, organiser=organiser)
    _void(community, organiser, this_week)
    _pay(community, organiser, this_week)
    _vote_this_week(community, members, this_week)
    Notification.objects.filter(
        community=community, emailed_at__isnull=True, created_at__gte=started
    ).update(emailed_at=timezone.now())


def _void(community: Community, organiser: Membership, this_week: datetime.date) -> None:
    week = this_week - VOIDED_WEEK * WEEK
    prize = Prize.objects.filter(
        week_close__community=community, week_close__week=week, place=1
    ).first()
    if prize is not None and not prize.is_voided:
        fairplay.prize_void(actor=organiser.user, prize=prize, reason=VOID_REASON)


def _pay(community: Community, organiser: Membership, this_week: datetime.date) -> None:
    if Payout.objects.filter(community=community, reference=BATCH_REFERENCE).exists():
        return
    owed = [
        (p.membership.pk, p.available)
        for p in payouts.payables(community=community)
        if p.available > 0 and p.membership.role != Membership.Role.CANDIDATE
    ]
    if owed:
        payouts.payouts_batch(
            actor=organiser.user,
            community=community,
            items=owed,
            method=Payout.Method.BANK_TRANSFER,
            reference=BATCH_REFERENCE,
        )


def _vote_this_week(
    community: Community, members: dict[str, Membership], this_week: datetime.date
) -> None:
    from questions import lifecycle

    if not lifecycle.voting_open(community, this_week):
        return
    answers = list(
        Answer.objects.filter(question__community=community, question__session__week=this_week)
        .select_related("question__community", "question__session")
        .order_by("created_at", "pk")
    )
    if not answers:
        return
    for i, username in enumerate(THIS_WEEK_VOTERS):
        voter = members.get(username)
        if voter is None or Vote.objects.filter(voter=voter, week=this_week).exists():
            continue
        for answer in (answers[i % len(answers)], answers[(i * 3 + 1) % len(answers)]):
            if answer.author_id != voter.pk:
                votes.vote_cast(voter=voter, answer=answer)
