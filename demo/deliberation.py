"""Notices and deliberation in the demo city, written through the services.

For the demo's ``chief``, ``community`` and ``street`` logins: a notice of the street, one of the
community and one of the alley, published; a closed topic (bicycle racks, 自行车停放点) with votes,
approved comments and its outcome; an open topic (a change to the alley's convention) with a few
votes and a comment waiting for the community. Votes come from made-up numbers, stored as digests
like any vote. No SMS is sent: nobody in the demo subscribes. Idempotent: when the demo community
has any topic, nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from alleys.models import Area
from participation.deliberation import (
    comment_moderate,
    topic_close,
    topic_comment,
    topic_create,
    topic_open,
    topic_record_outcome,
    topic_vote,
)
from participation.models import Topic
from participation.notices import notice_create, notice_publish

from .city import demo_anchors

# (who, which anchor, days ago, title, body)
NOTICES: tuple[tuple[str, str, int, str, str], ...] = (
    (
        "street",
        "street",
        9,
        "古城片区夜间施工降噪安排",
        "中山路管线改造本月夜间施工，22:00 后停止高噪声作业。如有噪声扰民，请在“反映问题”中提交，或拨打街道值班电话。",
    ),
    (
        "community",
        "community",
        4,
        "社区垃圾分类督导员招募",
        "社区招募垃圾分类督导志愿者，每周值守两个早晨。有意者请到社区服务站报名。",
    ),
    (
        "chief",
        "alley",
        1,
        "本周六上午巷内集中清扫",
        "本周六 8:00-10:00 巷内集中清扫，请把堆放在巷道里的杂物收回家中，电动车暂停在巷口。",
    ),
)
VOTERS = [f"1990000{i:04d}" for i in range(1, 40)]


def seed_deliberation(*, now: dt.datetime | None = None) -> int:
    """Write the demo's notices and topics unless the community has topics already; return topics written."""
    now = now or timezone.now()
    users = get_user_model().objects
    people: dict[str, Any] = {
        name: users.filter(username=name).first() for name in ("chief", "community", "street")
    }
    anchors = demo_anchors()
    areas = {
        key: Area.objects.filter(code=getattr(anchors, key).code).first()
        for key in ("street", "community", "alley")
    }
    community, alley = areas["community"], areas["alley"]
    if any(v is None for v in (*people.values(), *areas.values())):
        return 0
    assert community is not None and alley is not None
    if Topic.objects.filter(area__code__startswith=community.code).exists():
        return 0
    with transaction.atomic():
        for who, where, days, title, body in NOTICES:
            area = areas[where]
            assert area is not None
            at = now - dt.timedelta(days=days)
            notice = notice_create(user=people[who], area=area, title=title, body=body, now=at)
            notice_publish(notice=notice, user=people[who], now=at)
        _closed_topic(people["community"], alley, now)
        _open_topic(people["chief"], people["community"], alley, now)
    return 2


def _closed_topic(staff: Any, alley: Area, now: dt.datetime) -> None:
    start = now - dt.timedelta(days=20)
    topic = topic_create(
        user=staff,
        area=alley,
        title="巷内自行车停放点设在哪里？",
        body="巷道窄，自行车和电动车乱停影响通行。社区准备设一处停放架，请大家从三个位置中选一处。",
        options=["巷口空地（靠中山路）", "菜市场旁边的闲置角落", "巷中段老井旁"],
        closes_at=now - dt.timedelta(days=6),
        now=start,
    )
    topic_open(topic=topic, user=staff, now=start)
    options = list(topic.options.all())
    # 21 / 11 / 5: the alley's mouth wins.
    split = [options[0]] * 21 + [options[1]] * 11 + [options[2]] * 5
    for i, (phone, option) in enumerate(zip(VOTERS, split, strict=False)):
        topic_vote(topic=topic, option=option.pk, phone=phone, now=start + dt.timedelta(hours=3 * i + 1))
    for i, text in enumerate(
        ("巷口宽一些，早上推车出去方便。", "菜市场旁边晚上没有灯，不安全。", "希望停放架加个雨棚。")
    ):
        comment = topic_comment(
            topic=topic, phone=VOTERS[i], body=text, now=start + dt.timedelta(days=1, hours=i)
        )
        comment_moderate(comment=comment, user=staff, approve=True, now=start + dt.timedelta(days=2))
    closed = now - dt.timedelta(days=6)
    topic_close(topic=topic, user=staff, now=closed)
    topic_record_outcome(
        topic=topic,
        user=staff,
        outcome="37 位居民参与投票，21 票选巷口空地。社区将在巷口空地安装停放架（加装雨棚），下月完工后在本页告知。",
        now=closed + dt.timedelta(days=2),
    )


def _open_topic(chief: Any, staff: Any, alley: Area, now: dt.datetime) -> None:
    start = now - dt.timedelta(days=2)
    topic = topic_create(
        user=chief,
        area=alley,
        title="街巷公约增加一条：晚上十点后不在巷内大声喧哗",
        body="有居民反映夜间巷内聊天、放音乐声音大。巷长提议在街巷公约中增加这一条，请大家表态。",
        options=["同意增加", "不同意", "同意，但改为十一点"],
        closes_at=now + dt.timedelta(days=5),
        now=start,
    )
    topic_open(topic=topic, user=chief, now=start)
    options = list(topic.options.all())
    for i, option in enumerate([options[0]] * 6 + [options[2]] * 3 + [options[1]]):
        topic_vote(topic=topic, option=option.pk, phone=VOTERS[i], now=start + dt.timedelta(hours=2 * i + 1))
    approved = topic_comment(
        topic=topic, phone=VOTERS[0], body="支持，老人小孩要早睡。", now=start + dt.timedelta(hours=5)
    )
    comment_moderate(comment=approved, user=staff, approve=True, now=start + dt.timedelta(hours=8))
    topic_comment(topic=topic, phone=VOTERS[1], body="周末能不能放宽一点？", now=now - dt.timedelta(hours=3))
