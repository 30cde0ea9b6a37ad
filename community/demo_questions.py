# ruff: noqa: E501 - Markdown paragraphs stay on one line: a line break inside a Chinese
# paragraph would render as a stray space.
"""The demo's week of questions for "product-circle", written through questions.services.

Four briefs in the current week (one of them a challenge question) with long-form answers,
threaded comments and ratings; one brief scheduled for next week; two briefs submitted and
waiting in the moderators' queue; an announcement for the week and a few invitations.

Idempotent: briefs are found by title, answers by author, comments by author and text,
ratings and invitations by person; what exists is left as it is. The week is the one the
demo first ran in: a later run leaves past weeks alone (it adds nothing to a week that is
over) rather than copying the questions into the new week.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from members import weeks
from members.models import Community, Membership
from questions import services
from questions.models import Answer, Comment, Invitation, Notification, Question


@dataclass(frozen=True)
class Reply:
    author: str  # an account's username
    body: str


@dataclass(frozen=True)
class Thread:
    author: str
    body: str
    replies: tuple[Reply, ...] = ()


@dataclass(frozen=True)
class AnswerData:
    author: str
    body: str
    ratings: dict[str, int] = field(default_factory=dict)  # rater's username → stars
    threads: tuple[Thread, ...] = ()


@dataclass(frozen=True)
class Brief:
    asker: str
    title: str
    background: str
    wanted: str
    needs: tuple[str, ...]
    week: int | None = None  # 0: this week, 1: next week, None: submitted, not scheduled
    challenge: bool = False
    invite: tuple[str, ...] = ()
    answers: tuple[AnswerData, ...] = ()


ANNOUNCEMENT = """本周四个问题：续费率下滑怎么排查、B2B 定价访谈、新人破冰（本周的**挑战题**，欢迎转给想加入的朋友）、Onboarding 砍步骤。

- 做过会员/订阅业务的同学，请看看第一题的数据拆法；
- This week's English threads: pricing interviews and onboarding — data people, we need you.

周日 24:00 投票截止，答案在那之前都可以修改。"""

RETENTION = Brief(
    asker="xiaowen",
    title="付费社群第二年续费率从 62% 掉到 41%，应该先查哪里？",
    background="""我负责一个职场技能类付费社群（知识星球，年费 299 元，约 3,800 名付费成员）。第一年续费率 62%，今年 10 月到期的一批只有 41%。

今年我们做了三件事：

1. 内容从每周 3 篇加到每周 5 篇；
2. 新开了两个 21 天打卡训练营；
3. 嘉宾直播从每月 1 次改成每两周 1 次。

不续费问卷回收了 212 份，排在前面的原因是“没时间看”（38%）和“内容和我关系不大”（27%）。老板的第一反应是“再加点干货”，我觉得方向不对，但说不清楚。""",
    wanted="""1. 排查续费下滑的先后顺序：先看哪些数据，怎么拆？
2. 有没有做过“减量提质”的经验？减内容会不会反而伤害感知价值？
3. 到期前 30 天的续费动作，哪些是真正有效的？""",
    needs=("数据分析", "用户研究", "结构化思维"),
    week=0,
    answers=(
        AnswerData(
            author="siyuan",
            body="""## 先把 41% 拆开，再决定动哪里

41% 是一个平均数，它背后几乎一定是**几个差异很大的人群**。在动内容之前，先按下面三个维度拆一遍：

1. **入群渠道**：公众号文章、朋友推荐、训练营转化、投放；
2. **第一年的活跃度**：按“最近 90 天是否有任何互动（点赞、评论、打卡）”分；
3. **入群时间**：年初进来的和年末进来的，体验到的是两个不同的社群。

我去年给一个 5,000 人的社群做过同样的拆解，结果大致是这样的：

| 人群 | 占到期人数 | 续费率 | 备注 |
|---|---:|---:|---|
| 活跃 + 朋友推荐 | 18% | 78% | 基本盘，几乎不用管 |
| 活跃 + 投放进来 | 21% | 55% | 对价格敏感 |
| 沉默 + 训练营转化 | 26% | 22% | **下滑主要来自这里** |
| 沉默 + 其他 | 35% | 38% | 需要唤醒 |

你们今年新开了两个训练营，我猜结构和我们很像：训练营拉进来一批“为了打卡而来”的人，21 天结束后就沉默了，到期自然不续。**整体续费率下降，可能只是人群结构变了，而不是老用户变得不满意。**

### 建议的排查顺序

- 第一步：按上面的维度拆续费率，找到贡献下滑最多的那一格；
- 第二步：只针对那一格做 5–8 个电话访谈，问“你上一次打开星球是为了什么”；
- 第三步：再决定是改内容、改节奏，还是改训练营的转化方式。

### 关于“再加点干货”

问卷里“没时间看”占 38%，这时候加内容等于加负担。我们当时把每周 5 篇减到 3 篇，同时做了**每周一封精选摘要**，续费率第二年回升了 9 个点。减量本身不伤感知价值，*让人觉得错过了什么*才伤。""",
            ratings={"haoran": 5, "xiaowen": 5, "yiming": 4, "tomf": 5, "kexin": 4, "member": 5},
            threads=(
                Thread(
                    author="haoran",
                    body="表格里的“沉默”是怎么定义的？30 天没登录，还是 30 天没互动？这两个口径差别很大。",
                    replies=(
                        Reply(
                            author="siyuan",
                            body="按 90 天内没有任何互动算。只看登录会把“打开看一眼就走”的人算成活跃，偏乐观。",
                        ),
                        Reply(
                            author="xiaowen",
                            body="我们之前是按登录算的，难怪分不出差别。这周就按互动口径重跑一遍。",
                        ),
                    ),
                ),
                Thread(
                    author="tomf",
                    body="+1 on splitting by acquisition channel first. We found the same thing with a cohort that came in through a discount campaign: it dragged the average down for two years.",
                ),
            ),
        ),
        AnswerData(
            author="danielo",
            body="""## Treat "no time to read" as a product problem

When 38% of people say they had no time, they are rarely saying *the content was bad*. They are saying **the cost of finding the one post that matters to them is too high**. Adding two more posts a week raises that cost.

### What I would change first

- **One weekly digest**, written by a person, not generated: three posts worth your time and why. Send it where people already are (WeChat service account), not inside the app.
- **Tag every post by role** (PM, ops, design) so a member can follow only their lane.
- **Make the live sessions async-friendly**: a 10-minute written recap within 24 hours. Most of your "no time" people will never attend live.

### What I would *not* do

- Do not discount the renewal price before you know which segment is leaving. Discounts teach your loyal members to wait.
- Do not cut the bootcamps yet: measure whether bootcamp graduates who stayed active renew better than the average. If they do, the problem is what happens on day 22, not the bootcamp.""",
            ratings={"siyuan": 4, "xiaowen": 4, "alicec": 5, "mengqi": 3},
            threads=(
                Thread(
                    author="yiming",
                    body="同意。“没时间看”本质上是找不到和自己相关的那一篇，按角色打标签这一条我们试过，效果很明显。",
                    replies=(
                        Reply(
                            author="danielo",
                            body="Good to hear. Did you let members pick the tags, or did editors assign them?",
                        ),
                    ),
                ),
            ),
        ),
        AnswerData(
            author="mengqi",
            body="""## 到期前 30 天：我们验证过有效的三个动作

我在一个 2,000 人的读书社群做过三轮续费，下面是按效果排序的：

1. **个人年度回顾**（效果最好）：给每个人生成一张“你的这一年”——读了多少篇、参与了哪几次讨论、被多少人点赞。*看得见的积累*比任何话术都有说服力。
2. **主理人一对一私信**：只发给活跃度中等的人（太活跃的自然会续，太沉默的私信也没用），每条都提到对方具体说过的一句话。
3. **明年的预告**：不是“我们会更好”，而是具体的三件事和时间表。

### 效果一般的

- 早鸟折扣：拉高了前 7 天的续费，但总续费率没有变化，只是把续费时间提前了；
- 群发提醒：打开率不到 10%。

> 一句话总结：续费动作的目标不是说服，而是**让人想起自己在这里得到过什么**。""",
            ratings={"xiaowen": 5, "jiayi": 4, "siyuan": 4, "benc": 4, "zixuan": 5},
            threads=(
                Thread(
                    author="jiayi",
                    body="个人年度回顾是怎么做的？手工做 2,000 份吗？",
                    replies=(
                        Reply(
                            author="mengqi",
                            body="导出星球的互动数据，用一个表格模板批量生成图片，两个人做了两天。",
                        ),
                    ),
                ),
            ),
        ),
        AnswerData(
            author="member",
            body="""A short one from the SaaS side: we look at renewals the same way and the single most useful chart was **renewal rate by number of active weeks in the last quarter**. Below 3 active weeks, renewal was under 20% whatever we did; above 6, over 80%.

So the lever was never the renewal campaign — it was getting people from 2 active weeks to 4 during the year.""",
            ratings={"siyuan": 4, "danielo": 4, "xiaowen": 3},
        ),
    ),
)

PRICING = Brief(
    asker="member",
    title="How do I run pricing interviews for a B2B add-on without leading the customer?",
    background="""I'm the PM for a reporting add-on in a B2B SaaS for logistics companies: about 140 paying accounts, average contract around $18k a year. Sales wants a price for the add-on by the end of next month.

Last quarter I ran eight "pricing conversations". In hindsight every one of them was me demoing the feature and then asking *"would you pay X for this?"*. Everyone said yes — and two of the eight accounts then refused the pilot invoice.""",
    wanted="""- A structure for a 30-minute interview that gets at willingness to pay **without naming a number first**.
- How many interviews are enough, and with whom: the champion who uses it, or the budget holder?
- How to combine interviews with something cheaper, like a fake-door test or a pilot price.""",
    needs=("Product management", "用户研究", "Sales"),
    week=0,
    invite=("kavyar", "zeyu_li"),
    answers=(
        AnswerData(
            author="kavyar",
            body="""## Interview the problem, then the budget, then the price

Your eight conversations failed for the usual reason: once you demo, the customer is rating *your effort*, not their need. Flip the order.

### A 30-minute structure

1. **Minutes 0–10 — the current workaround.** "Walk me through the last time you needed this report." Ask who built it, how long it took, what broke. Write down hours and people.
2. **Minutes 10–18 — the cost of the problem.** "What happened when the report was late?" You are looking for a consequence with money attached: a lost shipment claim, a penalty, overtime.
3. **Minutes 18–25 — the budget path.** "If you wanted to fix this next quarter, whose budget would it come from? Who signs?" This tells you whether you are talking to the right person.
4. **Minutes 25–30 — price, indirectly.** Use the four Van Westendorp questions: at what price is it *too cheap to trust*, *a bargain*, *getting expensive*, *too expensive to consider*?

### How many, and with whom

- **12–15 accounts**, split by size, is usually enough to see the ranges settle.
- The champion for steps 1–2, the **budget holder** for steps 3–4. If you can only get one, get the budget holder: champions overestimate what their company will pay.

### Cheaper signals

- A **pilot price on the order form** beats any fake door in B2B: the question is not "would you click" but "would you sign".
- Put the add-on in the renewal quote of five accounts as a line item they can strike out. Count who strikes it.""",
            ratings={"member": 5, "benc": 5, "zeyu_li": 4, "alicec": 5, "priyan": 4},
            threads=(
                Thread(
                    author="benc",
                    body="The renewal-quote trick is great. One caution: tell the account manager first, or they will strike it out for the customer to protect the renewal.",
                    replies=(
                        Reply(
                            author="kavyar",
                            body="Ha, yes — learned that one the hard way.",
                        ),
                    ),
                ),
                Thread(
                    author="member",
                    body="Van Westendorp with only 12 accounts — do you trust the curves, or just read the answers one by one?",
                    replies=(
                        Reply(
                            author="kavyar",
                            body="One by one at that size. The curves are for when you have 50+. With 12 you're looking for the range where 'getting expensive' clusters.",
                        ),
                    ),
                ),
            ),
        ),
        AnswerData(
            author="zeyu_li",
            body="""## 从销售的角度补充几点

我做了六年 B2B 销售，后来转产品。定价访谈里最容易被忽略的是：**客户说“愿意付”和采购流程允许付，是两件事。**

- 先问清楚对方公司**不需要走招标**的金额上限是多少。很多物流公司是 5 万元或 1 万美元以下部门可以自己批，超过就要走采购，周期三个月起。你的定价如果刚好卡在线上面一点，成交率会断崖式下降。
- 试点价不要打折，**改成按月付、可随时取消**。打折会锚定以后的价格；按月付降低的是风险，不是价值。
- 拒付试点发票的那两家，一定要回访。通常原因不是价格，而是“没人负责用它”。

最后，定价给销售的时候附上一页**为什么是这个数**的说明。销售不相信的价格，一定会被打折卖出去。""",
            ratings={"member": 5, "kavyar": 4, "benc": 4, "haoran": 5},
            threads=(
                Thread(
                    author="member",
                    body="The procurement threshold is exactly what I missed — one of the two refusals was a company where anything over $10k goes to tender. Thank you.",
                ),
            ),
        ),
        AnswerData(
            author="benc",
            body="""Adding one thing nobody has said yet: **decide your packaging before the interviews**, not after.

An add-on can be priced per account, per seat, or per shipment volume. Each one makes different customers unhappy:

- *per account* — small customers feel it is expensive;
- *per seat* — customers share logins;
- *per volume* — finance cannot predict the bill.

Pick the metric that grows with the value the customer gets (for a reporting add-on in logistics, probably shipment volume with a floor), then interview about the price of *that*.""",
            ratings={"member": 4, "kavyar": 4, "faridh": 3},
        ),
    ),
)

ONBOARDING_WEEK = Brief(
    asker="jiayi",
    title="新成员入群第一周 70% 没有发过言，破冰流程该怎么设计？",
    background="""我们是一个 600 人左右的产品经理社群（微信群 + 知识星球），每月新进 80–100 人。

现在的新人流程是：入群欢迎语 → 发一份群规 PDF → 邀请做自我介绍。统计下来：

- 第一周有发言（含自我介绍）的只有 **30%**；
- 第一周发过言的人，三个月后仍然活跃的比例是没发言者的 **3 倍**。

我们试过在欢迎语里 @ 新人，效果不明显，还有人觉得被点名有压力。""",
    wanted="""想要一套可以直接落地的“第一周”流程：每天做什么、谁来做、话术示例；以及怎么衡量它有没有用。""",
    needs=("Community operations", "策划", "文案"),
    week=0,
    challenge=True,
    answers=(
        AnswerData(
            author="moderator",
            body="""## 第一周的目标不是“发言”，是“被回应一次”

我们社群做过同样的统计：新人第一周**发了言但没人回**，三个月后的活跃率和没发言的人几乎一样。所以流程要保证的是：每个新人第一周至少被一个老成员认真回应一次。

### 第一周日程

| 时间 | 做什么 | 谁来做 |
|---|---|---|
| 第 1 天 | 私信欢迎 + 一个具体的小问题（“你最近在做的项目是什么？”） | 值班运营 |
| 第 2 天 | 把新人的回答整理成一句话，在群里介绍给**两位背景相近的老成员** | 值班运营 |
| 第 3 天 | 邀请回答一个低门槛的话题（“推荐一个你常用的工具”） | 话题主持人 |
| 第 5 天 | 每周新人合集：本周新人一人一句话介绍 | 值班运营 |
| 第 7 天 | 私信问一句“这周有没有哪条讨论对你有用？” | 值班运营 |

### 几个细节

- **不要在群里 @ 新人**，改成私信。公开点名的压力比想象中大。
- 第 2 天的“介绍给两位老成员”是整套流程的核心，老成员名单要提前约好，每人每月最多接 3 位。
- 群规 PDF 没人看，换成**三条最重要的规则**直接写在欢迎私信里。

### 怎么衡量

- 主指标：第一周**被回应过**的新人比例（目标 80%）；
- 结果指标：入群第 30 天、第 90 天的活跃率，按月对比。""",
            ratings={
                "jiayi": 5,
                "tiantian": 5,
                "rosaa": 4,
                "xinran": 5,
                "organiser": 5,
                "jingyi": 4,
            },
            threads=(
                Thread(
                    author="tiantian",
                    body="“被回应一次”这个指标太好了，比“发言率”更接近我们真正想要的东西。",
                    replies=(
                        Reply(
                            author="jiayi",
                            body="同感。老成员名单每月怎么维护？会不会过两个月就没人愿意接了？",
                        ),
                        Reply(
                            author="moderator",
                            body="我们给接待新人的老成员在月度答案评选里加一点权重，另外每月公开感谢一次。目前坚持了八个月。",
                        ),
                    ),
                ),
                Thread(
                    author="xinran",
                    body="第 3 天的低门槛话题有没有一个题库可以参考？",
                ),
            ),
        ),
        AnswerData(
            author="rosaa",
            body="""## Make the first post cheap

People stay silent in week one because writing a good self-introduction is **expensive**: they worry about sounding junior, or too salesy. Lower the cost:

- Replace "introduce yourself" with a **fill-in-the-blank** template: *"I work on ___ at a ___ company. This month I'm stuck on ___."* The third blank is the important one: it gives others something to reply to.
- Post **three example introductions** from existing members right before the newcomers join, so the norm is visible.
- Let people introduce themselves **in a weekly thread**, not in the main chat, where their message will scroll away in minutes.

And measure the reply, not the post: a newcomer whose first message gets a real answer within 24 hours is the one who comes back.""",
            ratings={"jiayi": 4, "moderator": 5, "tiantian": 4, "gracel": 4},
        ),
        AnswerData(
            author="tiantian",
            body="""## 话术示例

补充几条我们实际在用的私信话术，可以直接改：

**第 1 天**

> 欢迎来到产品运营实战圈！我是本周值班的甜甜。想先问你一个问题：你最近手上在推进的项目是什么？一句话就好，我想帮你介绍两位做过类似事情的老朋友。

**第 7 天**

> 你加入一周啦。这周群里有没有哪条讨论对你有帮助？如果还没找到感兴趣的，告诉我你关心什么，我把往期最好的三个答案发给你。

### 注意

- 话术里**不要出现“活跃”“打卡”这类词**，听起来像 KPI；
- 每条私信只问**一个**问题。""",
            ratings={"jiayi": 5, "moderator": 4, "rosaa": 4, "yuxuan": 5},
            threads=(
                Thread(
                    author="yuxuan",
                    body="“不要出现活跃、打卡”这条太真实了，我们的欢迎语里就有“欢迎每天打卡”。",
                ),
            ),
        ),
    ),
)

CHECKLIST = Brief(
    asker="alicec",
    title="Cutting onboarding from 7 steps to 3: how do we decide which steps to keep?",
    background="""I lead growth at a personal-finance app with about 45,000 weekly active users. Our onboarding checklist has seven steps:

1. connect a bank account
2. set a monthly budget
3. pick spending categories
4. turn on notifications
5. invite a partner
6. set a savings goal
7. import last month's transactions

Only **18%** of new users finish all seven. Design wants to cut the checklist to three steps, and every team has a favourite step it wants to keep.""",
    wanted="""A way to decide with the data we already have (six months of event logs), and how to test the cut safely without hurting week-4 retention.""",
    needs=("Growth marketing", "数据分析", "交互设计"),
    week=0,
    invite=("member", "umas"),
    answers=(
        AnswerData(
            author="noahb",
            body="""## Find the steps that predict week-4 retention — then check they cause it

### 1. Correlation first (one afternoon)

For every step, compare week-4 retention of users who completed it in their first 3 days with those who did not:

```sql
select step,
       avg(case when retained_w4 then 1.0 else 0 end) filter (where done) as with_step,
       avg(case when retained_w4 then 1.0 else 0 end) filter (where not done) as without_step
from onboarding_steps
group by step
order by with_step - without_step desc;
```

### 2. Remove the obvious confounders

Users who **import last month's transactions** are probably already committed people. Control for signup source and for whether they connected a bank: a step that only looks good because committed users do it is not a step that makes users committed.

### 3. Test the cut as a holdout

- Ship the 3-step checklist to **80%** of new users and keep the 7-step one for 20%;
- Keep the four removed steps available **later**, as contextual prompts (e.g. suggest a savings goal after the first month of budgeting);
- Decide on week-4 retention, not checklist completion: completion will go up by construction.""",
            ratings={"alicec": 5, "priyan": 4, "shihan": 4, "danielo": 5, "member": 4},
            threads=(
                Thread(
                    author="priyan",
                    body="How long would you run the holdout? Week-4 retention means at least five weeks before you can read anything.",
                    replies=(
                        Reply(
                            author="noahb",
                            body="Six weeks minimum. Watch day-7 retention as an early warning and stop the test if it drops by more than a couple of points.",
                        ),
                    ),
                ),
            ),
        ),
        AnswerData(
            author="shihan",
            body="""## 从交互的角度：不是砍掉，是**挪后**

七步里至少有三步，本身不属于“第一次打开”的任务：

- **邀请伴侣**：用户还没确认这个 App 好用，不会拉另一个人进来；
- **设置储蓄目标**：需要先看到自己的消费数据，才知道目标定多少；
- **开通知**：在用户还没感受到价值时请求权限，拒绝率最高。

建议保留**连接账户 → 设预算 → 选分类**三步作为 onboarding，其余四步改成**在合适时刻出现的提示**：比如第一次超预算时再问要不要开通知。

另外，清单上**已经完成的步骤要立刻打勾**并给一个小反馈，这对完成率的影响比步数本身还大。""",
            ratings={"alicec": 4, "noahb": 4, "chloem": 5, "kexin": 4},
        ),
        AnswerData(
            author="priyan",
            body="""One more angle: **ask the users who finished all seven** which steps they would have skipped. We did a one-question in-app survey ("Which of these could we have asked you later?") and got 1,200 answers in three days.

The results matched the retention analysis for five of seven steps, and the two disagreements were the interesting part — worth a few interviews before you cut.""",
            ratings={"alicec": 4, "noahb": 3, "umas": 4},
        ),
    ),
)

PRICE_RISE = Brief(
    asker="haoran",
    title="年度会员从 299 涨到 399，怎么和老会员沟通才不掉粉？",
    background="""我们的知识星球运营了三年，年费一直是 299 元。明年内容和服务都会加（新增每月一次线下活动、问答整理成册），成本上涨，决定新会员涨到 399 元。

老会员怎么处理还没定：一种意见是老会员续费永远 299，另一种是给一年过渡期。我担心的是公告一发，评论区变成吐槽大会。""",
    wanted="""- 老会员的价格策略，各自的利弊；
- 涨价公告的结构和措辞，最好有示例；
- 公告之后一周内，怎么回应负面反馈。""",
    needs=("文案", "Brand strategy"),
    week=1,
)

EXCLUSIVE_DEAL = Brief(
    asker="zeyu_li",
    title="渠道方要求独家合作 12 个月，换取首页推荐位，该不该签？",
    background="""一个垂直招聘平台想和我们社群合作：他们在 App 首页给我们一个推荐位（预估每月带来 150–200 个新付费会员），条件是 12 个月内我们不能和其他招聘平台合作。

目前我们和另外两个平台有零散合作，每月合计带来 40 个左右的会员。""",
    wanted="""判断这类独家条款的思路：哪些数字要先算清楚，合同里哪些条款必须争取（比如退出机制、数据归属）。""",
    needs=("渠道资源整合", "Sales"),
)

CONTENT_SPLIT = Brief(
    asker="gracel",
    title="A three-person ops team: how should we split weekly content between Xiaohongshu and WeChat?",
    background="""We are three people running content for a design-tools startup. WeChat (official account + groups) brings most of our paying users; Xiaohongshu brings most of the new followers, but few of them convert.

Right now each of us writes for both channels and nothing is done well.""",
    wanted="""How would you split the work and the weekly calendar between the two channels, and what would you measure to decide whether Xiaohongshu is worth it at all?""",
    needs=("Community operations", "Copywriting"),
)

BRIEFS = (RETENTION, PRICING, ONBOARDING_WEEK, CHECKLIST, PRICE_RISE, EXCLUSIVE_DEAL, CONTENT_SPLIT)


def load(*, community: Community, moderator: Membership) -> None:
    """Write the week of questions into ``community`` (see the module docstring).

    The demo's notifications stay in the portal (unread counts, the list) but are not
    e-mailed: they are marked as handled before the transaction commits, so the e-mail task
    — run in-process or by a worker — finds nothing to send (notifications.email skips a
    notification with ``emailed_at`` set). Call inside a transaction.
    """
    started = timezone.now()
    members = {  # by account name: handles are pseudonyms the members may change
        m.user.username: m
        for m in Membership.objects.filter(community=community).select_related("profile", "user")
    }
    this_week = weeks.start_of(community)
    # Briefs are written ahead: a brief may go into a week only if it was submitted at least
    # brief_lead_days before the week starts. The demo writes them "now", so the scheduled
    # ones are dated back to a moment before this week's deadline (which is before next
    # week's too), as if they had been submitted in time.
    in_time = weeks.brief_deadline(community, this_week) - datetime.timedelta(days=2)
    for n, brief in enumerate(BRIEFS):
        _brief(brief, n, community, moderator, members, this_week, in_time, started)
    session = community.sessions.filter(week=this_week).first()
    if session is not None and not session.announcement:
        services.session_announce(
            moderator=moderator, community=community, week=this_week, text=ANNOUNCEMENT
        )
    Notification.objects.filter(
        community=community, emailed_at__isnull=True, created_at__gte=started
    ).update(emailed_at=timezone.now())


def _brief(
    brief: Brief,
    n: int,
    community: Community,
    moderator: Membership,
    members: dict[str, Membership],
    this_week: datetime.date,
    in_time: datetime.datetime,
    now: datetime.datetime,
) -> None:
    question = Question.objects.filter(community=community, title=brief.title).first()
    if question is None:
        question = services.question_create(
            author=members[brief.asker],
            title=brief.title,
            background=brief.background,
            wanted=brief.wanted,
            needs=list(brief.needs),
        )
        # In time for its week, or (waiting in the queue) a few hours to a day ago.
        submitted = (
            in_time - datetime.timedelta(hours=7 * n)
            if brief.week is not None
            else now - datetime.timedelta(hours=3 + 4 * n)
        )
        Question.objects.filter(pk=question.pk).update(submitted_at=submitted, created_at=submitted)
        question.refresh_from_db()
    if brief.week is not None and question.state == Question.State.SUBMITTED:
        week = this_week + datetime.timedelta(days=7 * brief.week)
        question = services.question_schedule(moderator=moderator, question=question, week=week)
    if brief.challenge and not question.is_challenge:
        services.question_set_challenge(moderator=moderator, question=question, is_challenge=True)
    if question.session is None or weeks.ends_at(community, question.session.week) <= now:
        return  # not published, or its week is over: nothing more can be written to it
    invited = set(question.invitations.values_list("invitee__user__username", flat=True))
    if missing := [members[h].pk for h in brief.invite if h not in invited]:
        services.invitations_create(moderator=moderator, question=question, invitees=missing)
    begins = weeks.begins_at(community, question.session.week)
    for i, data in enumerate(brief.answers):
        # Spread the answers (and their discussion) over the part of the week gone by.
        written = begins + (now - begins) * (i + 1) / (len(brief.answers) + 2)
        _answer(data, question, members, written, now)
    # Invitations are sent when the question is scheduled: date them so.
    Invitation.objects.filter(question=question, created_at__gte=now).update(created_at=begins)


def _answer(
    data: AnswerData,
    question: Question,
    members: dict[str, Membership],
    written: datetime.datetime,
    now: datetime.datetime,
) -> None:
    author = members[data.author]
    answer = Answer.objects.filter(question=question, author=author).first()
    if answer is None:
        answer = services.answer_create(author=author, question=question, body=data.body)
        Answer.objects.filter(pk=answer.pk).update(created_at=written, updated_at=written)
        answer.revisions.update(created_at=written)
    step = (now - written) / (2 * len(data.threads) + 3)
    moment = written
    for thread in data.threads:
        moment += step
        parent = _comment(answer, members[thread.author], thread.body, None, moment)
        for reply in thread.replies:
            moment += step / (len(thread.replies) + 1)
            _comment(answer, members[reply.author], reply.body, parent, moment)
    rated = set(answer.ratings.values_list("rater__user__username", flat=True))
    for handle, stars in data.ratings.items():
        if handle not in rated:
            services.rating_set(rater=members[handle], answer=answer, stars=stars)


def _comment(
    answer: Answer,
    author: Membership,
    body: str,
    parent: Comment | None,
    moment: datetime.datetime,
) -> Comment:
    comment = Comment.objects.filter(answer=answer, author=author, body=body.strip()).first()
    if comment is None:
        comment = services.comment_create(author=author, answer=answer, body=body, parent=parent)
        Comment.objects.filter(pk=comment.pk).update(created_at=moment)
    return comment
