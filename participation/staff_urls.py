"""Staff pages of notices and deliberation, included under /staff/ in the staff namespace by ``issues/urls.py``."""

from __future__ import annotations

from django.urls import path

from . import deliberation_views, notice_views

notice_patterns = [
    path("", notice_views.staff_notice_list, name="notice-list"),
    path("new/", notice_views.staff_notice_new, name="notice-new"),
    path("<int:pk>/", notice_views.staff_notice_detail, name="notice-detail"),
    path("<int:pk>/edit/", notice_views.staff_notice_edit, name="notice-edit"),
    path("<int:pk>/<slug:action>/", notice_views.staff_notice_action, name="notice-action"),
]

topic_patterns = [
    path("", deliberation_views.staff_topic_list, name="topic-list"),
    path("new/", deliberation_views.staff_topic_new, name="topic-new"),
    path("comments/", deliberation_views.moderation_queue, name="topic-moderation"),
    path("comments/<int:pk>/<slug:decision>/", deliberation_views.moderate, name="topic-moderate"),
    path("<int:pk>/", deliberation_views.staff_topic_detail, name="topic-detail"),
    path("<int:pk>/edit/", deliberation_views.staff_topic_edit, name="topic-edit"),
    path("<int:pk>/<slug:action>/", deliberation_views.staff_topic_action, name="topic-action"),
]
