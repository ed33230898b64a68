"""The supervision list (群众监督清单): who keeps it, one ballot per phone per quarter, results, pages."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries, Settings

from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from core.sms import Sms
from participation import supervision as sv
from participation.models import Commitment, CommitmentSource, SupervisionBallot, SupervisionScore, Verdict
from tests.factories import CommitmentFactory, World, verified_client

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
# 2026-10-01 00:30 in Shanghai is still 2026-09-30 in UTC: the quarter is Shanghai's.
Q4_START = dt.datetime(2026, 9, 30, 16, 30, tzinfo=dt.UTC)
IN_Q4 = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)
IN_Q1 = dt.datetime(2027, 1, 15, 2, 0, tzinfo=dt.UTC)


def two_commitments(world: World) -> list[Commitment]:
    return [
        CommitmentFactory(
            alley=world.alley_x, text="每周巡巷不少于三次", source=CommitmentSource.CHIEF_PROMISE
        ),
        CommitmentFactory(
            alley=world.alley_x, text="门前三包，垃圾不落地", source=CommitmentSource.CONVENTION
        ),
    ]


def all_(commitments: list[Commitment], verdict: str = Verdict.SATISFIED) -> dict[int, str]:
    return {c.pk: verdict for c in commitments}


# --- quarters -----------------------------------------------------------------------------------------


def test_the_quarter_is_the_calendar_quarter_in_shanghai() -> None:
    assert sv.Quarter.at(Q4_START).start == dt.date(2026, 10, 1)
    assert sv.Quarter.at(Q4_START - dt.timedelta(hours=1)).start == dt.date(2026, 7, 1)
    q = sv.Quarter.at(IN_Q4)
    assert (q.end, q.previous.start, q.key, q.label) == (
        dt.date(2027, 1, 1),
        dt.date(2026, 7, 1),
        "2026Q4",
        "2026年第4季度",
    )
    assert (
        sv.Quarter.parse("2026q2") == sv.Quarter(dt.date(2026, 4, 1)) and sv.Quarter.parse("2026Q5") is None
    )


# --- who keeps the list -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["chief_x", "community_worker_x", "admin"])
def test_the_chief_and_the_community_keep_the_list(world: World, name: str) -> None:
    actor = world.actor(name)
    c = sv.commitment_create(alley=world.alley_x, text="  每周巡巷三次 ", source="chief_promise", actor=actor)
    assert (c.text, c.source, c.is_active, c.created_by) == ("每周巡巷三次", "chief_promise", True, actor)
    sv.commitment_update(commitment=c, actor=actor, text="每周巡巷四次", source="other", position=5)
    c.refresh_from_db()
    assert (c.text, c.source, c.position, c.updated_by) == ("每周巡巷四次", "other", 5, actor)
    sv.commitment_retire(commitment=c, actor=actor)
    sv.commitment_retire(commitment=c, actor=actor)  # twice: harmless
    c.refresh_from_db()
    assert not c.is_active and c.retired_at is not None


@pytest.mark.parametrize(
    "name",
    ["chief_y", "community_worker_y", "service_x", "street_worker", "lead_contact", "nobody", "anonymous"],
)
def test_everyone_else_is_refused(world: World, name: str) -> None:
    mine = CommitmentFactory(alley=world.alley_x)
    actor = world.actor(name)
    with pytest.raises(ActionForbidden):
        sv.commitment_create(alley=world.alley_x, text="别人的承诺", source="other", actor=actor)
    with pytest.raises(ActionForbidden):
        sv.commitment_update(commitment=mine, actor=actor, text="改掉", source="other")
    with pytest.raises(ActionForbidden):
        sv.commitment_retire(commitment=mine, actor=actor)
    mine.refresh_from_db()
    assert mine.is_active and mine.text != "改掉" and Commitment.objects.count() == 1


def test_bad_text_is_refused_with_a_reason(world: World) -> None:
    for text, message in [("", "请填写"), ("<script>x</script>", "网页代码"), ("长" * 201, "最多 200")]:
        with pytest.raises(ActionInvalid, match=message):
            sv.commitment_create(alley=world.alley_x, text=text, source="other", actor=world.chief_x)
    with pytest.raises(ActionInvalid, match="来源"):
        sv.commitment_create(alley=world.alley_x, text="好的", source="nope", actor=world.chief_x)
    with pytest.raises(ActionInvalid, match="属于街巷"):
        sv.commitment_create(alley=world.community_x, text="好的", source="other", actor=world.admin)
    assert not Commitment.objects.exists()


# --- one ballot per phone per quarter -------------------------------------------------------------------


def test_one_ballot_per_phone_per_quarter(world: World) -> None:
    cs = two_commitments(world)
    ballot = sv.ballot_cast(phone=PHONE, alley=world.alley_x, scores=all_(cs), comment="辛苦了", now=IN_Q4)
    assert ballot.quarter == dt.date(2026, 10, 1) and PHONE not in ballot.phone_digest
    with pytest.raises(ActionRefused, match="本季度您已评议过"):
        sv.ballot_cast(
            phone=PHONE,
            alley=world.alley_x,
            scores=all_(cs, Verdict.DISSATISFIED),
            now=IN_Q4 + dt.timedelta(days=20),
        )
    assert SupervisionBallot.objects.count() == 1
    assert set(SupervisionScore.objects.values_list("verdict", flat=True)) == {Verdict.SATISFIED}
    # Another number, another alley, the next quarter: each a ballot of its own.
    sv.ballot_cast(phone="13900001111", alley=world.alley_x, scores=all_(cs), now=IN_Q4)
    other = CommitmentFactory(alley=world.alley_y)
    sv.ballot_cast(phone=PHONE, alley=world.alley_y, scores={other.pk: Verdict.BASIC}, now=IN_Q4)
    sv.ballot_cast(phone=PHONE, alley=world.alley_x, scores=all_(cs, Verdict.BASIC), now=IN_Q1)
    assert SupervisionBallot.objects.count() == 4
    assert sv.has_voted(phone=PHONE, alley=world.alley_x, now=IN_Q1)


def test_every_commitment_needs_a_verdict_and_markup_is_refused(world: World) -> None:
    cs = two_commitments(world)
    with pytest.raises(ActionInvalid, match="还有 1 项"):
        sv.ballot_cast(phone=PHONE, alley=world.alley_x, scores={cs[0].pk: Verdict.SATISFIED}, now=IN_Q4)
    with pytest.raises(ActionInvalid, match="还有 2 项"):
        sv.ballot_cast(phone=PHONE, alley=world.alley_x, scores=all_(cs, "great"), now=IN_Q4)
    with pytest.raises(ActionInvalid, match="网页代码"):
        sv.ballot_cast(phone=PHONE, alley=world.alley_x, scores=all_(cs), comment="<a href=x>", now=IN_Q4)
    assert not SupervisionBallot.objects.exists()
    # Nothing was spent: the resident may still vote this quarter.
    sv.ballot_cast(phone=PHONE, alley=world.alley_x, scores=all_(cs), now=IN_Q4)


def test_an_alley_without_commitments_takes_no_ballot(world: World) -> None:
    with pytest.raises(ActionRefused, match="还没有公布"):
        sv.ballot_cast(phone=PHONE, alley=world.alley_x, scores={}, now=IN_Q4)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_racing_submits_leave_one_ballot(world: World) -> None:
    cs = two_commitments(world)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            barrier.wait()
            sv.ballot_cast(phone=PHONE, alley=world.alley_x, scores=all_(cs), now=IN_Q4)
            outcomes.append("cast")
        except ActionRefused as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[0] == "cast" and "本季度您已评议过" in sorted(outcomes)[1]
    assert SupervisionBallot.objects.count() == 1 and SupervisionScore.objects.count() == 2


# --- results ------------------------------------------------------------------------------------------


def cast_many(world: World, cs: list[Commitment], verdicts: list[str], *, now: dt.datetime = IN_Q4) -> None:
    for i, verdict in enumerate(verdicts):
        scores = {cs[0].pk: verdict, cs[1].pk: Verdict.SATISFIED}
        sv.ballot_cast(phone=f"1391234{i:04d}", alley=world.alley_x, scores=scores, now=now)


def test_results_count_each_commitment_and_withhold_rates_below_the_minimum(
    world: World, settings: Settings
) -> None:
    settings.JXT_RATE_MIN_SAMPLE = 5
    cs = two_commitments(world)
    q = sv.Quarter.at(IN_Q4)
    cast_many(world, cs, [Verdict.SATISFIED, Verdict.BASIC, Verdict.DISSATISFIED, Verdict.DISSATISFIED])
    thin = sv.quarter_results(world.alley_x, q)
    assert thin.ballots == 4 and not thin.enough and thin.overall is None
    assert [r.share for r in thin.rows] == [None, None]
    assert thin.rows[0].in_order == [("满意", 1), ("基本满意", 1), ("不满意", 2)]
    sv.ballot_cast(  # the fifth ballot
        phone="13700000000",
        alley=world.alley_x,
        scores={cs[0].pk: Verdict.SATISFIED, cs[1].pk: Verdict.DISSATISFIED},
        now=IN_Q4,
    )
    full = sv.quarter_results(world.alley_x, q)
    assert full.ballots == 5 and full.enough
    first, second = full.rows
    assert (first.text, first.n, first.satisfied, first.percent) == ("每周巡巷不少于三次", 5, 3, "60.0%")
    assert (second.n, second.satisfied, second.percent) == (5, 4, "80.0%")
    assert full.overall == pytest.approx(7 / 10) and full.overall_percent == "70.0%"
    # Another quarter is counted apart.
    assert sv.quarter_results(world.alley_x, q.previous).ballots == 0


def test_the_dashboard_feed_counts_per_alley(world: World) -> None:
    cs = two_commitments(world)
    cast_many(world, cs, [Verdict.SATISFIED, Verdict.DISSATISFIED])
    feed = sv.results_by_alley(world.district.code, start=dt.date(2026, 10, 1), end=dt.date(2027, 1, 1))
    assert feed == {world.alley_x.code: {"ballots": 2, "scores": 4, "satisfied": 3}}
    assert sv.results_by_alley(world.district.code, start=dt.date(2027, 1, 1), end=dt.date(2027, 4, 1)) == {}


# --- pages --------------------------------------------------------------------------------------------


def vote_url(world: World) -> str:
    return reverse("supervise", kwargs={"code": world.alley_x.code})


def test_the_vote_page_asks_for_a_verified_phone_first(client: Client, world: World) -> None:
    two_commitments(world)
    response = client.get(vote_url(world))
    assert response.status_code == 302 and response["Location"].startswith("/phone/?next=")
    assert "supervise" in response["Location"]


def test_verify_vote_and_see_the_confirmation(client: Client, world: World, sms_outbox: list[Sms]) -> None:
    cs = two_commitments(world)
    url = vote_url(world)
    client.post(reverse("phone-start"), {"phone": PHONE, "next": url})
    code = sms_outbox[-1].params["code"]
    response = client.post(reverse("phone-code") + f"?next={url}", {"code": code, "next": url})
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url).content.decode()
    assert "每周巡巷不少于三次" in page and "<legend>1. 每周巡巷不少于三次" in page and "138****5678" in page
    # One radio missing: a clear message, the other choice kept, nothing saved.
    response = client.post(url, {f"c{cs[0].pk}": Verdict.BASIC, "comment": "路灯修得快"})
    html = response.content.decode()
    assert response.status_code == 400 and "还有 1 项" in html and "请选择一项评价" in html
    assert f'value="{Verdict.BASIC}" checked' in html and "路灯修得快" in html
    assert not SupervisionBallot.objects.exists()
    response = client.post(url, {f"c{cs[0].pk}": Verdict.BASIC, f"c{cs[1].pk}": Verdict.SATISFIED})
    assert response.status_code == 302 and response["Location"].endswith("/supervise/done/")
    assert "感谢您参与金鱼巷" in client.get(response["Location"]).content.decode()
    # A second submit (back button, double click): told, nothing changes.
    again = client.post(url, {f"c{cs[0].pk}": Verdict.DISSATISFIED, f"c{cs[1].pk}": Verdict.DISSATISFIED})
    assert again.status_code == 200 and "本季度您已评议过" in again.content.decode()
    assert SupervisionBallot.objects.count() == 1
    assert not SupervisionScore.objects.filter(verdict=Verdict.DISSATISFIED).exists()


def test_the_done_page_is_only_for_the_phone_that_voted(client: Client, world: World) -> None:
    two_commitments(world)
    verified_client(client, PHONE)
    done = reverse("supervise-done", kwargs={"code": world.alley_x.code})
    assert client.get(done)["Location"] == vote_url(world)
    assert client.get("/alley/nope/supervise/").status_code == 404


def test_the_alley_page_shows_the_list_the_last_quarter_and_this_quarters_count(
    client: Client, world: World, settings: Settings, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    settings.JXT_RATE_MIN_SAMPLE = 2
    cs = two_commitments(world)
    last_quarter = sv.Quarter.at().previous
    when = dt.datetime.combine(last_quarter.start + dt.timedelta(days=10), dt.time(4), tzinfo=dt.UTC)
    cast_many(world, cs, [Verdict.SATISFIED, Verdict.DISSATISFIED], now=when)
    sv.ballot_cast(phone=PHONE, alley=world.alley_x, scores=all_(cs))
    url = reverse("public-alley", kwargs={"code": world.alley_x.code})
    html = client.get(url).content.decode()
    assert "群众监督清单" in html and "每周巡巷不少于三次" in html and "（巷长承诺）" in html
    assert f"{last_quarter.label}评议结果" in html and "总体满意率（满意与基本满意）75.0%，2 人评议" in html
    assert "已有 1 人评议" in html and f'href="{vote_url(world)}"' in html
    # Constant queries: more commitments and ballots cost none.
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for i in range(3):
        CommitmentFactory(alley=world.alley_x, text=f"新承诺{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_the_alley_page_withholds_a_thin_rate(client: Client, world: World, settings: Settings) -> None:
    settings.JXT_RATE_MIN_SAMPLE = 5
    cs = two_commitments(world)
    when = dt.datetime.combine(sv.Quarter.at().previous.start, dt.time(4), tzinfo=dt.UTC)
    cast_many(world, cs, [Verdict.SATISFIED], now=when)
    html = client.get(reverse("public-alley", kwargs={"code": world.alley_x.code})).content.decode()
    assert "样本不足（n=1），满 5 人评议后公布满意率" in html and "100.0%" not in html


def staff(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def test_staff_pages_for_the_chief_and_the_community(client: Client, world: World) -> None:
    cs = two_commitments(world)
    staff(client, world.chief_x)
    listing = client.get(reverse("staff:supervision-list")).content.decode()
    assert "金鱼巷" in listing and "井亭巷" not in listing
    page_url = reverse("staff:supervision-alley", kwargs={"code": world.alley_x.code})
    assert "门前三包" in client.get(page_url).content.decode()
    response = client.post(page_url, {"text": "每月开一次巷务会", "source": "chief_promise"})
    assert response.status_code == 302 and Commitment.objects.filter(text="每月开一次巷务会").exists()
    bad = client.post(page_url, {"text": "<b>x</b>", "source": "chief_promise"})
    assert bad.status_code == 400 and "网页代码" in bad.content.decode()
    edit = reverse("staff:supervision-edit", kwargs={"pk": cs[0].pk})
    assert (
        client.post(edit, {"text": "每周巡巷四次", "source": "chief_promise", "position": "1"}).status_code
        == 302
    )
    assert client.post(reverse("staff:supervision-retire", kwargs={"pk": cs[1].pk})).status_code == 302
    cs[0].refresh_from_db()
    cs[1].refresh_from_db()
    assert cs[0].text == "每周巡巷四次" and not cs[1].is_active
    # The chief of another alley: not found, nothing changed.
    staff(client, world.chief_y)
    assert client.get(page_url).status_code == 404
    assert client.post(reverse("staff:supervision-retire", kwargs={"pk": cs[0].pk})).status_code == 404
    cs[0].refresh_from_db()
    assert cs[0].is_active
    staff(client, world.lead_contact)
    assert client.get(reverse("staff:supervision-list")).status_code == 403
    staff(client, world.community_worker_x)
    assert client.get(page_url).status_code == 200


def test_staff_results_show_counts_and_comments_never_a_phone(
    client: Client, world: World, settings: Settings
) -> None:
    settings.JXT_RATE_MIN_SAMPLE = 1
    cs = two_commitments(world)
    sv.ballot_cast(phone=PHONE, alley=world.alley_x, scores=all_(cs), comment="巷口太暗", now=IN_Q4)
    staff(client, world.community_worker_x)
    url = reverse("staff:supervision-alley", kwargs={"code": world.alley_x.code}) + "?q=2026Q4"
    html = client.get(url).content.decode()
    assert "2026年第4季度评议结果" in html and "巷口太暗" in html and "100.0%（n=1）" in html
    assert PHONE not in html and "5678" not in html


# --- the chiefs' dashboard, the API, the demo ---------------------------------------------------------


def test_the_chiefs_dashboard_shows_the_supervision_rate(
    client: Client, world: World, settings: Settings
) -> None:
    settings.JXT_RATE_MIN_SAMPLE = 2
    cs = two_commitments(world)
    cast_many(world, cs, [Verdict.SATISFIED, Verdict.DISSATISFIED])
    from evaluation.periods import Period
    from evaluation.selectors import chiefs_activity

    table = chiefs_activity(
        world.district,
        Period("month", dt.date(2026, 11, 1), dt.date(2026, 12, 1)),
        today=dt.date(2026, 12, 5),
    )
    row = next(r for r in table.rows if r["code"] == world.alley_x.code)
    assert row["supervision_share"] == pytest.approx(3 / 4) and row["supervision_share_n"] == 2
    other = next(r for r in table.rows if r["code"] == world.alley_y.code)
    assert other["supervision_share"] is None and other["supervision_share_n"] == 0
    assert "群众监督满意率" in [str(c.label) for c in table.columns]


def test_the_api_reads_commitments_and_results_in_scope(
    client: Client, world: World, settings: Settings
) -> None:
    settings.JXT_RATE_MIN_SAMPLE = 1
    cs = two_commitments(world)
    far = CommitmentFactory(alley=world.other_alley, text="远处的承诺")
    cast_many(world, cs, [Verdict.SATISFIED])
    staff(client, world.community_worker_x)
    listed = client.get("/api/v1/supervision-commitments/").json()
    texts = {row["text"] for row in listed["results"]}
    assert texts == {c.text for c in cs} and far.text not in texts
    result = client.get(f"/api/v1/supervision-results/{world.alley_x.code}/?quarter=2026Q4").json()
    assert result["ballots"] == 1 and result["overall"] == 1.0 and result["quarter"] == "2026Q4"
    assert [r["satisfied"] for r in result["commitments"]] == [1, 1]
    assert client.get(f"/api/v1/supervision-results/{world.other_alley.code}/").status_code == 404
    assert client.get(f"/api/v1/supervision-results/{world.alley_x.code}/?quarter=nope").status_code == 400


def test_demo_supervision_is_seeded_once() -> None:
    from demo import city as demo
    from demo.supervision import BALLOTS, COMMITMENTS, seed_supervision

    demo.seed_city(password="demo-pass-12345", reset_passwords=False)
    assert seed_supervision() == sum(BALLOTS) + 2 * len(BALLOTS)
    assert seed_supervision() == 0
    assert Commitment.objects.count() == len(COMMITMENTS) * len(BALLOTS)
    alley = Commitment.objects.order_by("alley__code").first().alley
    results = sv.quarter_results(alley, sv.Quarter.at().previous)
    assert results.ballots == BALLOTS[0] and results.enough and results.overall is not None
