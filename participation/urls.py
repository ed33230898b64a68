"""Public URLs of residents' participation."""

from __future__ import annotations

from django.urls import path

from . import deliberation_views, notice_views, supervision_views, views

urlpatterns = [
    path("phone/", views.phone_start, name="phone-start"),
    path("phone/code/", views.phone_code, name="phone-code"),
    path("phone/forget/", views.phone_forget, name="phone-forget"),
    path("alley/<str:code>/supervise/", supervision_views.supervise, name="supervise"),
    path("alley/<str:code>/supervise/done/", supervision_views.supervise_done, name="supervise-done"),
    path("notices/", notice_views.notice_list, name="notice-list"),
    path("notices/subscribe/", notice_views.subscribe, name="notice-subscribe"),
    path("notices/subscriptions/", notice_views.subscriptions, name="notice-subscriptions"),
    path("notices/<int:pk>/", notice_views.notice_detail, name="notice-detail"),
    path("topics/", deliberation_views.topic_list, name="topic-list"),
    path("topics/<int:pk>/", deliberation_views.topic_detail, name="topic-detail"),
    path("topics/<int:pk>/vote/", deliberation_views.topic_vote, name="topic-vote"),
    path("topics/<int:pk>/comment/", deliberation_views.topic_comment, name="topic-comment"),
]
