"""The taxonomy and dispatch-settings admins (issues/admin_categories.py, dispatch/admin.py).

They live here because they are built on alleys.admin.ScopedAdminMixin: the point under
test is who may read and who may write, per role.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from alleys.choices import AreaLevel
from dispatch.choices import CalendarDayKind
from dispatch.models import CalendarDay, CategoryClass, CategoryType, DeadlinePolicy, OrderSettings
from issues.choices import ChannelKind
from issues.models import Notification, NotificationChannel, SystemAlert

from .conftest import Actors

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any) -> str:
    return reverse(f"admin:{name}", args=args)


@pytest.fixture
def taxonomy(actors: Actors) -> CategoryType:
    klass = CategoryClass.objects.create(code="A", name="简单事项", top_tier=AreaLevel.COMMUNITY)
    lamp = CategoryType.objects.create(
        code="A01", name="路灯不亮", category_class=klass, keywords="照明", common=True
    )
    CategoryType.objects.create(
        code="A02", name="下水道堵塞", category_class=klass, top_tier=AreaLevel.STREET
    )
    DeadlinePolicy.objects.create(category_class=klass, tier=AreaLevel.ALLEY, accept_value=2, resolve_value=3)
    CalendarDay.objects.create(date=datetime.date(2030, 1, 2), kind=CalendarDayKind.HOLIDAY, name="测试")
    OrderSettings.current()
    return lamp


SETTINGS_PAGES = [
    "dispatch_categoryclass_changelist",
    "dispatch_categorytype_changelist",
    "dispatch_deadlinepolicy_changelist",
    "dispatch_ordersettings_changelist",
    "dispatch_calendaryear_changelist",
    "dispatch_calendarday_changelist",
]


@pytest.mark.parametrize("name", ["district_org", "city_org"])
def test_org_departments_read_the_settings_but_do_not_edit_them(
    client: Client, actors: Actors, taxonomy: CategoryType, name: str
) -> None:
    client.force_login(getattr(actors, name))
    for page in SETTINGS_PAGES:
        response = client.get(url(page))
        assert response.status_code == 200, page
        assert response.context["has_add_permission"] is False, page
    page = client.get(url("dispatch_categorytype_change", taxonomy.pk))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    assert client.post(url("dispatch_categorytype_change", taxonomy.pk), {"name": "改"}).status_code == 403
    assert client.get(url("dispatch_categorytype_add")).status_code == 403


@pytest.mark.parametrize("name", ["street", "community", "chief", "dept_contact"])
def test_others_do_not_see_the_settings(
    client: Client, actors: Actors, taxonomy: CategoryType, name: str
) -> None:
    client.force_login(getattr(actors, name))
    for page in SETTINGS_PAGES:
        assert client.get(url(page)).status_code == 403, page


def test_superuser_edits_the_taxonomy(client: Client, actors: Actors, taxonomy: CategoryType) -> None:
    client.force_login(actors.superuser)
    response = client.get(url("dispatch_categorytype_changelist"), {"q": "照明"})
    assert [t.code for t in response.context["cl"].result_list] == ["A01"]
    response = client.get(url("dispatch_categorytype_changelist"), {"top_tier__exact": AreaLevel.STREET})
    assert [t.code for t in response.context["cl"].result_list] == ["A02"]
    page = client.get(url("dispatch_categorytype_change", taxonomy.pk))
    assert page.context["has_change_permission"] is True
    departments = page.context["adminform"].form.fields["departments"].queryset
    assert departments.count() == 3


def test_order_settings_stay_one_row(client: Client, actors: Actors, taxonomy: CategoryType) -> None:
    client.force_login(actors.superuser)
    assert client.get(url("dispatch_ordersettings_add")).status_code == 403
    assert client.get(url("dispatch_ordersettings_delete", OrderSettings.current().pk)).status_code == 403


def test_system_alerts_and_deliveries_are_for_superusers(client: Client, actors: Actors) -> None:
    SystemAlert.objects.create(key="calendar-2031", message="2031 年日历未知")
    client.force_login(actors.city_org)
    assert client.get(url("issues_systemalert_changelist")).status_code == 403
    assert client.get(url("issues_notificationdelivery_changelist")).status_code == 403
    client.force_login(actors.superuser)
    assert client.get(url("issues_systemalert_changelist")).status_code == 200
    assert client.get(url("issues_notificationdelivery_changelist")).status_code == 200


def test_each_login_sees_only_its_own_inbox_read_only(client: Client, actors: Actors) -> None:
    mine = Notification.objects.create(recipient=actors.chief, kind="t", title="我的消息")
    theirs = Notification.objects.create(recipient=actors.deputy, kind="t", title="别人的消息")
    client.force_login(actors.chief)
    response = client.get(url("issues_notification_changelist"))
    assert [n.title for n in response.context["cl"].result_list] == ["我的消息"]
    page = client.get(url("issues_notification_change", mine.pk))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    assert client.get(url("issues_notification_change", theirs.pk)).status_code == 302
    # Marking as read touches only one's own messages.
    client.post(
        url("issues_notification_changelist"),
        {"action": "mark_read", "_selected_action": [mine.pk, theirs.pk]},
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None


def test_notification_channels_are_scoped_to_the_users_units(client: Client, actors: Actors) -> None:
    tree = actors.tree
    own = NotificationChannel.objects.create(
        area=tree["d1s1c1"], kind=ChannelKind.WEBHOOK, target="https://qyapi.weixin.qq.com/send?key=SECRET"
    )
    other = NotificationChannel.objects.create(
        area=tree["d1s1c2"], kind=ChannelKind.EMAIL, target="c2@example.cn"
    )
    dept = NotificationChannel.objects.create(
        department=tree.dep("dep_d1"), kind=ChannelKind.EMAIL, target="cg@example.cn"
    )
    client.force_login(actors.community)
    response = client.get(url("issues_notificationchannel_changelist"))
    assert {c.pk for c in response.context["cl"].result_list} == {own.pk}
    assert "SECRET" not in response.content.decode()
    client.force_login(actors.dept_contact)
    response = client.get(url("issues_notificationchannel_changelist"))
    assert {c.pk for c in response.context["cl"].result_list} == {dept.pk}
    client.force_login(actors.district_org)
    response = client.get(url("issues_notificationchannel_changelist"))
    assert {c.pk for c in response.context["cl"].result_list} == {own.pk, other.pk, dept.pk}
