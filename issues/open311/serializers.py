"""How our cases and categories look in Open311 GeoReport v2.

Our richer states map to the spec's two: a case is ``open`` while someone still has to
act (submitted, accepted, in progress, awaiting verification, reopened) and ``closed``
once resolved for the resident or ended (awaiting feedback, closed, rejected, merged);
``status_notes`` says where it really stands. ``agency_responsible`` is the unit holding
the case now and ``expected_datetime`` its current deadline, so a client sees the case
climb the chain. Reporters' personal data never appears; mobile numbers typed into a
description are masked.

A request has one ``service_request_id`` for every reader and every resource (the POST's
answer, GET one, GET many, tokens): the case's public number, as on the public board. The
tracking code is the resident's secret (it opens feedback on the tracking page): it appears
only in the POST's answer, as ``token`` and in the ``service_notice``, for the client that
filed the request, and never in a feed.

``media_url`` follows the public board's rule for photos: anonymous readers see only a photo
staff have marked public. The link a client posted with its request is its own (a photo it
published elsewhere, which staff have not looked at), so it comes back only to keyed clients
of the area, and only while no photo is public (a public photo comes first for every reader).

Every datetime is a W3C datetime with its offset (``w3c``), the discovery's changeset too; a
category's keywords, typed in the admin with spaces or Chinese punctuation, are the spec's
comma-separated list (``keywords``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alleys.logging import mask_phone
from alleys.models import Area, ancestor_codes
from core.site import site_url
from dispatch.models import CategoryType
from issues.choices import OPEN_STATES, CaseState, Urgency

from ..models import Case

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


def w3c(moment: dt.datetime | None) -> str | None:
    """A W3C datetime with its offset, e.g. 2026-03-02T10:00:00+08:00."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def service(category: CategoryType) -> dict[str, Any]:
    """One entry of GET services."""
    klass = category.category_class
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": _("%(code)s类事项（%(name)s），由街巷服务团队首先办理，超期最高自动上报至%(tier)s。")
        % {"code": klass.code, "name": klass.name, "tier": _tier_label(category.highest_tier)},
        "metadata": True,
        "type": "realtime",
        "keywords": keywords(category.keywords),
        "group": klass.name,
    }


# What separates keywords typed in the admin: spaces (full-width too), commas, 、 and semicolons.
KEYWORD_SEPARATORS = re.compile(r"[\s,，、;；]+")


def keywords(stored: str) -> str:
    """The category's keywords as the spec's comma-separated list ("路灯 照明、夜间" → "路灯,照明,夜间")."""
    return ",".join(dict.fromkeys(word for word in KEYWORD_SEPARATORS.split(stored) if word))


def _tier_label(tier: str) -> str:
    from alleys.choices import AreaLevel

    return str(AreaLevel(tier).label) if tier in AreaLevel.values else tier


def service_definition(category: CategoryType) -> dict[str, Any]:
    """GET services/{code}: the attributes a request of this type may carry."""
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": "urgency",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": None,
                "order": 1,
                "description": _("紧急程度：紧急的事项办理时限减半。"),
                "values": [{"key": value, "name": str(label)} for value, label in Urgency.choices],
            },
            {
                "variable": True,
                "code": "alley",
                "datatype": "string",
                "required": False,
                "datatype_description": _("15 位数字的街巷/网格统一编码"),
                "order": 2,
                "description": _(
                    "问题所在的街巷/网格编码（公示牌二维码上有），也可以直接用 address_id 提交。"
                    "不填时按 address_string 中的街巷名称确定街巷（须在服务区域内只对应一条街巷，"
                    "同名街巷请写明社区）；只有经纬度时必须填写，因为街巷没有登记坐标。"
                ),
                "values": [],
            },
        ],
    }


def is_open(case: Case) -> bool:
    return case.state in OPEN_STATES


def status_notes(case: Case, due: dt.datetime | None) -> str:
    """Where the case really stands, in words (no staff names, no personal data); ``due`` is its
    governing deadline (``Case.current_due``), the request's expected_datetime."""
    label = case.get_state_display()
    if case.state == CaseState.REJECTED:
        return _("%(state)s：%(reason)s") % {"state": label, "reason": case.rejection_reason}
    if case.state == CaseState.MERGED and case.merged_into_id is not None:
        # The case it joined by its number, the id a client looks up (its tracking code is a secret).
        return _("%(state)s：与 %(code)s 属同一问题，请查询该诉求的进展。") % {
            "state": label,
            "code": case.merged_into_id,
        }
    # Jilin's orange light as the tracking page names it (Case.public_state), then what is awaited.
    if case.state == CaseState.AWAITING_FEEDBACK:
        return _("%(light)s。请反映人评价。") % {"light": case.public_state}
    if case.state == CaseState.AWAITING_RETURN_VISIT:
        return _("%(light)s。社区将电话或上门回访反映人。") % {"light": case.public_state}
    if case.state == CaseState.CLOSED:
        return str(label)
    note = _("%(state)s（%(tier)s层级）") % {"state": label, "tier": case.get_tier_display()}
    if case.supervised:
        note += _("，已督办")
    if case.walked_predicted_days(due):
        # expected_datetime (the governing deadline) has no field to say it is an estimate: say it here.
        note += _("（期限待定：节假日安排未公布，按法定节假日推算）")
    return note


def agency_responsible(case: Case) -> str:
    """The unit holding the case now: the lead department once dispatched, else the tier's unit."""
    from dispatch.chain import unit_label

    if case.lead_department_id and case.lead_department is not None:
        return case.lead_department.name
    return unit_label(case.tier, case.holder_area)


def full_names(alleys: Iterable[Area]) -> dict[str, str]:
    """``code -> "市 / 区 / 街道 / 社区 / 巷"`` for the given alleys, in one query."""
    alleys = list(alleys)
    codes: set[str] = set()
    for alley in alleys:
        codes.update(ancestor_codes(alley.code))
    names = dict(Area.objects.filter(code__in=codes).values_list("code", "name"))
    names.update({alley.code: alley.name for alley in alleys})
    return {
        alley.code: " / ".join(
            names[code] for code in [*ancestor_codes(alley.code), alley.code] if code in names
        )
        for alley in alleys
    }


def photo_url(photo_id: int) -> str | None:
    try:
        return f"{site_url()}{reverse('public-photo', kwargs={'pk': photo_id})}"
    except NoReverseMatch:
        return None


def service_request(case: Case, *, addresses: dict[str, str], trusted: bool = False) -> dict[str, Any]:
    """One request of GET requests (public: no reporter data, public photos only).

    Every reader gets the case's number as its id (never its tracking code, which lets its
    holder give feedback). Anonymous readers get what the public board shows: the type
    rather than the resident's own words, no coordinates, and as ``media_url`` only a photo
    staff have made public. A client with an api_key for the area gets the description
    (mobile numbers masked), the location, and the ``media_url`` the filing client posted
    (``posted_media_url``, annotated by the view) when no photo is public: a public photo
    comes first for every reader.
    """
    photos = getattr(case, "public_photos", None)
    if photos is None:
        photos = list(case.photos.public().order_by("created_at", "id"))
    open_now = is_open(case)
    due = case.current_due
    updated = case.updated_at if open_now else (case.closed_at or case.resolved_at or case.updated_at)
    return {
        "service_request_id": str(case.pk),
        "status": "open" if open_now else "closed",
        "status_notes": status_notes(case, due),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": mask_phone(case.description) if trusted else case.category.name,
        "agency_responsible": agency_responsible(case),
        "service_notice": None,
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(updated),
        "expected_datetime": w3c(due) if open_now else None,
        "address": addresses.get(case.alley.code, case.alley.name),
        "address_id": case.alley.code,
        "zipcode": None,
        "lat": float(case.latitude) if trusted and case.latitude is not None else None,
        "long": float(case.longitude) if trusted and case.longitude is not None else None,
        "media_url": photo_url(photos[0].pk) if photos else posted_media_url(case, trusted=trusted),
    }


def posted_media_url(case: Case, *, trusted: bool) -> str | None:
    """The link the filing client posted, for keyed readers only (staff have not vetted it)."""
    if not trusted:
        return None
    return getattr(case, "posted_media_url", None) or None


def service_notice(case: Case) -> str:
    """What happens next, for the POST answer."""
    due = case.current_due
    text = _("已登记，由%(unit)s办理。查询码：%(code)s。") % {
        "unit": agency_responsible(case),
        "code": case.tracking_code,
    }
    if due is not None:
        text += _("受理期限：%(due)s。") % {"due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M")}
    return text
