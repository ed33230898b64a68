"""我的反映 in the demo city: one resident's number with several cases, who asked for SMS.

Verify ``DEMO_RESIDENT_PHONE`` at ``/mine/`` (the console SMS backend prints the code in the
``dev.py run`` terminal) to see them. Written through the services, without telling anyone (no
SMS at seeding). Idempotent: when the number has cases of its own here, nothing is written.
"""

from __future__ import annotations

import datetime as dt
import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from alleys.choices import AreaLevel
from alleys.models import Area
from alleys.people import signed_in
from dispatch.models import CategoryType
from issues import workflow as wf
from issues.models import Case
from issues.notify import notifications_suppressed

from .city import demo_anchors

DEMO_RESIDENT_PHONE = "13800000088"
# (days ago, what the resident wrote, how far it went: "", "accept", "resolve")
REPORTS: tuple[tuple[int, str, str], ...] = (
    (30, "楼道口的路灯坏了，晚上上下楼看不见。", "resolve"),
    (6, "巷子里的下水道堵了，一下雨就积水。", "accept"),
    (1, "有人在巷口乱堆建筑垃圾。", ""),
)


def _fix_photo() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 220, 200)).save(out, format="PNG")
    return SimpleUploadedFile("fixed.png", out.getvalue(), content_type="image/png")


def seed_mine(*, now: dt.datetime | None = None) -> int:
    """Write the demo resident's cases unless the number has some; return how many were written."""
    now = now or timezone.now()
    if Case.objects.filter(reporter_phone=DEMO_RESIDENT_PHONE).exists():
        return 0
    anchors = demo_anchors()
    alley = Area.objects.filter(code=anchors.alley.code, level=AreaLevel.ALLEY).first()
    category = CategoryType.objects.filter(is_active=True).order_by("code").first()
    chief_user = get_user_model().objects.filter(username="chief").first()
    if alley is None or category is None or chief_user is None:
        return 0
    chief = signed_in(chief_user)
    written = 0
    with notifications_suppressed():
        for days, words, play in REPORTS:
            moment = now - dt.timedelta(days=days)
            with transaction.atomic():
                case = wf.case_submit(
                    category=category,
                    alley=alley,
                    description=words,
                    reporter_name="陈女士",
                    reporter_phone=DEMO_RESIDENT_PHONE,
                    consent=True,
                    sms_opt_in=True,
                    now=moment,
                )
                if play in ("accept", "resolve"):
                    wf.case_accept(case=case, actor=chief, now=moment + dt.timedelta(hours=1))
                if play == "resolve":
                    wf.case_start(case=case, actor=chief, now=moment + dt.timedelta(hours=2))
                    wf.case_resolve(
                        case=case,
                        actor=chief,
                        note="已处理。",
                        photos=[_fix_photo()],
                        now=moment + dt.timedelta(days=1),
                    )
            written += 1
    return written
