"""The chiefs' expenses pages, included under /staff/expenses/ in the staff namespace by ``issues/urls.py``."""

from __future__ import annotations

from django.urls import path

from . import expense_views

urlpatterns = [
    path("", expense_views.expense_list, name="expense-list"),
    path("new/", expense_views.expense_new, name="expense-new"),
    path("report/", expense_views.expense_report_page, name="expense-report"),
    path("<int:pk>/", expense_views.expense_detail, name="expense-detail"),
    path("<int:pk>/edit/", expense_views.expense_edit, name="expense-edit"),
    path("<int:pk>/receipt/", expense_views.expense_receipt, name="expense-receipt"),
    path("<int:pk>/<slug:action>/", expense_views.expense_action, name="expense-action"),
]
