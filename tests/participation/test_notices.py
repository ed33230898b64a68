"""participation/notices.py: who publishes where, the states, plain text, and the SMS to subscribers."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from core.sms import MemoryBackend, Sms, SmsError
from participation import notices
from participation.models import Notice, NoticeSms, NoticeSmsState, NoticeState, NoticeSubscription
from participation.phones import SESSION_KEY
from participation.tasks import relay, send_notice_sms
from tests.participation.conftest import People

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 6, 15, 10, 0))
A1, A2, B1 = "13800000001", "13800000002", "13800000003"


def draft(people: People, area: str = "d1s1c1a1", user: object = None, **kw: object) -> Notice:
    values: dict[str, object] = {
        "user": user or people.community,
        "area": people.tree[area],
        "title": "停水通知",
        "body": "6 月 20 日 8:00-12:00 管道检修停水。",
        "now": NOW,
    }
    values.update(kw)
    return notices.notice_create(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("who", "area", "may"),
    [
        ("chief", "d1s1c1a1", True),
        ("chief", "d1s1c1a2", False),  # another alley
        ("chief", "d1s1c1", False),  # the chief's community
        ("deputy", "d1s1c1a1", False),  # only the chief publishes for the alley
        ("community", "d1s1c1", True),
        ("community", "d1s1c1a2", True),  # its alleys
        ("community", "d1s1c2a1", False),  # another community's alley
        ("community", "d1s1", False),  # the street above
        ("street", "d1s1", True),
        ("street", "d1s1c2a2", True),
        ("far_street", "d1s1", False),
        ("dept", "d1s1c1a1", False),
        ("superuser", "d1s1", True),
    ],
)
def test_who_writes_notices_for_which_area(people: People, who: str, area: str, may: bool) -> None:
    user = getattr(people, who)
    if may:
        assert draft(people, area, user=user).state == NoticeState.DRAFT
    else:
        with pytest.raises(ActionForbidden):
            draft(people, area, user=user)


def test_the_states_draft_published_withdrawn_in_one_table(people: People) -> None:
    notice = draft(people)
    assert notices.allowed_transitions(notice, people.community) == ["edit", "publish"]
    assert notices.allowed_transitions(notice, people.other_community) == []
    with pytest.raises(ActionRefused, match="不能撤回"):
        notices.notice_withdraw(notice=notice, user=people.community, now=NOW)
    notice = notices.notice_publish(notice=notice, user=people.community, now=NOW)
    assert notice.published_at == NOW
    with pytest.raises(ActionRefused, match="不能发布"):
        notices.notice_publish(notice=notice, user=people.community, now=NOW)
    notices.notice_withdraw(notice=notice, user=people.street, now=NOW)
    assert Notice.objects.get().state == NoticeState.WITHDRAWN
    with pytest.raises(ActionRefused):
        notices.notice_edit(notice=notice, user=people.community, title="x", body="y", now=NOW)


def test_markup_and_empty_text_are_refused(people: People) -> None:
    with pytest.raises(ActionInvalid, match="网页代码") as info:
        draft(people, body="<script>alert(1)</script>")
    assert info.value.field == "body"
    with pytest.raises(ActionInvalid, match="标题"):
        draft(people, title="  ")
    with pytest.raises(ActionInvalid, match="范围"):
        draft(people, "d1", user=people.superuser)


def test_public_notices_of_an_alley_are_its_own_its_communitys_and_its_streets(people: People) -> None:
    mine = [draft(people, code, user=people.superuser, title=code) for code in ("d1s1c1a1", "d1s1c1", "d1s1")]
    others = [draft(people, code, user=people.superuser, title=code) for code in ("d1s1c1a2", "d1s1c2")]
    for n in [*mine, *others]:
        notices.notice_publish(notice=n, user=people.superuser, now=NOW)
    expired = draft(people, "d1s1c1", user=people.superuser, expires_at=NOW + dt.timedelta(days=1))
    notices.notice_publish(notice=expired, user=people.superuser, now=NOW)
    draft(people, "d1s1c1a1", user=people.superuser, title="still a draft")
    later = NOW + dt.timedelta(days=2)
    shown = set(
        Notice.objects.public(later).reaching(people.tree["d1s1c1a1"]).values_list("title", flat=True)
    )
    assert shown == {"d1s1c1a1", "d1s1c1", "d1s1"}


# --- SMS to subscribers ---------------------------------------------------------------------------------


def subscribe(people: People, phone: str, area: str) -> NoticeSubscription:
    return notices.subscription_create(phone=phone, area=people.tree[area], now=NOW)


def test_a_street_notice_reaches_the_subscribers_under_the_street_once_each(
    people: People, sms_outbox: list[Sms], django_capture_on_commit_callbacks: object
) -> None:
    subscribe(people, A1, "d1s1c1a1")
    subscribe(people, A1, "d1s1c1")  # the same number twice under the street: one message
    subscribe(people, A2, "d1s1c2a2")
    subscribe(people, B1, "d1s2c1a1")  # another street
    unsubscribed = "13800000009"
    subscribe(people, unsubscribed, "d1s1c1a1")
    assert notices.subscription_delete(phone=unsubscribed, area=people.tree["d1s1c1a1"])
    notice = draft(people, "d1s1", user=people.street)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        notices.notice_publish(notice=notice, user=people.street, now=NOW)
    assert sorted(s.phone for s in sms_outbox) == [A1, A2]
    assert all(notice.title in s.text and s.template == "notice" for s in sms_outbox)
    assert set(NoticeSms.objects.values_list("state", flat=True)) == {NoticeSmsState.SENT}
    # The task run again (a redelivered message) and the relay send nothing more.
    send_notice_sms.delay(notice.pk)
    relay.delay()
    assert len(sms_outbox) == 2


def test_an_alley_notice_does_not_reach_the_community_subscribers(
    people: People, sms_outbox: list[Sms], django_capture_on_commit_callbacks: object
) -> None:
    subscribe(people, A1, "d1s1c1")
    subscribe(people, A2, "d1s1c1a1")
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        notices.notice_publish(
            notice=draft(people, "d1s1c1a1", user=people.chief), user=people.chief, now=NOW
        )
    assert [s.phone for s in sms_outbox] == [A2]


def test_a_failed_send_is_relayed_later(
    people: People, sms_outbox: list[Sms], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(people, A1, "d1s1c1a1")
    calls = {"n": 0}
    real = MemoryBackend.send

    def flaky(self: MemoryBackend, sms: Sms) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise SmsError("provider timeout")
        return real(self, sms)

    monkeypatch.setattr(MemoryBackend, "send", flaky)
    caplog.set_level(logging.INFO)
    notice = draft(people)
    notices.notice_publish(notice=notice, user=people.community, now=NOW)
    assert notices.notice_sms_deliver(notice_id=notice.pk, now=NOW) == 0
    row = NoticeSms.objects.get()
    assert row.state == NoticeSmsState.PENDING and row.attempts == 1 and row.next_attempt_at > NOW
    assert notices.notice_sms_deliver(now=NOW + dt.timedelta(minutes=1)) == 0  # not yet due
    assert notices.notice_sms_deliver(now=NOW + dt.timedelta(minutes=6)) == 1
    assert [s.phone for s in sms_outbox] == [A1]
    assert NoticeSms.objects.get().state == NoticeSmsState.SENT
    assert A1 not in caplog.text


def test_a_number_gets_at_most_the_daily_cap(
    people: People, sms_outbox: list[Sms], settings: Settings
) -> None:
    settings.JXT_NOTICE_SMS_PER_NUMBER_DAY = 2
    subscribe(people, A1, "d1s1c1a1")
    for i in range(3):
        notice = draft(people, title=f"通知{i}")
        notices.notice_publish(notice=notice, user=people.community, now=NOW)
        notices.notice_sms_deliver(notice_id=notice.pk, now=NOW + dt.timedelta(minutes=i))
    assert len(sms_outbox) == 2
    assert NoticeSms.objects.filter(state=NoticeSmsState.CAPPED).count() == 1


def test_withdrawing_drops_what_was_not_sent(people: People, sms_outbox: list[Sms]) -> None:
    subscribe(people, A1, "d1s1c1a1")
    notice = draft(people)
    notices.notice_publish(notice=notice, user=people.community, now=NOW)
    notices.notice_withdraw(notice=notice, user=people.community, now=NOW)
    assert notices.notice_sms_deliver(now=NOW) == 0
    assert sms_outbox == []


def test_one_subscription_per_number_and_area(people: People) -> None:
    first = subscribe(people, A1, "d1s1c1a1")
    assert subscribe(people, "+86 138 0000 0001", "d1s1c1a1").pk == first.pk
    assert NoticeSubscription.objects.count() == 1


# --- the pages -------------------------------------------------------------------------------------------


def verified(client: Client, phone: str = A1) -> Client:
    session = client.session
    session[SESSION_KEY] = {"phone": phone, "until": (timezone.now() + dt.timedelta(minutes=30)).timestamp()}
    session.save()
    return client


def test_subscribing_needs_a_verified_phone_and_consent_and_shows_it_masked(people: People) -> None:
    alley = people.tree["d1s1c1a1"]
    url = f"{reverse('notice-subscribe')}?area={alley.code}"
    client = Client()
    assert "验证手机号" in client.get(url).content.decode()
    assert client.post(url, {"area": alley.code, "consent": "yes"})["Location"].startswith(
        reverse("phone-start")
    )
    verified(client)
    client.post(url, {"area": alley.code})  # no consent
    assert not NoticeSubscription.objects.exists()
    page = client.post(url, {"area": alley.code, "consent": "yes"}, follow=True).content.decode()
    assert "138****0001" in page and A1 not in page and alley.name in page
    client.post(url, {"area": alley.code, "consent": "yes"})  # a second click: the same row
    assert NoticeSubscription.objects.get().phone == A1
    client.post(reverse("notice-subscriptions"), {"area": alley.code})
    assert not NoticeSubscription.objects.exists()


def test_the_alley_page_shows_the_newest_notices_of_the_alley_community_and_street(people: People) -> None:
    for i, code in enumerate(("d1s1", "d1s1c1", "d1s1c1a1", "d1s1c2")):
        n = draft(people, code, user=people.superuser, title=f"通知{code}")
        notices.notice_publish(
            notice=n, user=people.superuser, now=timezone.now() - dt.timedelta(hours=4 - i)
        )
    page = Client().get(reverse("public-alley", kwargs={"code": "350501001001001"})).content.decode()
    assert page.index("通知d1s1c1a1<") < page.index("通知d1s1c1<") < page.index("通知d1s1<")
    assert "通知d1s1c2" not in page
    detail = Client().get(reverse("notice-detail", kwargs={"pk": Notice.objects.get(title="通知d1s1").pk}))
    assert detail.status_code == 200
    hidden = draft(people)
    assert Client().get(reverse("notice-detail", kwargs={"pk": hidden.pk})).status_code == 404


def test_staff_notice_pages_per_role(
    people: People, sms_outbox: list[Sms], django_capture_on_commit_callbacks: object
) -> None:
    notices.subscription_create(phone=A1, area=people.tree["d1s1c1a2"])
    chief = Client()
    chief.force_login(people.chief)
    response = chief.post(
        reverse("staff:notice-new"),
        {"area": people.tree["d1s1c1a2"].pk, "title": "别人的巷", "body": "x", "send_sms": "on"},
    )
    assert response.status_code == 400  # not the chief's alley: not among the choices
    community = Client()
    community.force_login(people.community)
    response = community.post(
        reverse("staff:notice-new"),
        {"area": people.tree["d1s1c1a2"].pk, "title": "清扫通知", "body": "周六上午清扫。", "send_sms": "on"},
    )
    notice = Notice.objects.get()
    assert response["Location"] == reverse("staff:notice-detail", kwargs={"pk": notice.pk})
    assert chief.get(reverse("staff:notice-detail", kwargs={"pk": notice.pk})).status_code == 404
    assert (
        chief.post(reverse("staff:notice-action", kwargs={"pk": notice.pk, "action": "publish"})).status_code
        == 404
    )
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        community.post(reverse("staff:notice-action", kwargs={"pk": notice.pk, "action": "publish"}))
        community.post(reverse("staff:notice-action", kwargs={"pk": notice.pk, "action": "publish"}))  # again
    assert [s.phone for s in sms_outbox] == [A1]
    assert "清扫通知" in community.get(reverse("staff:notice-list")).content.decode()
    community.post(reverse("staff:notice-action", kwargs={"pk": notice.pk, "action": "withdraw"}))
    assert Notice.objects.get().state == NoticeState.WITHDRAWN
