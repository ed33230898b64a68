"""The residents' survey page (/survey/<token>/): an invite code, four questions, no personal data."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from . import services
from .forms import SurveyAnswerForm
from .models import Survey

# Invite codes are 8 of 31 characters (about 10^12): guessing is hopeless, but a limit keeps it so.
ANSWER_RATE = "30/h"


def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    survey = Survey.objects.select_related("case", "case__category", "community").filter(token=token).first()
    if survey is None:
        raise Http404
    form = SurveyAnswerForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    status, notice = 200, ""
    if request.method == "POST":
        if is_ratelimited(request, group="survey-answer-ip", key="ip", rate=ANSWER_RATE, increment=True):
            status, notice = 429, _("提交太频繁了，请过一段时间再试。")
        elif form.is_valid():
            try:
                services.survey_answer(token=token, **form.cleaned_data)
            except services.EvaluationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = 400
            else:
                return render(request, "evaluation/public_survey_done.html", _counts(survey))
        else:
            status = 400
    return render(
        request,
        "evaluation/public_survey.html",
        {
            "survey": survey,
            "form": form,
            "notice": notice,
            "open": survey.accepts_answers(),
            **_counts(survey),
        },
        status=status,
    )


def _counts(survey: Survey) -> dict[str, object]:
    return {"survey": survey, "answered": survey.answers.count()}
