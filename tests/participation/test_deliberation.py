"""participation/deliberation.py: who runs topics, the states, one vote per phone, moderation, the pages."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from alleys.choices import Role
from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from participation import deliberation as d
from participation import notices
from participation.models import CommentState, Topic, TopicComment, TopicState, TopicVote
from participation.phones import SESSION_KEY
from tests.factories import build_tree, make_actor
from tests.participation.conftest import People

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
LATER = NOW + dt.timedelta(days=7)
PHONE, OTHER = "13900000001", "13900000002"


def topic(people: People, area: str = "d1s1c1", user: object = None, **kw: object) -> Topic:
    values: dict[str, object] = {
        "user": user or people.community,
        "area": people.tree[area],
        "title": "自行车停放点设在哪里",
        "body": "巷口空地和菜市场旁边，选一处。",
        "options": ["巷口空地", "菜市场旁边"],
        "closes_at": LATER,
        "now": NOW,
    }
    values.update(kw)
    return d.topic_create(**values)  # type: ignore[arg-type]


def opened(people: People, **kw: Any) -> Topic:
    t = topic(people, **kw)
    return d.topic_open(topic=t, user=people.community, now=NOW)


@pytest.mark.parametrize(
    ("who", "area", "may"),
    [
        ("community", "d1s1c1", True),
        ("community", "d1s1c1a2", True),
        ("community", "d1s1c2", False),
        ("chief", "d1s1c1a1", True),  # the chief, for the alley
        ("chief", "d1s1c1", False),  # not for the community
        ("other_chief", "d1s1c1a1", False),
        ("deputy", "d1s1c1a1", False),
        ("street", "d1s1c1", False),  # the community runs deliberation, not the street
        ("superuser", "d1s1c1", True),
    ],
)
def test_who_starts_topics_where(people: People, who: str, area: str, may: bool) -> None:
    user = getattr(people, who)
    if may:
        assert topic(people, area, user=user).state == TopicState.DRAFT
    else:
        with pytest.raises(ActionForbidden):
            topic(people, area, user=user)


def test_options_two_to_six_plain_text_and_a_future_deadline(people: People) -> None:
    with pytest.raises(ActionInvalid, match="2 至 6"):
        topic(people, options=["只有一个"])
    with pytest.raises(ActionInvalid, match="2 至 6"):
        topic(people, options=[str(i) for i in range(7)])
    with pytest.raises(ActionInvalid, match="重复"):
        topic(people, options=["A", "A"])
    with pytest.raises(ActionInvalid, match="网页代码"):
        topic(people, options=["<b>A</b>", "B"])
    with pytest.raises(ActionInvalid, match="截止时间"):
        topic(people, closes_at=NOW - dt.timedelta(hours=1))
    with pytest.raises(ActionInvalid, match="街巷或社区"):
        topic(people, "d1s1", user=people.superuser)
    assert [o.label for o in topic(people, options=["A", " ", "B", "C"]).options.all()] == ["A", "B", "C"]


def test_the_states_and_the_outcome_only_once_closed(people: People) -> None:
    t = topic(people)
    assert d.allowed_transitions(t, people.community, now=NOW) == ["edit", "open"]
    with pytest.raises(ActionRefused, match="不能公布议事结果"):
        d.topic_record_outcome(topic=t, user=people.community, outcome="x", now=NOW)
    with pytest.raises(ActionRefused, match="不能截止投票"):
        d.topic_close(topic=t, user=people.community, now=NOW)
    d.topic_open(topic=t, user=people.community, now=NOW)
    with pytest.raises(ActionRefused, match="不能公布议事结果"):
        d.topic_record_outcome(topic=t, user=people.community, outcome="x", now=NOW)
    with pytest.raises(ActionForbidden):
        d.topic_close(topic=t, user=people.other_community, now=NOW)
    d.topic_close(topic=t, user=people.community, now=NOW + dt.timedelta(days=1))
    t.refresh_from_db()
    assert t.state == TopicState.CLOSED and t.closes_at == NOW + dt.timedelta(days=1)
    with pytest.raises(ActionInvalid, match="议事结果"):
        d.topic_record_outcome(topic=t, user=people.community, outcome="  ", now=LATER)
    d.topic_record_outcome(topic=t, user=people.community, outcome="设在巷口空地。", now=LATER)
    t.refresh_from_db()
    assert (t.state, t.outcome, t.outcome_by_id, t.outcome_at) == (
        TopicState.DECIDED,
        "设在巷口空地。",
        people.community.pk,
        LATER,
    )
    with pytest.raises(ActionRefused):
        d.topic_record_outcome(topic=t, user=people.community, outcome="改了", now=LATER)


def test_a_topic_past_its_deadline_is_closed_for_votes_and_by_the_relay(people: People) -> None:
    t = opened(people)
    option = t.options.first()
    assert option is not None
    with pytest.raises(ActionRefused, match="已截止"):
        d.topic_vote(topic=t, option=option.pk, phone=PHONE, now=LATER)
    # The outcome may be recorded once the deadline passed, relay or not.
    assert "outcome" in d.allowed_transitions(t, people.community, now=LATER)
    assert d.topics_close_due(now=LATER) == 1
    assert Topic.objects.get().state == TopicState.CLOSED


def test_one_vote_per_phone_per_topic(people: People) -> None:
    t = opened(people)
    first, second = t.options.all()
    d.topic_vote(topic=t, option=first.pk, phone=PHONE, now=NOW)
    with pytest.raises(ActionRefused, match="已经投过票"):
        d.topic_vote(topic=t, option=second.pk, phone=PHONE, now=NOW)
    d.topic_vote(topic=t, option=second.pk, phone=OTHER, now=NOW)
    other_topic = opened(people, title="另一个议题")
    d.topic_vote(topic=other_topic, option=other_topic.options.first().pk, phone=PHONE, now=NOW)  # type: ignore[union-attr]
    assert d.vote_counts(t) == {first.pk: 1, second.pk: 1}
    assert PHONE not in str(list(TopicVote.objects.values_list("phone_digest", flat=True)))
    with pytest.raises(ActionInvalid):
        d.topic_vote(topic=t, option=other_topic.options.first().pk, phone=OTHER, now=NOW)  # type: ignore[union-attr]


def test_votes_refused_on_drafts_and_closed_topics(people: People) -> None:
    t = topic(people)
    option = t.options.first()
    assert option is not None
    with pytest.raises(ActionRefused, match="不在投票期"):
        d.topic_vote(topic=t, option=option.pk, phone=PHONE, now=NOW)
    d.topic_open(topic=t, user=people.community, now=NOW)
    d.topic_close(topic=t, user=people.community, now=NOW)
    with pytest.raises(ActionRefused):
        d.topic_vote(topic=t, option=option.pk, phone=PHONE, now=NOW)
    assert TopicVote.objects.count() == 0


# Two threads writing at once need a database that makes the second wait: the SQLite test database lives in
# shared-cache memory, where a table lock fails at once ("database table is locked") instead of honouring the
# busy timeout the embedded default's file gets. The race is proved on PostgreSQL, as the ballots' is.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_double_submit_gives_one_row() -> None:
    tree = build_tree()
    community = make_actor(Role.COMMUNITY_STAFF, area=tree["d1s1c1"], username="c")
    t = d.topic_create(
        user=community,
        area=tree["d1s1c1"],
        title="t",
        body="b",
        options=["A", "B"],
        closes_at=LATER,
        now=NOW,
    )
    d.topic_open(topic=t, user=community, now=NOW)
    option = t.options.first()
    assert option is not None
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def vote() -> None:
        try:
            barrier.wait()
            d.topic_vote(topic=t.pk, option=option.pk, phone=PHONE, now=NOW)
            outcomes.append("ok")
        except ActionRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=vote) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert TopicVote.objects.count() == 1


def test_comments_wait_for_the_community(people: People) -> None:
    t = opened(people, area="d1s1c1a1", user=people.chief)
    c = d.topic_comment(topic=t, phone=PHONE, body="支持巷口空地", now=NOW)
    assert d.topic_comment(topic=t, phone=PHONE, body="支持巷口空地", now=NOW).pk == c.pk  # a double submit
    with pytest.raises(ActionInvalid, match="网页代码"):
        d.topic_comment(topic=t, phone=PHONE, body="<a href=x>看这里</a>", now=NOW)
    assert [x.pk for x in d.moderation_queue(people.community)] == [c.pk]
    assert d.moderation_queue(people.other_community) == []
    # The chief runs the alley's topic, but the community moderates.
    with pytest.raises(ActionForbidden):
        d.comment_moderate(comment=c, user=people.chief, approve=True, now=NOW)
    with pytest.raises(ActionForbidden):
        d.comment_moderate(comment=c, user=people.other_community, approve=True, now=NOW)
    d.comment_moderate(comment=c, user=people.community, approve=True, now=NOW)
    with pytest.raises(ActionRefused, match="审核过"):
        d.comment_moderate(comment=c, user=people.community, approve=False, now=NOW)
    assert TopicComment.objects.get().state == CommentState.APPROVED


# --- the pages -------------------------------------------------------------------------------------------


def verified(client: Client, phone: str = PHONE) -> Client:
    session = client.session
    session[SESSION_KEY] = {"phone": phone, "until": (timezone.now() + dt.timedelta(minutes=30)).timestamp()}
    session.save()
    return client


def test_the_topic_page_votes_once_and_shows_counts_only_after_closing(people: People) -> None:
    t = opened(people)
    first, second = t.options.all()
    client = Client()
    url = reverse("topic-detail", kwargs={"pk": t.pk})
    before = client.get(url).content.decode()
    assert "验证手机号后投票" in before and 'name="option"' not in before
    # Without a verified phone a vote goes to the verification first.
    response = client.post(reverse("topic-vote", kwargs={"pk": t.pk}), {"option": first.pk})
    assert response.status_code == 302 and response["Location"].startswith(reverse("phone-start"))
    verified(client)
    assert 'name="option"' in client.get(url).content.decode()
    client.post(reverse("topic-vote", kwargs={"pk": t.pk}), {"option": first.pk})
    page = client.post(reverse("topic-vote", kwargs={"pk": t.pk}), {"option": second.pk}, follow=True)
    text = page.content.decode()
    assert "已经投过票" in text and "139****0001 已投票" in text and PHONE not in text
    assert "各选项票数在投票截止后公布" in text and "1 票" not in text
    assert TopicVote.objects.count() == 1
    d.topic_close(topic=t, user=people.community)
    text = Client().get(url).content.decode()
    assert "1 票（100%）" in text and "0 票（0%）" in text


def test_pending_and_rejected_comments_are_not_public(people: People) -> None:
    t = opened(people)
    client = verified(Client())
    client.post(reverse("topic-comment", kwargs={"pk": t.pk}), {"body": "等审核的留言"})
    rejected = d.topic_comment(topic=t, phone=OTHER, body="不通过的留言")
    approved = d.topic_comment(topic=t, phone=OTHER, body="公开的留言")
    d.comment_moderate(comment=rejected, user=people.community, approve=False)
    d.comment_moderate(comment=approved, user=people.community, approve=True)
    text = Client().get(reverse("topic-detail", kwargs={"pk": t.pk})).content.decode()
    assert "公开的留言" in text and "等审核的留言" not in text and "不通过的留言" not in text
    assert OTHER not in text and "****" not in text
    bad = client.post(reverse("topic-comment", kwargs={"pk": t.pk}), {"body": "<script>x</script>"})
    assert bad.status_code == 400 and "网页代码" in bad.content.decode()


def test_drafts_are_not_public(people: People) -> None:
    t = topic(people)
    assert Client().get(reverse("topic-detail", kwargs={"pk": t.pk})).status_code == 404


def test_staff_pages_per_role(people: People) -> None:
    t = opened(people)
    d.topic_comment(topic=t, phone=PHONE, body="一条留言")
    community = Client()
    community.force_login(people.community)
    assert community.get(reverse("staff:topic-list")).status_code == 200
    assert "一条留言" in community.get(reverse("staff:topic-moderation")).content.decode()
    other = Client()
    other.force_login(people.other_community)
    assert other.get(reverse("staff:topic-detail", kwargs={"pk": t.pk})).status_code == 404
    assert "一条留言" not in other.get(reverse("staff:topic-moderation")).content.decode()
    response = community.post(reverse("staff:topic-action", kwargs={"pk": t.pk, "action": "close"}))
    assert response.status_code == 302
    community.post(
        reverse("staff:topic-action", kwargs={"pk": t.pk, "action": "outcome"}), {"outcome": "巷口"}
    )
    assert Topic.objects.get().state == TopicState.DECIDED
    new = community.post(
        reverse("staff:topic-new"),
        {
            "area": people.tree["d1s1c1a1"].pk,
            "title": "新议题",
            "body": "说明",
            "options": "甲\n乙",
            "closes_at": (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert new.status_code == 302 and Topic.objects.filter(title="新议题").exists()
    dept = Client()
    dept.force_login(people.dept)
    assert dept.get(reverse("staff:topic-new")).status_code == 403


def test_the_public_lists_take_a_constant_number_of_queries(
    people: People, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    alley = people.tree["d1s1c1a1"]

    def add(n: int) -> None:
        for i in range(n):
            t = opened(people, title=f"议题{i}{Topic.objects.count()}")
            d.topic_vote(topic=t, option=t.options.first().pk, phone=PHONE)  # type: ignore[union-attr]
            notice = notices.notice_create(user=people.community, area=alley, title=f"通知{i}", body="正文")
            notices.notice_publish(notice=notice, user=people.community)

    client = Client()
    urls = [
        f"{reverse('topic-list')}?area={alley.code}",
        f"{reverse('notice-list')}?area={alley.code}",
        reverse("public-alley", kwargs={"code": alley.code}),
    ]
    add(1)
    for url in urls:
        client.get(url)  # warm the process caches
    counts = []
    for n in (0, 5):
        add(n)
        for url in urls:
            with django_assert_max_num_queries(12) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
    assert counts[:3] == counts[3:]


def test_the_api_reads_scoped_and_acts_through_the_services(people: People) -> None:
    t = opened(people)
    d.topic_vote(topic=t, option=t.options.first().pk, phone=PHONE)  # type: ignore[union-attr]
    api = Client()
    api.force_login(people.community)
    listed = api.get("/api/v1/topics/").json()
    assert [row["id"] for row in listed["results"]] == [t.pk]
    assert sum(listed["results"][0]["votes"].values()) == 1
    outsider = Client()
    outsider.force_login(people.other_community)
    assert outsider.get(f"/api/v1/topics/{t.pk}/").status_code == 404
    assert (
        api.post(
            f"/api/v1/topics/{t.pk}/outcome/", {"outcome": "x"}, content_type="application/json"
        ).status_code
        == 409
    )
    assert api.post(f"/api/v1/topics/{t.pk}/close/", content_type="application/json").status_code == 200
    done = api.post(f"/api/v1/topics/{t.pk}/outcome/", {"outcome": "巷口"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["state"] == TopicState.DECIDED
    chief = Client()
    chief.force_login(people.chief)
    created = chief.post(
        "/api/v1/notices/",
        {"area": people.tree["d1s1c1a1"].code, "title": "通知", "body": "正文"},
        content_type="application/json",
    )
    assert created.status_code == 201
    wrong = chief.post(
        "/api/v1/notices/",
        {"area": people.tree["d1s1c1"].code, "title": "通知", "body": "正文"},
        content_type="application/json",
    )
    assert wrong.status_code in (400, 403)
    pk = created.json()["id"]
    assert (
        chief.post(f"/api/v1/notices/{pk}/publish/", content_type="application/json").json()["state"]
        == "published"
    )
