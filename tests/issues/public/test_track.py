"""Following a case (lights, deadline, unit, public timeline and photos) and the reporter's feedback."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries, Settings

from alleys.choices import AreaLevel
from issues.choices import CaseState, EventKind, FeedbackChannel, PhotoKind, PhotoState
from issues.models import Case, CaseEvent, CasePhoto, Feedback
from issues.sweep import run_sweep
from issues.workflow import case_accept, case_submit, record_event
from tests.factories import MONDAY

from .helpers import CHIEF_NAME, CHIEF_PHONE, Place, case_in, jpeg, text_of

pytestmark = pytest.mark.django_db

REPORTER_PHONE = "13900001234"  # what make_case stores


def track_url(case: Case) -> str:
    return reverse("public-track-case", kwargs={"code": case.tracking_code})


def add_photo(case: Case, *, public: bool, kind: str = PhotoKind.FIX) -> CasePhoto:
    """A processed photo (as the ``issues.process_photo`` task leaves it)."""
    return CasePhoto.objects.create(
        case=case,
        kind=kind,
        image=ContentFile(jpeg().read(), name="p.jpg"),
        is_public=public,
        state=PhotoState.READY,
    )


def add_event(case: Case, note: str, *, public: bool) -> CaseEvent:
    from django.utils import timezone

    return record_event(
        case, EventKind.NOTE, now=timezone.now(), note=note, public=public, label="金鱼巷街巷服务团队"
    )


# --- the tracking page ---------------------------------------------------------------------------


def test_the_track_page_shows_the_light_deadline_unit_and_public_timeline(
    client: Client, place: Place
) -> None:
    case = case_in(place.world, state=CaseState.IN_PROGRESS, description="灯坏了，请联系我 13912345678")
    add_event(case, "已联系供电所，明天来修", public=True)
    add_event(case, "内部：巷长陈建国电话 13800138000", public=False)
    public_photo = add_photo(case, public=True)
    hidden_photo = add_photo(case, public=False, kind=PhotoKind.REPORT)

    html = text_of(client.get(track_url(case)))
    assert case.tracking_code in html
    assert 'class="light light-yellow"' in html and "办理中" in html
    assert 'aria-current="step"' in html
    assert "金鱼巷街巷服务团队" in html and "办结期限" in html
    assert "路灯不亮" in html and "金鱼巷" in html and "新华社区" in html
    assert "已联系供电所，明天来修" in html
    assert "内部" not in html and CHIEF_NAME not in html and CHIEF_PHONE not in html
    # The reporter's data: name and address never, a phone number in the description masked.
    assert "张三" not in html and REPORTER_PHONE not in html and "13912345678" not in html
    assert "139****5678" in html
    assert reverse("public-photo-thumb", kwargs={"pk": public_photo.pk}) in html
    assert f"/photo/{hidden_photo.pk}/" not in html


def test_a_dispatched_case_shows_the_lead_department(client: Client, place: Place) -> None:
    case = case_in(place.world, state=CaseState.IN_PROGRESS, tier=AreaLevel.DISTRICT)
    case.lead_department = place.world.dept_lead
    case.save()
    html = text_of(client.get(track_url(case)))
    assert "鲤城区城管局" in html


def test_a_case_at_the_street_shows_the_street_by_name(client: Client, place: Place) -> None:
    case = case_in(place.world, state=CaseState.SUBMITTED, tier=AreaLevel.STREET)
    html = text_of(client.get(track_url(case)))
    assert "开元街道" in html and "受理期限" in html and 'class="light light-grey"' in html


def test_a_rejected_case_shows_the_reason(client: Client, place: Place) -> None:
    case = case_in(
        place.world, state=CaseState.REJECTED, rejection_reason="属于私人物业范围，请联系物业公司。"
    )
    html = text_of(client.get(track_url(case)))
    assert "不予受理" in html and "属于私人物业范围" in html and "期限" not in html.split("办理记录")[0]


@pytest.mark.parametrize("typed", ["  {code}  ", "{lower}", "{dashed}"])
def test_the_code_may_be_typed_loosely(client: Client, place: Place, typed: str) -> None:
    case = case_in(place.world)
    code = case.tracking_code
    raw = typed.format(code=code, lower=code.lower(), dashed=f"{code[:4]}-{code[4:]}")
    response = client.get(reverse("public-track"), {"code": raw})
    assert response.status_code == 302 and response["Location"] == track_url(case)
    response = client.get(f"/track/{code.lower()}/")
    assert response.status_code == 302 and response["Location"] == track_url(case)


@pytest.mark.parametrize("code", ["ZZZZZZZZ", "!!!", "A" * 40, "%3Cscript%3E", "22222222"])
def test_a_wrong_code_gets_the_same_friendly_404(client: Client, place: Place, code: str) -> None:
    case_in(place.world)
    reference = client.get("/track/YYYYYYYY/")
    response = client.get(f"/track/{code}/")
    assert response.status_code == 404
    assert "没有找到这个查询码" in text_of(response)
    assert response.content == reference.content, "no hint tells a malformed code from an unknown one"
    by_form = client.get(reverse("public-track"), {"code": code})
    assert by_form.status_code in (302, 404)
    if by_form.status_code == 302:
        assert client.get(by_form["Location"]).content == reference.content


def test_an_address_guessing_codes_is_refused_every_tracking_page(
    client: Client, place: Place, settings: Settings
) -> None:
    """Wrong codes are counted per address; over the limit even a right code is refused,
    or a script could still tell the codes that exist from those that do not."""
    settings.JXT_TRACK_RATE_IP = "3/h"
    case = case_in(place.world, state=CaseState.IN_PROGRESS)
    for _ in range(20):  # a resident opening the real case again and again is never counted
        assert client.get(track_url(case)).status_code == 200
    for guess in ("ZZZZZZZ2", "ZZZZZZZ3", "ZZZZZZZ4"):
        assert client.get(f"/track/{guess}/").status_code == 404
    refused = client.get("/track/ZZZZZZZ5/")
    assert refused.status_code == 429
    assert "查询太频繁了" in text_of(refused) and "约一小时" in text_of(refused)
    right = client.get(track_url(case))
    assert right.status_code == 429 and case.tracking_code not in text_of(right)
    assert client.post(track_url(case), {"solved": "solved"}).status_code == 429
    # Another address is not affected.
    assert client.get(track_url(case), REMOTE_ADDR="10.0.0.8").status_code == 200
    assert Feedback.objects.count() == 0


def test_the_track_page_runs_a_constant_number_of_queries(
    client: Client,
    place: Place,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    small = case_in(place.world, state=CaseState.AWAITING_FEEDBACK)
    big = case_in(place.world, state=CaseState.AWAITING_FEEDBACK)
    for i in range(15):
        add_event(big, f"进展 {i}", public=True)
        add_photo(big, public=True)
    # A fresh process also reads the reference data once: the categories, the areas above.
    with django_assert_max_num_queries(6):
        assert client.get(track_url(small)).status_code == 200
    # Then the case, and its public events and photos together, however many there are.
    for case in (small, big):
        with django_assert_num_queries(2):
            assert client.get(track_url(case)).status_code == 200


def test_the_track_page_follows_a_renamed_alley_at_once(client: Client, place: Place) -> None:
    case = case_in(place.world, state=CaseState.SUBMITTED)
    assert "金鱼巷" in text_of(client.get(track_url(case)))
    place.alley.name = "金鱼新巷"
    place.alley.save()
    assert "金鱼新巷" in text_of(client.get(track_url(case)))


# --- feedback -------------------------------------------------------------------------------------


def feedback(client: Client, case: Case, **overrides: Any) -> Any:
    data = {
        "phone_last4": REPORTER_PHONE[-4:],
        "solved": "solved",
        "satisfaction": "satisfied",
        "comment": "修得很快",
    }
    data.update(overrides)
    return client.post(
        track_url(case), {k: v for k, v in data.items() if v is not None}, REMOTE_ADDR="10.0.2.1"
    )


def test_the_feedback_form_appears_only_when_the_case_awaits_feedback(client: Client, place: Place) -> None:
    waiting = case_in(place.world, state=CaseState.AWAITING_FEEDBACK)
    html = text_of(client.get(track_url(waiting)))
    assert "请您评价" in html and 'name="phone_last4"' in html
    assert "问题解决了吗？" in html and "您对办理结果满意吗？" in html
    assert "部分解决" in html and "基本满意" in html
    for state in (CaseState.IN_PROGRESS, CaseState.AWAITING_VERIFICATION, CaseState.CLOSED):
        other = case_in(place.world, state=state)
        assert "请您评价" not in text_of(client.get(track_url(other)))


def test_the_reporter_gives_feedback_once(client: Client, place: Place) -> None:
    case = case_in(place.world, state=CaseState.AWAITING_FEEDBACK)
    response = feedback(client, case)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    given = Feedback.objects.get(case=case)
    assert (given.solved, given.satisfaction, given.channel) == (
        "solved",
        "satisfied",
        FeedbackChannel.RESIDENT,
    )
    assert "感谢您的评价" in text_of(client.get(response["Location"]))

    again = feedback(client, case, satisfaction="dissatisfied")
    assert again.status_code == 409
    assert "不能评价" in text_of(again)
    assert Feedback.objects.filter(case=case).count() == 1


def test_wrong_phone_digits_are_refused_and_guessing_is_stopped(
    client: Client, place: Place, settings: Settings
) -> None:
    settings.JXT_FEEDBACK_GUESS_RATE = "3/h"
    case = case_in(place.world, state=CaseState.AWAITING_FEEDBACK)
    for digits in ("0000", "1111", "2222"):
        response = feedback(client, case, phone_last4=digits)
        assert response.status_code == 200
        html = text_of(response)
        assert "手机号码后 4 位不对" in html and "修得很快" in html, "the answers are kept"
    locked = feedback(client, case)
    assert locked.status_code == 429 and "输错次数太多" in text_of(locked)
    assert not Feedback.objects.exists()
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_FEEDBACK


def test_the_phone_digits_are_required_and_the_answers_too(client: Client, place: Place) -> None:
    case = case_in(place.world, state=CaseState.AWAITING_FEEDBACK)
    html = text_of(feedback(client, case, phone_last4="", solved=None, satisfaction=None))
    assert "请填写您反映问题时留下的手机号码的最后 4 位数字" in html
    assert "请选择问题是否解决。" in html and "请选择满意程度。" in html
    assert not Feedback.objects.exists()


def test_not_solved_reopens_the_case(client: Client, place: Place) -> None:
    case = case_in(place.world, state=CaseState.AWAITING_FEEDBACK)
    response = feedback(client, case, solved="not_solved", satisfaction="dissatisfied", comment="灯还是不亮")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.REOPENED and case.reopen_count == 1
    html = text_of(client.get(track_url(case)))
    assert "重新办理" in html and "灯还是不亮" in html and "请您评价" not in html


def test_a_case_without_a_phone_takes_feedback_with_the_code_alone(client: Client, place: Place) -> None:
    case = case_in(place.world, state=CaseState.AWAITING_FEEDBACK, reporter_phone="")
    assert 'name="phone_last4"' not in text_of(client.get(track_url(case)))
    assert feedback(client, case, phone_last4=None, solved="partly", satisfaction="basic").status_code == 302
    assert Feedback.objects.get(case=case).solved == "partly"


def test_feedback_on_a_case_not_awaiting_it_is_refused_by_the_state_machine(
    client: Client, place: Place
) -> None:
    case = case_in(place.world, state=CaseState.IN_PROGRESS)
    response = feedback(client, case)
    assert response.status_code == 409 and "不能评价" in text_of(response)
    assert not Feedback.objects.exists()


def test_feedback_markup_is_refused_and_kept(client: Client, place: Place) -> None:
    case = case_in(place.world, state=CaseState.AWAITING_FEEDBACK)
    html = text_of(feedback(client, case, comment="<script>x</script>好"))
    assert "不要输入网页代码" in html and "&lt;script&gt;x&lt;/script&gt;好" in html
    assert not Feedback.objects.exists()


def test_feedback_without_csrf_token_is_asked_again(place: Place) -> None:
    case = case_in(place.world, state=CaseState.AWAITING_FEEDBACK)
    client = Client(enforce_csrf_checks=True)
    response = feedback(client, case)
    assert response.status_code == 403 and "这个页面打开太久已过期" in text_of(response)
    assert "修得很快" in text_of(response)
    assert not Feedback.objects.exists()


def test_done_page_for_an_unknown_code_is_a_404(client: Client, place: Place) -> None:
    response = client.get("/report/done/ZZZZZZZZ/")
    assert response.status_code == 404 and "没有找到这个查询码" in text_of(response)


def test_the_resident_sees_the_department_came_but_not_who(client: Client, place: Place) -> None:
    """报到 in person on the public timeline: when, and the community that confirmed it; names are for staff."""
    from django.utils import timezone

    from issues.workflow import case_consult, case_dispatch
    from issues.workflow.attendance import attendance_confirm
    from issues.workflow.orders import order_report
    from tests.factories import REPORT

    world = place.world
    case = case_in(world, state=CaseState.ACCEPTED, tier=AreaLevel.DISTRICT, now=timezone.now())
    case_consult(
        case=case, actor=world.district_officer, departments=[world.dept_lead], question="内部意见征求"
    )
    Consultation = case.consultations.model
    Consultation.objects.update(answer_due=timezone.now() - dt.timedelta(minutes=1))
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead)
    order = case.orders.get()
    soon = timezone.now() + dt.timedelta(minutes=1)
    order_report(
        order=order, actor=world.lead_contact, visit_at=soon, visitors=["王副局长", "李科长"], **REPORT
    )
    attendance_confirm(
        order=order,
        actor=world.community_worker_x,
        attended_at=timezone.now(),
        present=["王副局长"],
        note="王局长带队",
    )
    html = text_of(client.get(track_url(case)))
    assert "社区确认到场报到" in html and "社区已确认（按时报到）" in html and "新华社区" in html
    assert "王副局长" not in html and "李科长" not in html and "王局长带队" not in html
    assert "内部意见征求" not in html and "派单前征求意见" not in html  # the units' deliberation


# --- the orange light (橘灯) and the return visit ---------------------------------------------------


@pytest.mark.parametrize("state", [CaseState.AWAITING_FEEDBACK, CaseState.AWAITING_RETURN_VISIT])
def test_waiting_for_the_answer_or_the_visit_is_the_orange_light_named_as_in_jilin(
    client: Client, place: Place, state: str
) -> None:
    case = case_in(place.world, state=state)
    html = text_of(client.get(track_url(case)))
    assert 'class="light light-orange"' in html and "橘灯：处理完结，等待回访" in html
    assert 'class="step step-orange is-current"' in html and "处理完结，等待回访" in html
    # The resident is heard in both: the answer wins over the visit.
    assert "请您评价" in html and 'name="phone_last4"' in html
    assert ("社区会电话或上门回访您" in html) == (state == CaseState.AWAITING_RETURN_VISIT)


def test_the_orange_light_in_english(client: Client, place: Place) -> None:
    case = case_in(place.world, state=CaseState.AWAITING_RETURN_VISIT)
    html = text_of(client.get(track_url(case), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Orange: done, awaiting the return visit" in html


def test_the_residents_answer_while_a_visit_is_due_closes_the_case(client: Client, place: Place) -> None:
    case = case_in(place.world, state=CaseState.AWAITING_RETURN_VISIT)
    assert feedback(client, case).status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert Feedback.objects.get(case=case).channel == FeedbackChannel.RESIDENT


def test_the_public_timeline_says_the_community_called_and_no_more(client: Client, place: Place) -> None:
    from issues.workflow import case_return_visit

    world = place.world
    world.community_worker_x.first_name = "陈社工"
    world.community_worker_x.save()
    case = case_in(place.world, state=CaseState.AWAITING_RETURN_VISIT)
    case_return_visit(
        case=case, actor=world.community_worker_x, channel="phone", reached=False, note="关机了"
    )
    case_return_visit(
        case=case,
        actor=world.community_worker_x,
        channel="in_person",
        reached=True,
        solved="not_solved",
        satisfaction="dissatisfied",
        words="灯还是一闪一闪的，我家电话 13912345678",
    )
    html = text_of(client.get(track_url(case)))
    assert "社区已电话回访，未联系上反映人（第 1 次）。" in html and "社区已上门回访。" in html
    assert "新华社区" in html and "社区回访" in html
    for private in ("关机了", "灯还是一闪一闪", "13912345678", "陈社工", "community_worker_x"):
        assert private not in html
    assert "重新办理" in html  # the visit's "not solved" reopened it, as the page says


# --- after the sweep escalates a case (issue 16) -------------------------------------------------


def _steps(html: str) -> list[tuple[str, bool, bool]]:
    """(label, done, current) of each progress step, as the page shows them."""
    found = re.findall(r'<li class="step step-(\w+)([^"]*)"([^>]*)>.*?</li>', html, flags=re.S)
    return [(key, "is-done" in classes, "aria-current" in attrs) for key, classes, attrs in found]


@pytest.mark.parametrize("accepted", [True, False], ids=["accepted-first", "never-accepted"])
def test_an_escalated_case_still_shows_as_being_handled_one_tier_up(
    client: Client, place: Place, accepted: bool
) -> None:
    """The sweep puts a case whose deadline passed at the next tier in state "submitted" again;
    the resident must not see it fall back to "已提交" but see it handled, gone up a tier."""
    import datetime as dt

    world = place.world
    case = case_submit(category=place.lamp, alley=world.alley_x, description="路灯不亮", now=MONDAY)
    if accepted:
        case_accept(case=case, actor=world.chief_x, now=MONDAY + dt.timedelta(hours=1))
    case.refresh_from_db()
    run_sweep(now=case.escalation_due + dt.timedelta(minutes=1))
    case.refresh_from_db()
    assert (case.state, case.tier) == (CaseState.SUBMITTED, AreaLevel.COMMUNITY)  # what the sweep did

    html = text_of(client.get(track_url(case)))
    assert _steps(html) == [
        ("grey", True, False),
        ("yellow", False, True),  # still being handled, not back at "已提交"
        ("green", False, False),
        ("orange", False, False),
        ("done", False, False),
    ]
    assert 'class="light light-grey"' not in html
    assert "已转到上一级：新华社区，等待受理。" in html
