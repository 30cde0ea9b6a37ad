"""Load the demo: a community of ~60 members with realistic profiles in Chinese and English,
an organiser and a moderator, a week of questions with answers, discussion and ratings
(community/demo_questions.py), a year of payments (community/demo_money.py), six past weeks
closed through the weekly pipeline (community/demo_weekly.py) and a moderator rotation of
five members with their past shifts, KPIs and pay and a swap waiting
(community/demo_rotation.py); plus a small second community still in the seed phase, whose
members use other handles there than in the first (where real names are private), so that no
one in both can put a name to a handle.

On duty this week (the week the demo first runs in): ``alicec@demo.example`` (handle
*quiet-fox*, a plain member on the roster), whose on-duty console is
``/c/product-circle/duty/``. Every demo account has the password ``demo-pass-2026``.

Idempotent: running it again changes nothing (people are found by e-mail, profiles are set to
the same values, questions are found by title). Prints the accounts to sign in with.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation

from community import demo_join, demo_money, demo_questions, demo_weekly
from members import services, weeks
from members.models import Community, Membership, Tag, User, Weekday
from members.services import tags as tag_services
from questions.models import Question
from rotation.models import Shift

PASSWORD = "demo-pass-2026"  # noqa: S105 - the published demo password
ORGANISER = "organiser@demo.example"
MODERATOR = "moderator@demo.example"
MEMBER = "member@demo.example"

# The demo's vocabulary, each tag named in both languages (Chinese, English): a member who
# tagged 交互设计 and one who tagged Interaction design carry the same tag. SKILLS, NEEDS and
# HOBBIES are the words the demo's members pick (Chinese members the Chinese ones).
SKILL_NAMES = [
    ("渠道资源整合", "Channel and resource integration"),
    ("策划", "Planning"),
    ("文案", "Copywriting"),
    ("交互设计", "Interaction design"),
    ("结构化思维", "Structured thinking"),
    ("数据分析", "Data analysis"),
    ("用户研究", "User research"),
    ("增长营销", "Growth marketing"),
    ("产品管理", "Product management"),
    ("SQL", "SQL"),
    ("社群运营", "Community operations"),
    ("品牌策略", "Brand strategy"),
    ("销售", "Sales"),
    ("Python", "Python"),
]
NEED_NAMES = [
    ("跨界信息", "Cross-industry information"),
    ("解决工作中的问题", "Solving a work problem"),
    ("热点话题", "Hot topics"),
    ("产品运营技巧", "Product and operations technique"),
    ("理念指导", "Guidance"),
    ("求职", "Job seeking"),
    ("招聘", "Hiring"),
    ("导师辅导", "Mentoring"),
]
HOBBY_NAMES = [
    ("跑步", "Running"),
    ("摄影", "Photography"),
    ("桌游", "Board games"),
    ("咖啡", "Coffee"),
    ("读书", "Reading"),
    ("徒步", "Hiking"),
    ("攀岩", "Climbing"),
    ("烹饪", "Cooking"),
    ("爵士乐", "Jazz"),
    ("国际象棋", "Chess"),
]
# Words earlier demos used for the same tags: a demo loaded before is merged on the next run.
DUPLICATES = {
    "跨行业信息": "跨界信息",
    "热点": "热点话题",
    "解决工作问题": "解决工作中的问题",
    "产品/运营技巧": "产品运营技巧",
    "指导": "理念指导",
}
SKILLS = [
    "渠道资源整合",
    "策划",
    "文案",
    "交互设计",
    "结构化思维",
    "数据分析",
    "用户研究",
    "Growth marketing",
    "Product management",
    "SQL",
    "Community operations",
    "Copywriting",
    "Interaction design",
    "Brand strategy",
    "Sales",
    "Python",
]
NEEDS = [
    "跨界信息",
    "解决工作中的问题",
    "热点话题",
    "产品运营技巧",
    "理念指导",
    "求职",
    "招聘",
    "Cross-industry information",
    "Hiring",
    "Job seeking",
    "Mentoring",
]
HOBBIES = ["跑步", "摄影", "桌游", "咖啡", "读书", "徒步", "Climbing", "Cooking", "Jazz", "Chess"]
CITIES = ["上海", "北京", "深圳", "杭州", "成都", "广州", "Singapore", "London", "Hong Kong"]
INDUSTRIES = ["互联网", "电商", "教育", "金融", "医疗健康", "SaaS", "Gaming", "Consumer goods"]

ZH_PEOPLE = [
    ("王晓雯", "xiaowen"),
    ("李泽宇", "zeyu_li"),
    ("张思远", "siyuan"),
    ("刘佳怡", "jiayi"),
    ("陈浩然", "haoran"),
    ("杨梦琪", "mengqi"),
    ("赵一鸣", "yiming"),
    ("黄诗涵", "shihan"),
    ("周子轩", "zixuan"),
    ("吴欣怡", "xinyi_wu"),
    ("徐俊杰", "junjie"),
    ("孙雨桐", "yutong"),
    ("胡文博", "wenbo"),
    ("朱可欣", "kexin"),
    ("高明轩", "mingxuan"),
    ("林晓峰", "xiaofeng"),
    ("何雅婷", "yating"),
    ("郭子豪", "zihao"),
    ("马若曦", "ruoxi"),
    ("罗嘉乐", "jiale"),
    ("梁静怡", "jingyi"),
    ("宋宇航", "yuhang"),
    ("郑晨曦", "chenxi"),
    ("谢天宇", "tianyu"),
    ("韩梓萱", "zixuan_han"),
    ("唐一凡", "yifan"),
    ("冯博文", "bowen"),
    ("曹颖", "ying_cao"),
    ("彭浩宇", "haoyu"),
    ("曾雨萱", "yuxuan"),
    ("肖凯", "kai_xiao"),
    ("田甜", "tiantian"),
    ("董立新", "lixin"),
    ("袁欣然", "xinran"),
    ("邓子涵", "zihan"),
    ("许诺", "nuo_xu"),
]
EN_PEOPLE = [
    ("Alice Chen", "alicec"),
    ("Ben Carter", "benc"),
    ("Chloe Martin", "chloem"),
    ("Daniel Okafor", "danielo"),
    ("Emma Schmidt", "emmas"),
    ("Farid Haddad", "faridh"),
    ("Grace Lim", "gracel"),
    ("Hugo Rossi", "hugor"),
    ("Isabel Costa", "isabelc"),
    ("Jack Turner", "jackt"),
    ("Kavya Rao", "kavyar"),
    ("Liam Walsh", "liamw"),
    ("Maya Patel", "mayap"),
    ("Noah Becker", "noahb"),
    ("Olivia Brown", "oliviab"),
    ("Priya Nair", "priyan"),
    ("Quentin Moreau", "quentinm"),
    ("Rosa Alvarez", "rosaa"),
    ("Sam Taylor", "samt"),
    ("Tom Fischer", "tomf"),
    ("Uma Sato", "umas"),
    ("Victor Lee", "victorl"),
]
# Handles are pseudonyms, not romanised names: in the growth phase a handle is all other
# members see, so it must not name the person (SPEC §2.1).
ZH_HANDLES = [
    "青柠", "北风", "松果", "山月", "白鹭", "远帆", "晨星", "木棉", "小满", "听雨", "半夏", "南瓜",
    "秋实", "知秋", "砚台", "清风", "云朵", "橘子", "海盐", "麦田", "竹影", "星河", "鲸落", "春山",
    "阿离", "夏至", "拾光", "灯塔", "跳跳", "小鹿", "蓝莓", "石头", "花卷", "大雁", "飞鱼", "豆包",
]  # fmt: skip
EN_HANDLES = [
    "quiet-fox", "north-wind", "paper-crane", "tidewater", "maple-leaf", "blue-heron",
    "copper-kettle", "night-owl", "river-stone", "amber-tea", "silver-birch", "field-notes",
    "lantern", "harbour-light", "cloud-atlas", "slow-coach", "pine-cone", "tangerine",
    "ink-well", "kite-runner", "orbit", "cobalt",
]  # fmt: skip
# Handles in the writers' room, which is in the seed phase: every member there sees the real
# names next to them, so a person keeps a different handle there from the one they use in
# product-circle (growth phase), or anyone in both could put the name to it.
SEED_HANDLES = {
    ORGANISER: "writers-host",
    MEMBER: "first-draft",
    "xiaowen@demo.example": "纸鸢",
    "zeyu_li@demo.example": "墨竹",
    "siyuan@demo.example": "檐雨",
    "jiayi@demo.example": "青瓷",
    "alicec@demo.example": "quill",
    "benc@demo.example": "margin-note",
    "chloem@demo.example": "draft-zero",
    "danielo@demo.example": "ink-blot",
}
ZH_COMPANIES = ["星河科技", "蓝鲸互动", "青禾教育", "远山资本", "云栖电商", "知行医疗", "拾光文化"]
EN_COMPANIES = ["Northwind Labs", "Bluefin Analytics", "Cedar & Co", "Harbor Games", "Lumen Health"]
ZH_TITLES = [
    "产品经理",
    "运营总监",
    "内容策划",
    "交互设计师",
    "数据分析师",
    "增长负责人",
    "品牌经理",
]
EN_TITLES = ["Product manager", "Head of growth", "UX designer", "Data analyst", "Brand lead"]
ZH_PATHS = [
    "从新媒体编辑做起，转做用户运营，现在负责社区增长。",
    "设计专业毕业，先做视觉，后转交互，带过五人设计团队。",
    "在咨询公司做了三年行业研究，之后加入创业公司做产品。",
    "从销售转产品，擅长把一线客户的声音变成需求文档。",
]
EN_PATHS = [
    "Started in customer support, moved into product, now leads a small platform team.",
    "Agency copywriter turned brand strategist; runs workshops on positioning.",
    "Data analyst for four years, then growth; likes experiments with clear metrics.",
]


def _account(email: str, username: str, hashed: str, *, staff: bool = False) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create(username=username, email=email, password=hashed)
    if staff and not user.is_staff:
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"primary": True, "verified": True}
    )
    return user


def _ensure_tags(organiser: Membership) -> None:
    """Give the demo's tags both names, creating the missing ones and merging the duplicates
    an earlier demo made (热点 / 热点话题, 跨行业信息 / 跨界信息, Copywriting / 文案…)."""
    community = organiser.community
    for kind, pairs in (
        (Tag.Kind.SKILL, SKILL_NAMES),
        (Tag.Kind.NEED, NEED_NAMES),
        (Tag.Kind.HOBBY, HOBBY_NAMES),
    ):
        tags = list(Tag.objects.filter(community=community, kind=kind).order_by("pk"))
        for zh, en in pairs:
            words = {zh.casefold(), en.casefold()} | {
                old.casefold() for old, new in DUPLICATES.items() if new == zh
            }
            same = [t for t in tags if words & {n.casefold() for n in t.names}]
            if not same:
                tag = Tag.objects.create(community=community, kind=kind, name=zh, name_zh=zh)
                tags.append(tag)
            else:
                tag = next((t for t in same if t.name == zh), same[0])
                for other in same:
                    if other.pk != tag.pk:
                        tag_services.tag_merge(
                            actor=organiser, source_id=other.pk, target_id=tag.pk
                        )
                        tags.remove(other)
            tag_services.tag_rename(
                actor=organiser,
                tag_id=tag.pk,
                name=tag.name,
                name_en="" if en == zh else en,
                name_zh=zh,
            )


def _join(
    community: Community, organiser: Membership, user: User, role: str, profile: dict[str, Any]
) -> Membership:
    membership = Membership.objects.filter(community=community, user=user).first()
    if membership is None:
        membership = services.member_add(
            actor=organiser, community=community, email=user.email, role=role, notify=False
        )
    services.profile_update(membership=membership, data=profile)
    return membership


def _profile(rng: random.Random, name: str, handle: str, chinese: bool) -> dict[str, Any]:
    return {
        "handle": handle,
        "real_name": name,
        "company": rng.choice(ZH_COMPANIES if chinese else EN_COMPANIES),
        "role_title": rng.choice(ZH_TITLES if chinese else EN_TITLES),
        "industry": rng.choice(INDUSTRIES[:6] if chinese else INDUSTRIES[5:]),
        "city": rng.choice(CITIES[:6] if chinese else CITIES[6:]),
        "career_path": rng.choice(ZH_PATHS if chinese else EN_PATHS),
        "skills": rng.sample(SKILLS[:7] if chinese else SKILLS[7:], 3),
        "needs": rng.sample(NEEDS[:7] if chinese else NEEDS[7:], 2),
        "hobbies": rng.sample(HOBBIES, 2),
    }


@contextmanager
def _quiet_notification_jobs() -> Iterator[None]:
    """Hush the e-mail jobs that the demo's notifications queue when the demo commits.

    The demo marks its notifications as handled (see demo_questions.load), so each job finds
    nothing to send; run in-process (the embedded setup), Celery and kombu would still log a
    line or two per job.
    """
    loggers = [logging.getLogger(name) for name in ("celery.app.trace", "kombu.connection")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = "Load the demo communities (idempotent) and print the accounts to sign in with."

    @_quiet_notification_jobs()
    @transaction.atomic
    @translation.override("zh-hans")  # the demo communities are Chinese-first
    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(2026)  # the same profiles on every run
        hashed = make_password(PASSWORD)  # hashed once: hashing is slow on purpose
        organiser_user = _account(ORGANISER, "organiser", hashed, staff=True)
        community = Community.objects.filter(slug="product-circle").first()
        if community is None:
            community = services.community_create(
                creator=organiser_user,
                slug="product-circle",
                name="产品运营实战圈 · Product Practitioners",
                description=(
                    "每周一个真实的工作问题，成员写长答案、互相讨论、投票选出最佳答案；"
                    "入会费按 52 周进入奖励基金。\n"
                    "One real work question a week: members write long answers, discuss them and "
                    "vote for the best; entrance fees enter the reward fund over 52 weeks."
                ),
                privacy_threshold=50,
                # The demo's ballot is open all week, so there is always something to vote on.
                voting_opens_weekday=Weekday.MONDAY,
            )
        organiser = Membership.objects.get(community=community, user=organiser_user)
        _ensure_tags(organiser)
        services.profile_update(
            membership=organiser,
            data={
                "handle": "organiser",
                "real_name": "林知远",
                "company": "知远咨询",
                "role_title": "社区主理人",
                "industry": "教育",
                "city": "上海",
                "career_path": "十年产品经理，2024 年起运营付费学习社群。",
                "skills": ["结构化思维", "Community operations"],
                "needs": ["招聘"],
                "hobbies": ["读书"],
            },
        )
        moderator_user = _account(MODERATOR, "moderator", hashed)
        moderator = _join(
            community,
            organiser,
            moderator_user,
            Membership.Role.MODERATOR,
            {
                "handle": "moderator",
                "real_name": "苏晴",
                "company": "蓝鲸互动",
                "role_title": "社区运营",
                "industry": "互联网",
                "city": "杭州",
                "career_path": "做过三年内容编辑，现在负责用户社区。",
                "skills": ["策划", "文案", "Community operations"],
                "needs": ["热点话题"],
                "hobbies": ["摄影"],
            },
        )
        member_user = _account(MEMBER, "member", hashed)
        _join(
            community,
            organiser,
            member_user,
            Membership.Role.MEMBER,
            {
                "handle": "member",
                "real_name": "Mia Zhang",
                "company": "Northwind Labs",
                "role_title": "Product manager",
                "industry": "SaaS",
                "city": "Singapore",
                "career_path": "Engineer turned product manager.",
                "skills": ["Product management", "SQL"],
                "needs": ["Mentoring"],
                "hobbies": ["Climbing"],
            },
        )
        people = [
            (name, username, pseudonym, True)
            for (name, username), pseudonym in zip(ZH_PEOPLE, ZH_HANDLES, strict=True)
        ] + [
            (name, username, pseudonym, False)
            for (name, username), pseudonym in zip(EN_PEOPLE, EN_HANDLES, strict=True)
        ]
        for name, username, handle, chinese in people:
            user = _account(f"{username}@demo.example", username, hashed)
            _join(
                community,
                organiser,
                user,
                Membership.Role.MEMBER,
                _profile(rng, name, handle, chinese),
            )
        demo_questions.load(community=community, moderator=moderator)
        demo_money.load(community=community, organiser=organiser)
        demo_weekly.load(
            community=community, organiser=organiser, moderator=moderator, hashed=hashed
        )
        invite = demo_join.load(organiser=organiser)

        seed = Community.objects.filter(slug="writers-room").first()
        if seed is None:
            seed = services.community_create(
                creator=organiser_user,
                slug="writers-room",
                name="写作者小组 · Writers' Room",
                description="一个刚起步的小组，仍在种子期：成员之间资料全部可见。",
            )
        seed_organiser = Membership.objects.get(community=seed, user=organiser_user)
        services.profile_update(
            membership=seed_organiser,
            data={"handle": SEED_HANDLES[ORGANISER], "real_name": "林知远", "company": "知远咨询"},
        )
        for name, username, _handle, chinese in [*people[:4], *people[36:40]]:
            user = User.objects.get(email__iexact=f"{username}@demo.example")
            _join(
                seed,
                seed_organiser,
                user,
                Membership.Role.MEMBER,
                {
                    "handle": SEED_HANDLES[user.email],
                    "real_name": name,
                    "company": ZH_COMPANIES[0] if chinese else EN_COMPANIES[0],
                },
            )
        _join(
            seed,
            seed_organiser,
            member_user,
            Membership.Role.MEMBER,
            {
                "handle": SEED_HANDLES[MEMBER],
                "real_name": "Mia Zhang",
                "company": "Northwind Labs",
            },
        )

        site = settings.SITE_URL  # full links: `make run PORT=…` sets it to its own address
        self.stdout.write(self.style.SUCCESS("Demo communities are ready:"))
        for c in Community.objects.filter(pk__in=[community.pk, seed.pk]).order_by("pk"):
            self.stdout.write(f"  {site}/c/{c.slug}/  {c.name}  ({c.phase} phase)")
        self.stdout.write(f"This week's questions: {site}/c/{community.slug}/week/")
        challenge = Question.objects.filter(community=community, is_challenge=True).first()
        if challenge is not None:
            self.stdout.write(f"  challenge question, public: {site}{challenge.get_absolute_url()}")
        self.stdout.write(f"  briefs to schedule (moderators): {site}/c/{community.slug}/briefs/")
        self.stdout.write(f"This week's ballot: {site}/c/{community.slug}/ballot/")
        self.stdout.write(f"Past weeks' results: {site}/c/{community.slug}/results/")
        self.stdout.write(
            f"A year of payments: {site}/c/{community.slug}/ledger/weeks/ (organisers)"
        )
        self.stdout.write(f"  payouts and the fair-play review: {site}/c/{community.slug}/payouts/")
        self.stdout.write(f"Moderator roster and schedule: {site}/c/{community.slug}/roster/")
        shift = Shift.objects.filter(community=community, week=weeks.start_of(community)).first()
        if shift is not None and shift.moderator is not None:
            self.stdout.write(
                f"  on duty this week: {shift.moderator.user.email}, "
                f"console {site}/c/{community.slug}/duty/"
            )
        self.stdout.write(
            f"A newcomer joins without Stripe: sign up, then open the organiser's invite link "
            f"{site}{invite.get_absolute_url()} (or use the demo payment on "
            f"{site}/c/{community.slug}/join/)"
        )
        self.stdout.write(f"Sign in with (password for all: {PASSWORD}):")
        self.stdout.write(f"  organiser  {ORGANISER}   (also a staff user for {site}/admin/)")
        self.stdout.write(f"  moderator  {MODERATOR}")
        self.stdout.write(f"  member     {MEMBER}")
