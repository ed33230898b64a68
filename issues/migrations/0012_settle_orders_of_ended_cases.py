"""Settle the department orders that outlived their cases (issue 15, defect 2).

Before 0011, closing a case (by the community, by the resident's answer, or by the sweep after
the feedback window) left its cooperating orders open: still on the departments' to-do lists,
flagged overdue by the sweep and counted against them. Rejecting or merging withdrew only the
orders of the case itself, never those of a common issue. This withdraws every order still open
whose case has ended, and every open order of a common issue whose cases have all ended, as
``issues.workflow.bulk.orders_settle_for_cases`` now does when a case ends: the order says why,
its open extension request is withdrawn, and each case it served gets a timeline event (by
"系统", without notifications: the departments are not told about old cases today).

States and texts are written out here, not imported: a migration must keep doing what it did
when the code it was written with has changed. Running it twice changes nothing.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

ENDED = ["closed", "merged", "rejected"]
ACTIVE = ["dispatched", "received", "reported", "rejected"]
PENDING_EXTENSION = ["pending_community", "pending_org"]
ROLES = {"lead": "牵头", "cooperating": "配合"}
REASON = "案件已结束（关闭、不予受理或合并），派单随案件结束，不再办理（系统补记）。"


def settle(apps, schema_editor):
    CaseEvent = apps.get_model("issues", "CaseEvent")
    CommonIssue = apps.get_model("issues", "CommonIssue")
    DispatchOrder = apps.get_model("issues", "DispatchOrder")
    ExtensionRequest = apps.get_model("issues", "ExtensionRequest")
    through = CommonIssue.cases.through

    still_served = through.objects.filter(commonissue_id=OuterRef("pk")).exclude(case__state__in=ENDED)
    finished_issues = CommonIssue.objects.filter(cases__isnull=False).exclude(Exists(still_served))
    orders = list(
        DispatchOrder.objects.filter(state__in=ACTIVE)
        .filter(Q(case__state__in=ENDED) | Q(common_issue__in=finished_issues.values("pk")))
        .select_related("department")
        .order_by("pk")
    )
    if not orders:
        return
    now = timezone.now()
    ids = [o.pk for o in orders]
    DispatchOrder.objects.filter(pk__in=ids).update(
        state="withdrawn", withdrawn_at=now, withdrawal_reason=REASON
    )
    ExtensionRequest.objects.filter(order_id__in=ids, state__in=PENDING_EXTENSION).update(
        state="withdrawn", decision_note=REASON
    )
    served = {}
    issue_ids = {o.common_issue_id for o in orders if o.common_issue_id}
    for issue_id, case_id in through.objects.filter(commonissue_id__in=issue_ids).values_list(
        "commonissue_id", "case_id"
    ):
        served.setdefault(issue_id, []).append(case_id)
    events = []
    for order in orders:
        targets = [order.case_id] if order.case_id else served.get(order.common_issue_id, [])
        note = f"撤回{order.department.name}的{ROLES.get(order.role, '')}派单：{REASON}"
        data = {"order_id": order.pk, "department_id": order.department_id, "role": order.role}
        events.extend(
            CaseEvent(
                case_id=case_id,
                kind="order_withdrawn",
                at=now,
                actor_label="系统",
                note=note,
                public=True,
                data=data,
            )
            for case_id in targets
        )
    CaseEvent.objects.bulk_create(events, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0011_order_withdrawal"),
    ]

    operations = [
        migrations.RunPython(settle, migrations.RunPython.noop),
    ]
