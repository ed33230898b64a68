"""The staff site, mounted at /staff/ (namespace ``staff``); dispatch's pages are included here too."""

from __future__ import annotations

from django.urls import include, path

from alleys import expense_urls
from participation import staff_urls as participation_urls
from participation import supervision_urls

from . import meeting_views, views, work_views
from . import order_urls as dispatch_urls

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", work_views.case_list, name="case-list"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/export.csv", work_views.case_export, name="case-export"),
    path("cases/bulk/", work_views.case_bulk, name="case-bulk"),
    path("cases/views/", work_views.saved_view_create, name="saved-view-create"),
    path("cases/views/<int:pk>/delete/", work_views.saved_view_delete, name="saved-view-delete"),
    path("cases/<int:pk>/work/<slug:action>/", work_views.case_work, name="case-work"),
    path("cases/<int:pk>/", views.case_detail, name="case-detail"),
    path("cases/<int:pk>/<slug:transition>/", views.case_transition, name="case-transition"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("photos/<int:pk>/public/", views.photo_public, name="photo-public"),
    path("patrols/", views.patrol_list, name="patrol-list"),
    path("patrols/new/", views.patrol_new, name="patrol-new"),
    path("patrols/<int:pk>/", views.patrol_detail, name="patrol-detail"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox-read"),
    path("meetings/", meeting_views.meeting_list, name="meeting-list"),
    path("meetings/<int:pk>/", meeting_views.meeting_detail, name="meeting-detail"),
    path("meetings/<int:pk>/<slug:action>/", meeting_views.meeting_action, name="meeting-action"),
    path("meetings/files/<int:pk>/", meeting_views.meeting_attachment, name="meeting-attachment"),
    path("mechanisms/", meeting_views.mechanism_list, name="mechanism-list"),
    path("mechanisms/<int:pk>/", meeting_views.mechanism_detail, name="mechanism-detail"),
    path("mechanisms/<int:pk>/file/", meeting_views.mechanism_document, name="mechanism-document"),
    path("mechanisms/<int:pk>/<slug:action>/", meeting_views.mechanism_action, name="mechanism-action"),
    path("expenses/", include(expense_urls.urlpatterns)),
    path("supervision/", include(supervision_urls.urlpatterns)),
    path("notices/", include(participation_urls.notice_patterns)),
    path("topics/", include(participation_urls.topic_patterns)),
    path("orders/", include(dispatch_urls.urlpatterns)),
    *dispatch_urls.staff_patterns,
]
