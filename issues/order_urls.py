"""Staff URLs of the dispatch app, included by ``issues.urls`` into the ``staff`` namespace.

``urlpatterns`` is mounted under ``/staff/orders/``; ``staff_patterns`` sit directly
under ``/staff/`` (dispatching a case and consulting before it, consultations, common issues).
"""

from __future__ import annotations

from django.urls import path

from . import consultation_views
from . import order_views as views

urlpatterns = [
    path("", views.order_list, name="order-list"),
    path("<int:pk>/", views.order_detail, name="order-detail"),
    path("<int:pk>/<slug:action>/", views.order_action, name="order-action"),
]

staff_patterns = [
    path("dispatch/<int:case_id>/", views.dispatch_case, name="dispatch-case"),
    path("dispatch/<int:case_id>/consult/", views.dispatch_consult, name="dispatch-consult"),
    path("consultations/", consultation_views.consultation_list, name="consultation-list"),
    path("consultations/<int:pk>/", consultation_views.consultation_detail, name="consultation-detail"),
    path(
        "consultations/<int:pk>/<slug:action>/",
        consultation_views.consultation_action,
        name="consultation-action",
    ),
    path("common-issues/", views.common_issue_list, name="common-issue-list"),
    path("common-issues/proposals/", views.common_issue_proposals, name="common-issue-proposals"),
    path("common-issues/<int:pk>/", views.common_issue_detail, name="common-issue-detail"),
]
