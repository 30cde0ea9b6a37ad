"""Directory search and filter on 100,000 profiles, on PostgreSQL. Prints p50/p95.

    make bench            # or: DATABASE_URL=postgres://… .venv/bin/python bench/directory.py

Builds (once) a community of 100,000 members with realistic profiles in a database of its own
(``<name>_bench``, created if missing), then times what the directory page asks the database
for — the count and the first page with tags — for a Chinese search, an English search, a
search by a hidden value as a plain member (finds nothing), and tag/city filters. Timing is
wall-clock per request, after a warm-up.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_MEMBERS = int(os.environ.get("BENCH_MEMBERS", "100000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
BATCH = 5000


from django.core.management import call_command
from django.db import connection, transaction

import bench.common  # noqa: F401  (sets Django up first)
from members import privacy, selectors, services
from members.models import Community, Membership, Profile, Tag, User
from members.pagination import CappedPaginator
from tests.factories import bulk_members

SKILLS = [
    "交互设计",
    "视觉设计",
    "用户研究",
    "数据分析",
    "增长黑客",
    "内容运营",
    "社群运营",
    "活动策划",
    "文案",
    "渠道资源整合",
    "结构化思维",
    "项目管理",
    "产品规划",
    "商业分析",
    "品牌策略",
    "销售",
    "招聘",
    "财务分析",
    "法务合规",
    "供应链",
    "Python",
    "SQL",
    "Growth marketing",
    "Copywriting",
    "Product management",
    "Interaction design",
    "Brand strategy",
    "Sales",
    "Engineering",
    "Machine learning",
    "Data engineering",
    "Community operations",
    "UX research",
    "Pricing",
    "Partnerships",
    "Public speaking",
    "Negotiation",
    "Fundraising",
    "Recruiting",
    "Leadership",
]
NEEDS = ["跨行业信息", "解决工作问题", "热点", "产品/运营技巧", "指导", "求职", "招聘", "Mentoring"]
HOBBIES = ["跑步", "摄影", "桌游", "咖啡", "读书", "徒步", "Climbing", "Cooking", "Jazz", "Chess"]
CITIES = [
    "上海",
    "北京",
    "深圳",
    "杭州",
    "成都",
    "广州",
    "南京",
    "武汉",
    "西安",
    "苏州",
    "厦门",
    "重庆",
    "Singapore",
    "London",
    "Hong Kong",
    "Berlin",
    "New York",
    "Tokyo",
    "Sydney",
    "Paris",
]
INDUSTRIES = [
    "互联网",
    "电商",
    "教育",
    "金融",
    "医疗健康",
    "SaaS",
    "游戏",
    "消费品",
    "汽车",
    "物流",
    "Gaming",
    "Fintech",
    "Healthcare",
    "Retail",
    "Media",
    "Energy",
]
TITLES = ["产品经理", "运营总监", "交互设计师", "数据分析师", "Engineer", "Designer", "Founder"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def build() -> Community:
    community = Community.objects.filter(slug="bench").first()
    if community is not None and Profile.objects.filter(community=community).count() >= N_MEMBERS:
        return community
    print(f"Building {N_MEMBERS:,} members (once)…", flush=True)
    started = time.perf_counter()
    rng = random.Random(100_000)
    creator, _ = User.objects.get_or_create(username="bench-organiser", email="bench@example.com")
    if community is None:
        community = services.community_create(
            creator=creator, slug="bench", name="Bench", privacy_threshold=10
        )
    tags = {}
    for kind, names in (
        (Tag.Kind.SKILL, SKILLS),
        (Tag.Kind.NEED, NEEDS),
        (Tag.Kind.HOBBY, HOBBIES),
    ):
        for name in names:
            tags[(kind, name)] = Tag.objects.get_or_create(
                community=community, kind=kind, name=name
            )[0]

    def fields(i: int) -> dict[str, str]:
        return {
            "real_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "company": f"Company {i % 5000}",
            "role_title": rng.choice(TITLES),
            "industry": rng.choice(INDUSTRIES),
            "city": rng.choice(CITIES),
            "career_path": "从运营转产品，做过三年咨询。" if i % 2 else "Engineer turned PM.",
        }

    def tags_for(i: int) -> list[Tag]:
        return (
            [tags[(Tag.Kind.SKILL, s)] for s in rng.sample(SKILLS, 3)]
            + [tags[(Tag.Kind.NEED, s)] for s in rng.sample(NEEDS, 2)]
            + [tags[(Tag.Kind.HOBBY, rng.choice(HOBBIES))]]
        )

    done = Profile.objects.filter(community=community).count() - 1
    while done < N_MEMBERS:
        n = min(BATCH, N_MEMBERS - done)
        with transaction.atomic():
            bulk_members(community, n, start=done, prefix="m", fields=fields, tags_for=tags_for)
        done += n
        print(f"  {done:,}", flush=True)
    services.community_sync_phase(community_id=community.pk)  # bulk rows skip the service
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Built in {time.perf_counter() - started:.0f} s", flush=True)
    return community


def page_of(viewer: Membership, filters: selectors.DirectoryFilters) -> tuple[str, int]:
    """What the directory page asks the database for: the (capped) count and the first page
    of cards, through the same paginator the page uses."""
    qs = selectors.directory(viewer=viewer, community=viewer.community, filters=filters)
    page = CappedPaginator(qs, 24).get_page(1)
    cards = privacy.profile_cards(viewer=viewer, profiles=page.object_list)
    paginator: CappedPaginator = page.paginator  # type: ignore[assignment]
    count = f"{paginator.shown_count:,}" + ("+" if paginator.capped else "")
    return count, len(cards)


def measure(label: str, viewer: Membership, filters: selectors.DirectoryFilters) -> None:
    for _ in range(10):
        page_of(viewer, filters)
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        count, _shown = page_of(viewer, filters)
        times.append((time.perf_counter() - started) * 1000)
    q = statistics.quantiles(times, n=100)
    print(f"{label:<42} {count:>7} found  p50 {q[49]:6.2f} ms  p95 {q[94]:6.2f} ms")


def main() -> None:
    call_command("migrate", verbosity=0)
    community = build()
    community.refresh_from_db()
    viewer = (
        Membership.objects.select_related("community")
        .filter(community=community, role=Membership.Role.MEMBER)
        .order_by("pk")
        .first()
    )
    assert viewer is not None
    hidden = (
        Profile.objects.filter(community=community, company__startswith="Company")
        .exclude(membership=viewer)
        .order_by("pk")
        .last()
    )
    assert hidden is not None
    F = selectors.DirectoryFilters
    print(
        f"\n{Profile.objects.filter(community=community).count():,} profiles, phase "
        f"{community.phase}, PostgreSQL {connection.pg_version}, {ROUNDS} rounds each\n"
    )
    measure("search “交互设计” (Chinese)", viewer, F(q="交互设计"))
    measure("search “设计” (Chinese, 2 chars)", viewer, F(q="设计"))
    measure("search “engin” (English prefix)", viewer, F(q="engin"))
    measure("search “上海 交互设计” (two terms)", viewer, F(q="上海 交互设计"))
    measure("search hidden company, plain member", viewer, F(q=hidden.company))
    measure("filter skill=SQL", viewer, F(skills=["SQL"]))
    measure("filter skill + need + city", viewer, F(skills=["SQL"], needs=["招聘"], city="上海"))
    measure("filter city=Singapore", viewer, F(city="singapore"))
    measure("no filter (first page)", viewer, F())


if __name__ == "__main__":
    main()
