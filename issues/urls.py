"""The staff site, mounted at /staff/ (namespace ``staff``); dispatch's pages are included here too."""

from __future__ import annotations

from django.urls import include, path

from . import order_urls as dispatch_urls
from . import views

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<int:pk>/", views.case_detail, name="case-detail"),
    path("cases/<int:pk>/<slug:transition>/", views.case_transition, name="case-transition"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("photos/<int:pk>/public/", views.photo_public, name="photo-public"),
    path("patrols/", views.patrol_list, name="patrol-list"),
    path("patrols/new/", views.patrol_new, name="patrol-new"),
    path("patrols/<int:pk>/", views.patrol_detail, name="patrol-detail"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox-read"),
    path("orders/", include(dispatch_urls.urlpatterns)),
    *dispatch_urls.staff_patterns,
]
