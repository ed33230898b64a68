"""Bulk data for the benchmarks: N cases over two years in the demo city's shape, in SQL.

Everything is generated inside PostgreSQL (``INSERT … SELECT generate_series``) from the
territory, categories, departments and people that ``seed_demo --skip-history`` wrote, so
a million cases take a couple of minutes instead of hours through the services.

The shape (per million cases; the open and overdue counts stay fixed when the history grows):

* created uniformly over 730 days per million cases, ending at the *anchor* (the moment the
  data was generated); alleys weighted by households, categories weighted like the demo
  history (classes A 8 : B 3 : C 0.8 : D 0.25, common types 4×);
* 100,000 open cases (the most recent 125,000 ids, four in five), of which exactly 10,000
  (or ``overdue``: a mass event, see ``overdue_shape``) are past their escalation deadline (``escalation_due <= anchor``), at tiers below the city,
  none with an existing whistle to the tier they would escalate to; the other open cases
  have future deadlines and no warning due (a sweep running every minute has sent them);
* the rest closed (most), awaiting feedback (the last 36 hours, verified recently so the
  feedback window closes nothing), rejected 3 %, merged 1 %;
* resolved at alley 70 % / community 18 % / street 8 % / district 3 % / city 1 % of the
  start tier's chain (小事不出巷), one whistle per step, a lead department order for cases
  that reached the district or city, feedback on 85 % of closed cases, a timeline of
  submitted → (whistled…) → accepted → resolved → verified → feedback → closed,
  and the chiefs' daily patrols and weekly visits over the whole span.

Non-unique indexes are dropped before the load and rebuilt after it, and foreign-key
triggers are off during the load (``session_replication_role = replica``): the rows are
consistent by construction, and this is several times faster than checking each one.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

TIERS = ("alley", "community", "street", "district", "city")
OPEN_STATES = ("submitted", "accepted", "in_progress", "awaiting_verification", "reopened")
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Tables whose rows the generator writes (their plain indexes are rebuilt after the load).
LOADED_TABLES = (
    "issues_case",
    "issues_caseevent",
    "issues_feedback",
    "issues_whistle",
    "issues_dispatchorder",
    "issues_patrollog",
)
DESCRIPTIONS = (
    "巷口路灯不亮，晚上出行不便。",
    "下水道堵塞，下雨后积水严重。",
    "有人在巷子里占道经营，影响通行。",
    "消防通道被杂物堵住了。",
    "垃圾没人清运，气味很大。",
    "电动车乱停乱放，老人出行不方便。",
    "墙面有裂缝，担心安全。",
    "夜间施工噪音扰民。",
)


def tracking_code_sql(expr: str) -> str:
    """'B' + seven base-31 digits of ``expr`` in the tracking-code alphabet (unique per id)."""
    digits = [
        f"substr('{TRACKING_ALPHABET}', (({expr} / {31**k}) % 31)::int + 1, 1)" for k in reversed(range(7))
    ]
    return "'B' || " + " || ".join(digits)


def _arr(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def overdue_shape(cases: int, overdue: int | None) -> tuple[int, str]:
    """(open cases, SQL test of ``i`` for an overdue one) for ``overdue`` cases past their deadline.

    The default is the quiet day: 100,000 open (a tenth of the cases below a million), a tenth
    of them overdue. A mass event (``overdue`` = half the open cases or more) doubles the open
    cases to twice the overdue ones, half of them overdue at once (bench_mass_sweep: 100,000).
    """
    open_n = min(100_000, cases // 10)
    if overdue is None or overdue * 10 == open_n:
        return open_n, "i % 25 IN (1, 2)"  # 2 of every 25 ids in the block: a tenth of the open
    open_n = max(open_n, overdue * 2)
    if overdue * 2 != open_n or open_n * 5 // 4 > cases:
        raise ValueError(f"overdue must be a tenth of {open_n:,} open cases, or at least half of them")
    return open_n, "i % 10 IN (1, 2, 3, 4)"  # 4 of every 10 ids in the block: half the open


def plan(*, cases: int, anchor: dt.datetime, overdue: int | None = None) -> list[tuple[str, str]]:
    """The SQL steps, in order, as (label, sql)."""
    open_n, overdue_test = overdue_shape(cases, overdue)
    block = open_n * 5 // 4  # the most recent ids; four in five of them are open
    span_days = 730 * max(1, cases // 1_000_000)
    span_secs = span_days * 86400
    a = f"'{anchor.isoformat()}'::timestamptz"
    tiers = _arr(TIERS)
    descriptions = _arr(DESCRIPTIONS)
    steps: list[tuple[str, str]] = []
    add = steps.append

    add(
        (
            "helper tables",
            """
DROP TABLE IF EXISTS bench_alley, bench_alley_slot, bench_cat, bench_cat_slot, bench_cat_dept,
    bench_gen, bench_case, bench_overdue_snapshot;
CREATE TABLE bench_alley AS
SELECT a.id AS alley_id, a.code, com.id AS community_id, st.id AS street_id, di.id AS district_id,
       ci.id AS city_id, COALESCE(NULLIF(p.households, 0), 200) AS households,
       (SELECT ra.user_id FROM alleys_roleassignment ra
         WHERE ra.area_id = a.id AND ra.role = 'chief' ORDER BY ra.id LIMIT 1) AS chief_id
FROM alleys_area a
JOIN alleys_area com ON com.code = left(a.code, 12)
JOIN alleys_area st ON st.code = left(a.code, 9)
JOIN alleys_area di ON di.code = left(a.code, 6)
JOIN alleys_area ci ON ci.code = left(a.code, 4)
LEFT JOIN alleys_alleyprofile p ON p.area_id = a.id
WHERE a.level = 'alley' AND a.is_active;
CREATE TABLE bench_alley_slot AS
SELECT row_number() OVER (ORDER BY code, g) AS slot, alley_id
FROM bench_alley, generate_series(1, GREATEST(1, households / 25)) g;
CREATE TABLE bench_cat AS
SELECT t.id AS cat_id, cc.code AS class_code,
       'alley'::text AS start_tier,  -- every report starts with the alley's team (dispatch.chain.START_TIER)
       GREATEST(1, round((CASE cc.code WHEN 'A' THEN 8 WHEN 'B' THEN 3 WHEN 'C' THEN 0.8 ELSE 0.25 END)
             * (CASE WHEN t.common THEN 4 ELSE 1 END) * 4))::int AS weight,
       COALESCE(NULLIF(t.default_department_role, ''), 'cg') AS role_key
FROM dispatch_categorytype t JOIN dispatch_categoryclass cc ON cc.id = t.category_class_id
WHERE t.is_active;
CREATE TABLE bench_cat_slot AS
SELECT row_number() OVER (ORDER BY cat_id, g) AS slot, cat_id
FROM bench_cat, generate_series(1, weight) g;
CREATE TABLE bench_cat_dept AS
SELECT c.cat_id, d.district_id,
       COALESCE((SELECT id FROM alleys_department x WHERE x.area_id = d.district_id
                  AND x.role_key = c.role_key AND x.is_active ORDER BY id LIMIT 1),
                (SELECT id FROM alleys_department x WHERE x.area_id = d.district_id
                  AND x.is_active ORDER BY id LIMIT 1)) AS dept_id
FROM bench_cat c CROSS JOIN (SELECT DISTINCT district_id FROM bench_alley) d;
ANALYZE bench_alley; ANALYZE bench_alley_slot; ANALYZE bench_cat; ANALYZE bench_cat_slot; ANALYZE bench_cat_dept;
""",
        )
    )

    add(
        (
            "random draws",
            f"""
SELECT setseed(0.20261122);
CREATE UNLOGGED TABLE bench_gen AS
SELECT i AS id,
       {a} - make_interval(secs => ({cases}::bigint - i) * {span_secs}::float8 / {cases})
           - make_interval(secs => random() * 1800) AS created_at,
       (i > {cases - block} AND i % 5 <> 0) AS is_open,
       (i > {cases - block} AND {overdue_test}) AS is_overdue,
       1 + floor(random() * (SELECT count(*) FROM bench_alley_slot))::int AS alley_slot,
       1 + floor(random() * (SELECT count(*) FROM bench_cat_slot))::int AS cat_slot,
       random() AS r_state, random() AS r_tier, random() AS r_t1, random() AS r_t2,
       random() AS r_fb, random() AS r_src
FROM generate_series(1, {cases}) i;
ANALYZE bench_gen;
""",
        )
    )

    # Derived columns, in three layers (tier, then state, then timestamps).
    add(
        (
            "case plan",
            f"""
CREATE UNLOGGED TABLE bench_case AS
WITH t AS (
  SELECT g.*, al.alley_id, al.community_id, al.street_id, al.district_id, al.city_id,
         c.cat_id, array_position({tiers}, c.start_tier) - 1 AS s_idx,
         CASE WHEN g.r_tier < 0.70 THEN 0 WHEN g.r_tier < 0.88 THEN 1 WHEN g.r_tier < 0.96 THEN 2
              WHEN g.r_tier < 0.99 THEN 3 ELSE 4 END AS steps_raw
  FROM bench_gen g
  JOIN bench_alley_slot s ON s.slot = g.alley_slot JOIN bench_alley al ON al.alley_id = s.alley_id
  JOIN bench_cat_slot cs ON cs.slot = g.cat_slot JOIN bench_cat c ON c.cat_id = cs.cat_id
), u AS (
  SELECT t.*,
    CASE
      WHEN is_open THEN CASE
        WHEN r_state < 0.25 THEN 'submitted' WHEN r_state < 0.45 THEN 'accepted'
        WHEN r_state < 0.80 OR (is_overdue AND r_state < 0.95) THEN 'in_progress'
        WHEN r_state < 0.95 THEN 'awaiting_verification' ELSE 'reopened' END
      WHEN created_at > {a} - interval '36 hours' THEN 'awaiting_feedback'
      WHEN r_state < 0.03 AND id > 1 THEN 'rejected'
      WHEN r_state < 0.04 AND id > 1 THEN 'merged'
      ELSE 'closed' END AS state,
    LEAST(s_idx + steps_raw, CASE WHEN is_overdue THEN 3 ELSE 4 END) AS t_idx
  FROM t
), v AS (
  SELECT u.*,
    CASE WHEN state IN ('rejected', 'merged') THEN s_idx ELSE t_idx END AS tier_idx,
    -- How long the case took (closed) or the share of its life spent below its tier (open).
    LEAST(make_interval(secs => (0.2 + r_t2 * 6 + (t_idx - s_idx) * 4) * 86400),
          ({a} - created_at) * 0.6) AS dur
  FROM u
), w AS (
  SELECT v.*,
    tier_idx - s_idx AS steps,
    CASE WHEN tier_idx > s_idx THEN
      CASE WHEN is_open THEN created_at + ({a} - created_at) * 0.5 ELSE created_at + dur * 0.3 END
    ELSE created_at END AS tier_entered_at
  FROM v
)
SELECT w.*,
  ({tiers})[tier_idx + 1] AS tier,
  CASE tier_idx WHEN 0 THEN alley_id WHEN 1 THEN community_id WHEN 2 THEN street_id
                WHEN 3 THEN district_id ELSE city_id END AS holder_id,
  (is_open AND tier_idx >= 3 AND NOT is_overdue) OR (NOT is_open AND state IN ('closed', 'awaiting_feedback')
      AND tier_idx >= 3) AS has_order,
  CASE
    WHEN is_overdue THEN {a} - ({a} - tier_entered_at) * (0.05 + 0.9 * r_t2)
    WHEN is_open AND state <> 'awaiting_verification' AND tier_idx < 3
      THEN {a} + make_interval(secs => 3600 + r_t2 * 20 * 86400)
  END AS esc
FROM w;
CREATE INDEX ON bench_case (id);
ANALYZE bench_case;
""",
        )
    )

    tracking = tracking_code_sql("c.id")
    add(
        (
            "cases",
            f"""
INSERT INTO issues_case (
  id, tracking_code, source, description, address_detail, latitude, longitude, reporter_name,
  reporter_phone, consent_at, urgency, state, tier, tier_entered_at, accept_due, resolve_due,
  escalation_due, warn_at, deadline_provisional, supervised, chase_count, rejection_reason,
  resolved_tier, reopen_count, feedback_round, created_at, updated_at, accepted_at, resolved_at,
  closed_at, alley_id, created_by_id, holder_area_id, lead_department_id, merged_into_id,
  category_id, patrol_id, verified_at)
SELECT c.id, {tracking}, x.source, ({descriptions})[1 + c.id % 8], '', NULL, NULL,
  CASE WHEN x.resident THEN (ARRAY['张','王','李','陈','林','黄','吴','郑'])[1 + c.id % 8] || '先生' ELSE '' END,
  CASE WHEN x.resident THEN '139' || lpad((c.id % 100000000)::text, 8, '0') ELSE '' END,
  CASE WHEN x.resident THEN c.created_at END,
  CASE WHEN c.r_t1 < 0.05 THEN 'urgent' ELSE 'normal' END,
  c.state, c.tier, c.tier_entered_at,
  y.accept_due, y.resolve_due, c.esc,
  CASE WHEN c.esc > {a} AND c.esc - (c.esc - c.tier_entered_at) * 0.2 > {a}
       THEN c.esc - (c.esc - c.tier_entered_at) * 0.2 END,
  false, false, 0,
  CASE WHEN c.state = 'rejected' THEN '属于私人产权纠纷，建议通过司法途径解决。' ELSE '' END,
  CASE WHEN c.state IN ('closed', 'awaiting_feedback') THEN c.tier ELSE '' END,
  CASE WHEN c.state = 'closed' AND c.r_fb > 0.97 THEN 1 ELSE 0 END,
  CASE WHEN c.state = 'closed' AND c.r_fb > 0.97 THEN 2 ELSE 1 END,
  c.created_at,
  COALESCE(y.closed_at, y.verified_at, y.resolved_at, y.accepted_at, c.created_at),
  y.accepted_at, y.resolved_at, y.closed_at,
  c.alley_id, NULL, c.holder_id,
  CASE WHEN c.has_order THEN cd.dept_id END,
  CASE WHEN c.state = 'merged' THEN c.id - 1 END,
  c.cat_id, NULL, y.verified_at
FROM bench_case c
JOIN bench_cat_dept cd ON cd.cat_id = c.cat_id AND cd.district_id = c.district_id
CROSS JOIN LATERAL (SELECT
    CASE WHEN c.r_src < 0.14 THEN 'patrol' WHEN c.r_src < 0.18 THEN 'visit'
         WHEN c.r_src < 0.22 THEN 'grid_worker' WHEN c.r_src < 0.30 THEN 'hotline'
         WHEN c.r_src < 0.32 THEN 'open311' ELSE 'resident_form' END AS source,
    c.r_src >= 0.22 AS resident) x
CROSS JOIN LATERAL (SELECT
    CASE WHEN c.is_open AND c.state IN ('submitted', 'reopened') AND c.esc IS NOT NULL THEN c.esc
         ELSE c.tier_entered_at + interval '1 day' END AS accept_due,
    CASE WHEN c.is_open AND c.state IN ('submitted', 'reopened') AND c.esc IS NOT NULL
           THEN c.esc + interval '5 days'
         WHEN c.is_open AND c.esc IS NOT NULL THEN c.esc
         WHEN c.is_open THEN {a} + make_interval(secs => 86400 + c.r_t2 * 20 * 86400)
         ELSE c.tier_entered_at + make_interval(days => 3 + 5 * c.steps) END AS resolve_due,
    CASE WHEN c.state IN ('accepted', 'in_progress', 'awaiting_verification')
           THEN c.tier_entered_at + ({a} - c.tier_entered_at) * (0.2 * c.r_t1)
         WHEN NOT c.is_open AND c.state NOT IN ('rejected', 'merged')
           THEN c.created_at + LEAST(make_interval(secs => c.r_t1 * 6 * 3600), c.dur * 0.2) END AS accepted_at,
    CASE WHEN c.state = 'awaiting_verification' THEN {a} - ({a} - c.tier_entered_at) * 0.3
         WHEN NOT c.is_open AND c.state NOT IN ('rejected', 'merged') THEN c.created_at + c.dur END AS resolved_at,
    CASE WHEN NOT c.is_open AND c.state NOT IN ('rejected', 'merged')
           THEN c.created_at + c.dur + LEAST(interval '1 day', ({a} - c.created_at - c.dur) * 0.5) END AS verified_at,
    CASE WHEN c.state = 'closed'
           THEN c.created_at + c.dur + LEAST(interval '1 day', ({a} - c.created_at - c.dur) * 0.5)
                + LEAST(interval '2 days', ({a} - c.created_at - c.dur) * 0.25)
         WHEN c.state IN ('rejected', 'merged') THEN c.created_at + LEAST(interval '2 hours', c.dur) END AS closed_at
  ) y;
""",
        )
    )

    add(
        (
            "whistles",
            f"""
INSERT INTO issues_whistle (from_tier, to_tier, reason, automatic, at, actor_id, case_id)
SELECT ({tiers})[c.s_idx + k], ({tiers})[c.s_idx + k + 1],
       CASE WHEN k % 4 = 0 THEN '超过受理期限未处理，系统自动上报。' ELSE '需上级协调相关单位解决。' END,
       k % 4 = 0,
       c.created_at + (c.tier_entered_at - c.created_at) * (k::float8 / c.steps),
       NULL, c.id
FROM bench_case c CROSS JOIN LATERAL generate_series(1, c.steps) k
WHERE c.steps > 0
ORDER BY c.id, k;
""",
        )
    )

    add(
        (
            "orders",
            f"""
INSERT INTO issues_dispatchorder (
  role, state, instructions, dispatched_at, received_at, report_due, reported_at, attended_at, leader_name,
  contact_name, contact_phone, work_plan, complete_due, completed_at, completion_note,
  rejection_reason, report_overdue_at, complete_overdue_at, case_id, common_issue_id,
  department_id, dispatched_by_id, dispatcher_area_id, replaced_by_id, withdrawn_at, withdrawal_reason)
SELECT 'lead', CASE WHEN k.is_open THEN 'reported' ELSE 'completed' END, '请按时报到并制定工作方案。',
  x.at, x.at + (x.done - x.at) * 0.1, x.at + interval '7 days', x.at + (x.done - x.at) * 0.2,
  x.at + (x.done - x.at) * 0.2,
  '分管领导', '联系人', '0595-00000000', '成立专班，一周内完成现场勘查，制定整改方案并组织实施。',
  GREATEST(x.at + interval '84 days', CASE WHEN k.is_open THEN {a} + interval '10 days' END),
  CASE WHEN k.is_open THEN NULL ELSE k.resolved_at END,
  CASE WHEN k.is_open THEN '' ELSE '已按工作方案完成整改。' END, '', NULL, NULL,
  k.id, NULL, k.lead_department_id, NULL,
  CASE WHEN k.tier = 'city' THEN k.city_id ELSE k.district_id END, NULL, NULL, ''
FROM (SELECT c.id, c.is_open, c.tier, c.district_id, c.city_id, c.tier_entered_at,
             cs.resolved_at, cs.lead_department_id
      FROM bench_case c JOIN issues_case cs ON cs.id = c.id
      WHERE c.has_order) k
CROSS JOIN LATERAL (SELECT k.tier_entered_at AS at,
                           COALESCE(k.resolved_at, {a} - interval '1 minute') AS done) x
ORDER BY k.id;
""",
        )
    )

    add(
        (
            "feedback",
            """
INSERT INTO issues_feedback (round, solved, satisfaction, comment, channel, created_at, case_id, recorded_by_id)
SELECT cs.feedback_round,
       CASE WHEN q < 0.90 THEN 'solved' WHEN q < 0.97 THEN 'partly' ELSE 'not_solved' END,
       CASE WHEN q < 0.80 THEN 'satisfied' WHEN q < 0.96 THEN 'basic' ELSE 'dissatisfied' END,
       '', CASE WHEN c.r_t1 < 0.1 THEN 'return_call' ELSE 'resident' END,
       cs.verified_at + (cs.closed_at - cs.verified_at) * 0.5, cs.id, NULL
FROM bench_case c JOIN issues_case cs ON cs.id = c.id
CROSS JOIN LATERAL (SELECT c.r_fb / 0.85 AS q) z
WHERE cs.state = 'closed' AND c.r_fb < 0.85
ORDER BY cs.id;
""",
        )
    )

    def events(kind: str, at: str, where: str, **cols: str) -> str:
        extra = {"from_state": "''", "to_state": "''", "from_tier": "''", "to_tier": "''", "note": "''"}
        extra.update(cols)
        return f"""
INSERT INTO issues_caseevent (at, actor_label, kind, from_state, to_state, from_tier, to_tier, note,
                              public, data, actor_id, case_id)
SELECT {at}, CASE WHEN '{kind}' = 'submitted' THEN '群众' ELSE '街巷服务团队' END, '{kind}',
       {extra["from_state"]}, {extra["to_state"]}, {extra["from_tier"]}, {extra["to_tier"]}, {extra["note"]},
       true, '{{}}'::jsonb, NULL, cs.id
FROM issues_case cs WHERE {where}"""

    add(
        (
            "timeline events",
            ";\n".join(
                [
                    events("submitted", "cs.created_at", "true"),
                    """
INSERT INTO issues_caseevent (at, actor_label, kind, from_state, to_state, from_tier, to_tier, note,
                              public, data, actor_id, case_id)
SELECT w.at, CASE WHEN w.automatic THEN '系统' ELSE '街巷服务团队' END,
       CASE WHEN w.automatic THEN 'escalated' ELSE 'whistled' END,
       'accepted', 'submitted', w.from_tier, w.to_tier, w.reason, true, '{}'::jsonb, NULL, w.case_id
FROM issues_whistle w""",
                    events(
                        "accepted",
                        "cs.accepted_at",
                        "cs.accepted_at IS NOT NULL",
                        from_state="'submitted'",
                        to_state="'accepted'",
                    ),
                    """
INSERT INTO issues_caseevent (at, actor_label, kind, from_state, to_state, from_tier, to_tier, note,
                              public, data, actor_id, case_id)
SELECT o.dispatched_at, '区委组织部', 'dispatched', '', '', '', '', '请按时报到并制定工作方案。', true,
       jsonb_build_object('order_id', o.id, 'department_id', o.department_id), NULL, o.case_id
FROM issues_dispatchorder o""",
                    events(
                        "resolved",
                        "cs.resolved_at",
                        "cs.resolved_at IS NOT NULL",
                        from_state="'in_progress'",
                        to_state="'awaiting_verification'",
                        note="'已到现场处理完毕，经复查问题已解决。'",
                    ),
                    events(
                        "verified",
                        "cs.verified_at",
                        "cs.verified_at IS NOT NULL",
                        from_state="'awaiting_verification'",
                        to_state="'awaiting_feedback'",
                    ),
                    """
INSERT INTO issues_caseevent (at, actor_label, kind, from_state, to_state, from_tier, to_tier, note,
                              public, data, actor_id, case_id)
SELECT f.created_at, '群众', 'feedback', '', '', '', '', '', true, '{}'::jsonb, NULL, f.case_id
FROM issues_feedback f""",
                    events(
                        "closed",
                        "cs.closed_at",
                        "cs.state = 'closed'",
                        from_state="'awaiting_feedback'",
                        to_state="'closed'",
                    ),
                    events(
                        "rejected",
                        "cs.closed_at",
                        "cs.state = 'rejected'",
                        from_state="'submitted'",
                        to_state="'rejected'",
                        note="cs.rejection_reason",
                    ),
                    events(
                        "merged",
                        "cs.closed_at",
                        "cs.state = 'merged'",
                        from_state="'submitted'",
                        to_state="'merged'",
                    ),
                ]
            )
            + ";",
        )
    )

    days = span_days + 1
    add(
        (
            "patrol logs",
            f"""
INSERT INTO issues_patrollog (kind, date, checked, households_visited, notes, expense_yuan, created_at,
                              alley_id, chief_id)
SELECT 'patrol', d::date, '["下水道", "路灯", "消防通道"]'::jsonb, 0, '巡查正常。', 0,
       d + interval '10 hours', al.alley_id, al.chief_id
FROM bench_alley al
CROSS JOIN generate_series(({a} - interval '{days} days')::date, ({a} - interval '1 day')::date,
                           interval '1 day') d
WHERE al.chief_id IS NOT NULL AND extract(isodow FROM d) < 6
  AND abs(hashtext(al.code || d::text)) % 100 < 70
UNION ALL
SELECT 'visit', d::date, '[]'::jsonb, 5 + abs(hashtext(al.code || d::text)) % 20, '走访独居老人和商户。', 0,
       d + interval '15 hours', al.alley_id, al.chief_id
FROM bench_alley al
CROSS JOIN generate_series(({a} - interval '{days} days')::date, ({a} - interval '1 day')::date,
                           interval '1 day') d
WHERE al.chief_id IS NOT NULL AND extract(isodow FROM d) = 1
  AND abs(hashtext(al.code || d::text || 'v')) % 100 < 70;
""",
        )
    )
    return steps


def _plain_indexes(cur: Any, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes on ``tables`` that no constraint owns."""
    cur.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        ORDER BY i.tablename, i.indexname
        """,
        (list(tables),),
    )
    return [(name, definition) for name, definition in cur.fetchall()]


# Defaults for NOT NULL columns the generator does not know (added by later migrations).
_TYPE_DEFAULTS = {
    "boolean": "false",
    "integer": "0",
    "bigint": "0",
    "smallint": "0",
    "numeric": "0",
    "double precision": "0",
    "text": "''",
    "character varying": "''",
    "jsonb": "'{}'::jsonb",
    "timestamp with time zone": "now()",
    "date": "current_date",
}


def _default_unknown_columns(cur: Any) -> list[tuple[str, str]]:
    """Give every NOT NULL column without a default a neutral one for the load; returns them."""
    cur.execute(
        """
        SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = ANY(%s) AND is_nullable = 'NO'
          AND column_default IS NULL AND column_name <> 'id'
        """,
        (list(LOADED_TABLES),),
    )
    added = []
    for table, column, data_type in cur.fetchall():
        default = _TYPE_DEFAULTS.get(data_type)
        if default is not None:
            cur.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DEFAULT {default}')
            added.append((table, column))
    return added


def generate(
    conn: Any,
    *,
    cases: int,
    anchor: dt.datetime,
    overdue: int | None = None,
    say: Callable[[str], None] = print,
) -> float:
    """Load the data set into an empty (migrated and seeded) database; returns the seconds taken."""
    started = time.perf_counter()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM issues_case")
        if cur.fetchone()[0]:
            raise RuntimeError("issues_case is not empty: generate into a fresh database")
        cur.execute("SET session_replication_role = replica")  # no FK triggers: consistent by construction
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET work_mem = '256MB'")
        defaulted = _default_unknown_columns(cur)
        indexes = _plain_indexes(cur, LOADED_TABLES)
        for name, _definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        for label, sql in plan(cases=cases, anchor=anchor, overdue=overdue):
            t0 = time.perf_counter()
            cur.execute(sql)
            say(f"  data: {label:<16} {time.perf_counter() - t0:6.1f} s")
        t0 = time.perf_counter()
        for _name, definition in indexes:
            cur.execute(definition)
        say(f"  data: {'indexes':<16} {time.perf_counter() - t0:6.1f} s ({len(indexes)} rebuilt)")
        for table in LOADED_TABLES:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 1))"
            )
        cur.execute("SET session_replication_role = origin")
        for table, column in defaulted:
            cur.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP DEFAULT')
        cur.execute("DROP TABLE IF EXISTS bench_gen, bench_case")
        t0 = time.perf_counter()
        cur.execute("VACUUM (ANALYZE)")
        say(f"  data: {'vacuum analyze':<16} {time.perf_counter() - t0:6.1f} s")
    return time.perf_counter() - started
