"""The report (报到) deadline is met only by a confirmed attendance: the one rule, for every reader.

Ma'anshan: a department answering a whistle goes to the whistling community within a week of
the order (“应于接到任务单的一周内赴‘吹哨’社区‘报到’”). Filing the leader, the contact and
the work plan is the department's announcement of who will come and when; the report counts
when the community confirms that they came, at the time they actually came:

- **on time**: the confirmed attendance was at or before ``report_due``;
- **late**: it was after ``report_due`` (a report filed in time but attended late is late);
- **missed**: no confirmed attendance, and either ``report_due`` has passed or the community
  recorded that the department did not come (a no-show). A later confirmed attendance turns a
  missed report into a late one (or an on-time one, when it still came by the deadline; the
  no-show stays counted on its own);
- **pending**: none of these yet.

The order pages, the API, the sweep's overdue flag, the evaluation's counters and the
一哨一考核 form's computed timeliness all ask this module.
"""

from __future__ import annotations

import datetime as dt

from .choices import ReportOutcome


def report_outcome(
    *, report_due: dt.datetime, attended_at: dt.datetime | None, no_show: bool, now: dt.datetime
) -> str:
    """The ``ReportOutcome`` of one order at ``now``."""
    if attended_at is not None:
        return ReportOutcome.ON_TIME if attended_at <= report_due else ReportOutcome.LATE
    if no_show or report_due <= now:
        return ReportOutcome.MISSED
    return ReportOutcome.PENDING


def report_overdue(*, report_due: dt.datetime, attended_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether the report deadline has passed with no confirmed attendance (the sweep's flag, the pages' tag)."""
    return attended_at is None and report_due <= now
