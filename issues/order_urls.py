"""Staff URLs of the dispatch app, included by ``issues.urls`` into the ``staff`` namespace.

``urlpatterns`` is mounted under ``/staff/orders/``; ``staff_patterns`` sit directly
under ``/staff/`` (dispatching a case, common issues).
"""

from __future__ import annotations

from django.urls import path

from . import order_views as views

urlpatterns = [
    path("", views.order_list, name="order-list"),
    path("<int:pk>/", views.order_detail, name="order-detail"),
    path("<int:pk>/<slug:action>/", views.order_action, name="order-action"),
]

staff_patterns = [
    path("dispatch/<int:case_id>/", views.dispatch_case, name="dispatch-case"),
    path("common-issues/", views.common_issue_list, name="common-issue-list"),
    path("common-issues/<int:pk>/", views.common_issue_detail, name="common-issue-detail"),
]
