"""The case and everything that happens to it: the timeline, whistles, department orders, notifications."""

from .cases import (
    ApiClient,
    Case,
    CaseEvent,
    CasePhoto,
    CaseQuerySet,
    Feedback,
    PatrolLog,
    PatrolLogQuerySet,
    Submission,
    new_tracking_code,
    photo_path,
)
from .notifications import (
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationOutbox,
    NotificationQuerySet,
    SystemAlert,
)
from .orders import (
    CommonIssue,
    CommonIssueQuerySet,
    DispatchOrder,
    DispatchOrderQuerySet,
    ExtensionRequest,
    Whistle,
)
from .visits import Attendance, AttendanceQuerySet, Consultation, ConsultationQuerySet

__all__ = [
    "ApiClient",
    "Attendance",
    "AttendanceQuerySet",
    "Case",
    "CaseEvent",
    "CasePhoto",
    "CaseQuerySet",
    "CommonIssue",
    "CommonIssueQuerySet",
    "Consultation",
    "ConsultationQuerySet",
    "DispatchOrder",
    "DispatchOrderQuerySet",
    "ExtensionRequest",
    "Feedback",
    "Notification",
    "NotificationChannel",
    "NotificationDelivery",
    "NotificationOutbox",
    "NotificationQuerySet",
    "PatrolLog",
    "PatrolLogQuerySet",
    "Submission",
    "SystemAlert",
    "Whistle",
    "new_tracking_code",
    "photo_path",
]
