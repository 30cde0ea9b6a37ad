"""The question page with 200 answers, and search over 500,000 answers, on PostgreSQL.
Prints p50/p95.

    DATABASE_URL=postgres://… .venv/bin/python bench/questions.py

Builds (once) in a database of its own (``<name>_bench``, created if missing) a community of
1,000 members with, this week, a question that has 200 long answers, 2,000 comments and
1,000 ratings, and — for search — 5,000 earlier questions with 100 answers each (500,000
answers) of generated Chinese, English and mixed text whose words follow a Zipf-like
distribution, so a search matches a realistic share of them. Then times, after a warm-up:

- the question page as a signed-in member through Django's test client (the whole request:
  middleware, session, queries, templates) and the API's ``GET /api/v1/questions/<id>/``;
- what the questions list asks the database for (the capped count and the first page with
  tags, through ``questions.selectors.questions_list``) for a Chinese word, a Chinese
  phrase, an English prefix, two terms and a word nothing contains;
- the questions list page through the test client, without and with a search.

Answer texts come from a pool of 40,000 distinct ones (rendering Markdown costs about a
millisecond a text; each text is used by about a dozen answers). The answers' GIN index is
dropped while loading and built again afterwards, which is much faster than keeping it.
"""

from __future__ import annotations

import datetime
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_MEMBERS = 1000
N_ANSWERS = int(os.environ.get("BENCH_ANSWERS", "500000"))
ANSWERS_PER_QUESTION = 100
QUESTIONS_PER_WEEK = 100
DISTINCT_TEXTS = 40_000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "100"))
PAGE_ROUNDS = int(os.environ.get("BENCH_PAGE_ROUNDS", "30"))
SLUG = "qbench"


from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client

from bench.common import get, timed
from members import services, weeks
from members.models import Community, Membership, Tag, User
from members.pagination import CappedPaginator
from questions import selectors
from questions.models import Answer, Comment, Question
from tests.factories import bulk_members, bulk_questions

ANSWER_INDEX = "questions_answer_search_gin"  # made by questions/migrations/0002

# --- Text -----------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


# Content words of a community of product, operations and career people, most common first.
ZH_WORDS = _words("""
用户 产品 数据 增长 运营 团队 需求 设计 留存 指标 转化 内容 渠道 社群 活动 策略 分析 体验 功能
目标 反馈 实验 版本 迭代 复盘 成本 客户 市场 沟通 管理 老板 同事 流程 工具 方法 经验 案例 问题
方案 建议 结论 假设 验证 模型 框架 优先级 预算 招聘 面试 协作 竞品 定价 销售 品牌 流量 投放 获客
激活 付费 订阅 续费 流失 新手引导 访谈 问卷 埋点 看板 漏斗 周报 会议 职业 转型 晋升 薪资 跳槽 创业
融资 现金流 供应链 库存 电商 直播 短视频 私域 公众号 小程序 社区 会员 积分 裂变 拉新 促活 召回 推送
短信 文案 标题 选题 热点 节奏 周期 季度 规划 路线图 原型 交互 视觉 研发 测试 上线 灰度 故障 稳定性
性能 架构 技术债 外包 合同 法务 合规 隐私 风险 机会 规范 文档 培训 导师 新人 心态 精力 焦虑 成长
行业 趋势 商业模式 护城河 壁垒 效率 组织 文化 绩效 激励 授权 信任 冲突 谈判 资源 整合 杠杆 复利
留学 考研 副业 自由职业 咨询 顾问 甲方 乙方 出海 本地化 翻译 海外 合伙人 股权 期权 裁员 降本 增效
""")
ZH_GLUE = _words("""
我们 你 他们 可以 需要 应该 先 再 然后 如果 因为 所以 但是 其实 比较 非常 一些 这个 那个 没有
通过 关于 之后 之前 同时 重点 关键 核心 主要 考虑 尝试 发现 觉得 认为 看到 做好 提高 降低 找到
""")
EN_WORDS = _words("""
users product data growth team retention metrics onboarding design customers churn funnel
pricing experiment feedback roadmap priority hiring interview manager stakeholders revenue
conversion activation subscription community content channel strategy launch release
research survey dashboard cohort engagement acquisition referral marketing sales brand
budget cost process tools framework hypothesis analysis insight career promotion salary
startup founder investors runway supply inventory ecommerce livestream video newsletter
members events campaign copywriting headline analytics tracking segmentation
personas journey friction latency reliability architecture debt contractor compliance
privacy risk opportunity documentation mentoring burnout focus negotiation leverage
""")
EN_GLUE = _words("""
the a we you they can should first then if because so but actually really some this that
with about after before while key main try found think see make improve reduce find
""")


def _zipf(words: list[str], exponent: float = 1.0) -> tuple[list[str], list[float]]:
    return words, [1 / (rank**exponent) for rank in range(1, len(words) + 1)]


ZH = _zipf(ZH_WORDS)
EN = _zipf(EN_WORDS)


def _sentence(rng: random.Random, lang: str) -> str:
    words, weights = ZH if lang == "zh" else EN
    glue = ZH_GLUE if lang == "zh" else EN_GLUE
    n = rng.randint(4, 12)
    content = rng.choices(words, weights, k=n)
    out = []
    for word in content:
        if rng.random() < 0.5:
            out.append(rng.choice(glue))
        out.append(word)
    if lang == "zh":
        if rng.random() < 0.2:  # English terms inside Chinese text, as people write
            out.insert(rng.randrange(len(out)), " " + rng.choices(*EN)[0] + " ")
        return "".join(out) + rng.choice("。。，！？")
    text = " ".join(out)
    return text[0].upper() + text[1:] + rng.choice("..!?")


def text(rng: random.Random, *, sentences: tuple[int, int]) -> str:
    """A Markdown answer: paragraphs, sometimes a heading, a list or bold words."""
    lang = rng.choices(["zh", "en", "mixed"], [6, 2, 2])[0]
    parts: list[str] = []
    for _ in range(rng.randint(*sentences)):
        which = lang if lang != "mixed" else rng.choice(["zh", "en"])
        sentence = _sentence(rng, which)
        if rng.random() < 0.1:
            sentence = f"**{sentence}**"
        parts.append(sentence)
    paragraphs, i = [], 0
    while i < len(parts):
        step = rng.randint(1, 4)
        chunk = parts[i : i + step]
        style = rng.random()
        if style < 0.1:
            paragraphs.append("\n".join(f"- {s}" for s in chunk))
        elif style < 0.15:
            paragraphs.append("## " + chunk[0].strip("*。.!?！？，") + "\n\n" + "".join(chunk[1:]))
        else:
            paragraphs.append(("" if lang == "zh" else " ").join(chunk))
        i += step
    return "\n\n".join(p for p in paragraphs if p.strip())


def title(rng: random.Random) -> str:
    if rng.random() < 0.75:
        a, b = rng.choices(*ZH, k=2)
        return rng.choice(
            ["如何提高{a}的{b}？", "{a}和{b}怎么平衡？", "{a}做不起来怎么办？"]
        ).format(a=a, b=b)
    a, b = rng.choices(*EN, k=2)
    return f"How do we improve {a} {b}?"


# --- Build ----------------------------------------------------------------------------------------


def build() -> tuple[Community, Question]:
    community = Community.objects.filter(slug=SLUG).first()
    corpus = Answer.objects.filter(question__community=community).count() if community else 0
    big = Question.objects.filter(community=community, title__startswith="[200]").first()
    if big is not None and corpus >= N_ANSWERS + 200:
        return community, big  # type: ignore[return-value]
    print(f"Building a question with 200 answers and {N_ANSWERS:,} answers to search (once)…")
    started = time.perf_counter()
    rng = random.Random(500_000)
    if community is None:
        creator, _ = User.objects.get_or_create(username="qbench-organiser", email="qb@example.com")
        community = services.community_create(
            creator=creator, slug=SLUG, name="Question bench", privacy_threshold=10
        )
    skills = [
        Tag.objects.get_or_create(community=community, kind=Tag.Kind.SKILL, name=name)[0]
        for name in ("交互设计", "数据分析", "增长黑客", "内容运营", "SQL", "Product management")
    ]
    members = list(
        Membership.objects.filter(community=community, role=Membership.Role.MEMBER).order_by("pk")
    )
    if len(members) < N_MEMBERS:
        members += bulk_members(community, N_MEMBERS - len(members), start=len(members), prefix="q")
        print(f"  {len(members):,} members", flush=True)
    pool = [text(rng, sentences=(2, 14)) for _ in range(DISTINCT_TEXTS)]
    print(f"  {len(pool):,} distinct answer texts generated", flush=True)

    def corpus_body(i: int, j: int) -> str:
        return pool[rng.randrange(len(pool))]

    def corpus_title(i: int) -> str:
        return title(rng)

    def corpus_background(i: int) -> str:
        return text(rng, sentences=(1, 4))

    this = weeks.start_of(community)
    if big is None:
        long = [text(rng, sentences=(8, 40)) for _ in range(200)]
        with transaction.atomic():
            [big] = bulk_questions(
                community,
                members,
                1,
                week=this,
                answers=200,
                comments=10,
                ratings=5,
                needs=skills[:2],
                title=lambda i: "[200] 新手引导怎么做才能提高用户留存？",
                background=lambda i: text(rng, sentences=(4, 10)),
                body=lambda i, j: long[j],
            )
        print("  the question with 200 answers, 2,000 comments, 1,000 ratings", flush=True)

    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {ANSWER_INDEX}")
    made = Question.objects.filter(community=community).exclude(pk=big.pk).count()
    target = N_ANSWERS // ANSWERS_PER_QUESTION
    while made < target:
        n = min(QUESTIONS_PER_WEEK, target - made)
        week = this - datetime.timedelta(days=7 * (made // QUESTIONS_PER_WEEK + 1))
        with transaction.atomic():
            bulk_questions(
                community,
                members,
                n,
                week=week,
                answers=ANSWERS_PER_QUESTION,
                needs=rng.sample(skills, 2),
                start=1 + made,
                title=corpus_title,
                background=corpus_background,
                body=corpus_body,
            )
        made += n
        if made % 500 == 0 or made == target:
            elapsed = time.perf_counter() - started
            print(f"  {made * ANSWERS_PER_QUESTION:,} answers ({elapsed:.0f} s)", flush=True)
    Question.objects.filter(community=community, session__week__lt=this).update(
        state=Question.State.CLOSED
    )
    index_and_analyze()
    print(f"Built in {time.perf_counter() - started:.0f} s", flush=True)
    return community, big


def index_and_analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {ANSWER_INDEX} ON questions_answer "
            "USING gin (search_document)"
        )
        cursor.execute("ANALYZE")


# --- Measure --------------------------------------------------------------------------------------


def search(viewer: Membership, q: str) -> Callable[[], str]:
    """What the list page asks the database for: the capped count and the first page."""
    filters = selectors.QuestionFilters(q=q)

    def call() -> str:
        qs = selectors.questions_list(viewer=viewer, community=viewer.community, filters=filters)
        page = CappedPaginator(qs, settings.QUESTIONS_PAGE_SIZE).get_page(1)
        list(page.object_list)
        paginator: CappedPaginator = page.paginator  # type: ignore[assignment]
        return f"{paginator.shown_count:,}" + ("+" if paginator.capped else "") + " found"

    return call


def share_of_answers(community: Community, q: str) -> str:
    found = Answer.objects.filter(question__community=community, search_document__matches=q)
    return f"{found.count() / N_ANSWERS:.1%} of answers"


def main() -> None:
    call_command("migrate", verbosity=0)
    community, big = build()
    index_and_analyze()  # again, in case an earlier build stopped before the index was made
    viewer = (
        Membership.objects.select_related("community", "user")
        .filter(community=community, role=Membership.Role.MEMBER)
        .order_by("pk")[500]
    )
    answers = Answer.objects.filter(question__community=community).count()
    comments = Comment.objects.filter(answer__question=big).count()
    print(
        f"\n{answers:,} answers in {Question.objects.filter(community=community).count():,} "
        f"questions; the page's question has {big.answers.count()} answers and {comments:,} "
        f"comments. PostgreSQL {connection.pg_version}; {ROUNDS} rounds each "
        f"({PAGE_ROUNDS} for whole pages)\n"
    )
    client = Client()
    client.force_login(viewer.user)
    timed(
        "question page, 200 answers (portal, member)",
        PAGE_ROUNDS,
        get(client, f"/c/{SLUG}/questions/{big.pk}/", 'id="answer-'),
    )
    timed(
        "question page, 200 answers (API)",
        PAGE_ROUNDS,
        get(client, f"/api/v1/questions/{big.pk}/", '"answers"'),
    )
    print()
    queries = [
        ("search “留存” (common Chinese word)", "留存"),
        ("search “护城河” (rarer Chinese word)", "护城河"),
        ("search “提高用户留存” (Chinese phrase)", "提高用户留存"),
        ("search “retent” (English prefix)", "retent"),
        ("search “留存 onboarding” (two terms)", "留存 onboarding"),
        ("search “量子纠缠” (matches nothing)", "量子纠缠"),
    ]
    for label, q in queries:
        print(f"  {label}: {share_of_answers(community, q)}")
    for label, q in queries:
        timed(label, ROUNDS, search(viewer, q))
    print()
    timed("list page (portal)", PAGE_ROUNDS, get(client, f"/c/{SLUG}/questions/", "question-row"))
    timed(
        "list page, search “留存” (portal)",
        PAGE_ROUNDS,
        get(client, f"/c/{SLUG}/questions/?q=留存", "question-row"),
    )
    timed(
        "list, search “留存” (API)",
        PAGE_ROUNDS,
        get(client, f"/api/v1/communities/{SLUG}/questions/?q=留存", '"results"'),
    )


if __name__ == "__main__":
    main()
