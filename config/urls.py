"""URL routing."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core.browser import favicon

# One login page for staff, in Chinese: the admin renders the staff pages' template (its own form
# still checks is_staff), so nobody meets Django's English-styled admin login.
admin.site.login_template = "staff/login.html"

urlpatterns = [
    path("favicon.ico", favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    # The staff pages' own login (Chinese, django-axes' lockout applies like everywhere).
    path("staff/login/", auth_views.LoginView.as_view(template_name="staff/login.html"), name="login"),
    path("staff/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("staff/members/", include("members.urls")),
    path("staff/", include("issues.urls")),
    path("open311/v2/", include("issues.open311.urls")),
    path("dashboard/", include("evaluation.urls")),
    path("survey/", include("evaluation.survey_urls")),
    path("", include("alleys.urls")),
    path("", include("participation.urls")),
    path("members/", include("members.public_urls")),
    path("", include("issues.public.urls")),
]

# Chinese error pages with the reason and a way back (core/error_pages.py).
handler400 = "core.error_pages.bad_request"
handler403 = "core.error_pages.permission_denied"
handler404 = "core.error_pages.page_not_found"
handler500 = "core.error_pages.server_error"
