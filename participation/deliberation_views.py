"""Deliberation pages: the residents' topic list, topic page, vote and comment; the staff's topic
list, form, actions and the comment moderation queue.

Public at ``/topics/`` (``participation/urls.py``), staff at ``/staff/topics/``
(``participation/staff_urls.py``). The rules are ``participation/deliberation.py``'s.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alleys.people import SignedInRequest
from core.errors import ActionRefused
from core.phones import mask_number

from . import deliberation
from .deliberation_forms import CommentForm, OutcomeForm, TopicForm
from .models import CommentState, Topic, TopicComment, TopicState
from .notice_views import area_of
from .phones import verified_phone
from .views import verify_url

NAV = "topics"


# --- residents ----------------------------------------------------------------------------------------


@require_safe
def topic_list(request: HttpRequest) -> HttpResponse:
    """Open and closed topics, of an alley and its community with ``?area=``; open ones first."""
    area = area_of(request.GET.get("area", ""), deliberation.TOPIC_LEVELS)
    base = Topic.objects.public() if area is None else Topic.objects.public().reaching(area)
    qs = base.select_related("area").annotate(n_votes=Count("votes"))
    now = timezone.now()
    page = Paginator(qs.order_by("-closes_at", "-pk"), 20).get_page(request.GET.get("page"))
    items = list(page.object_list)
    open_items = [t for t in items if deliberation.effective_state(t, now) == TopicState.OPEN]
    done_items = [t for t in items if deliberation.effective_state(t, now) != TopicState.OPEN]
    context = {"area": area, "page": page, "open_items": open_items, "done_items": done_items, "nav": NAV}
    return render(request, "participation/deliberation/list.html", context)


def _public_topic(pk: int) -> Topic:
    return get_object_or_404(Topic.objects.public().select_related("area"), pk=pk)


@never_cache
@require_http_methods(["GET", "HEAD"])
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The topic, its options, the vote and comment forms; counts once closed; approved comments; the outcome."""
    topic = _public_topic(pk)
    return _render_topic(request, topic)


def _render_topic(
    request: HttpRequest, topic: Topic, *, comment_form: CommentForm | None = None, status: int = 200
) -> HttpResponse:
    now = timezone.now()
    state = deliberation.effective_state(topic, now)
    phone = verified_phone(request)
    options = list(topic.options.all())
    counts = deliberation.vote_counts(topic)
    total = sum(counts.values())
    show_counts = state != TopicState.OPEN
    rows = [
        {
            "option": o,
            "votes": counts.get(o.pk, 0),
            "percent": round(100 * counts.get(o.pk, 0) / total) if total else 0,
        }
        for o in options
    ]
    context = {
        "topic": topic,
        "state": state,
        "state_label": TopicState(state).label,
        "is_open": state == TopicState.OPEN,
        "rows": rows,
        "total": total,
        "show_counts": show_counts,
        "comments": list(topic.comments.filter(state=CommentState.APPROVED).order_by("created_at", "pk")),
        "masked": mask_number(phone) if phone else "",
        "voted": deliberation.has_voted(topic, phone),
        "verify": verify_url(reverse("topic-detail", kwargs={"pk": topic.pk})),
        "comment_form": comment_form or CommentForm(),
        "nav": NAV,
    }
    return render(request, "participation/deliberation/detail.html", context, status=status)


@require_POST
def topic_vote(request: HttpRequest, pk: int) -> HttpResponse:
    """One vote of the verified number; a second is refused with a message."""
    topic = _public_topic(pk)
    phone = verified_phone(request)
    here = reverse("topic-detail", kwargs={"pk": pk})
    if phone is None:
        return HttpResponseRedirect(verify_url(here))
    try:
        option = int(request.POST.get("option", ""))
    except ValueError:
        messages.error(request, _("请选择一个选项。"))
        return HttpResponseRedirect(here)
    try:
        deliberation.topic_vote(topic=topic, option=option, phone=phone)
    except ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("投票成功，谢谢参与。结果在投票截止后公布。"))
    return HttpResponseRedirect(here)


@require_POST
def topic_comment(request: HttpRequest, pk: int) -> HttpResponse:
    """A comment of the verified number; it waits for the community."""
    topic = _public_topic(pk)
    phone = verified_phone(request)
    here = reverse("topic-detail", kwargs={"pk": pk})
    if phone is None:
        return HttpResponseRedirect(verify_url(here))
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _render_topic(request, topic, comment_form=form, status=400)
    try:
        deliberation.topic_comment(topic=topic, phone=phone, body=form.cleaned_data["body"])
    except ActionRefused as exc:
        form.add_error("body", exc.message)
        return _render_topic(request, topic, comment_form=form, status=exc.status_code)
    messages.success(request, _("留言已提交，社区审核后公开。"))
    return HttpResponseRedirect(here)


# --- staff -------------------------------------------------------------------------------------------


def _forbidden(request: SignedInRequest, message: str) -> HttpResponse:
    return render(request, "issues/staff/forbidden.html", {"nav": NAV, "message": message}, status=403)


@login_required
def staff_topic_list(request: SignedInRequest) -> HttpResponse:
    """The topics of areas in the user's territory."""
    qs = (
        Topic.objects.visible_to(request.user)
        .select_related("area")
        .annotate(
            n_votes=Count("votes", distinct=True),
            n_pending=Count("comments", filter=Q(comments__state=CommentState.PENDING), distinct=True),
        )
        .order_by("-created_at", "-pk")
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {
        "nav": NAV,
        "page": page,
        "items": list(page.object_list),
        "can_write": deliberation.runs_topics(request.user),
        "now": timezone.now(),
    }
    return render(request, "participation/deliberation/staff_list.html", context)


def _option_text(topic: Topic) -> str:
    return "\n".join(o.label for o in topic.options.all())


@login_required
def staff_topic_new(request: SignedInRequest) -> HttpResponse:
    """Write a draft topic."""
    if not deliberation.runs_topics(request.user):
        return _forbidden(request, _("议题由社区工作人员（街巷议题也可由本巷巷长）发起。"))
    form = TopicForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                topic = deliberation.topic_create(
                    user=request.user,
                    area=data["area"],
                    title=data["title"],
                    body=data["body"],
                    options=form.option_lines(),
                    closes_at=data["closes_at"],
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("议题草稿已保存，确认后请开始投票。"))
                return redirect("staff:topic-detail", pk=topic.pk)
        status = 400
    return render(
        request, "participation/deliberation/staff_form.html", {"nav": NAV, "form": form}, status=status
    )


def _visible(request: SignedInRequest, pk: int) -> Topic:
    return get_object_or_404(
        Topic.objects.visible_to(request.user).select_related("area", "outcome_by"), pk=pk
    )


@login_required
def staff_topic_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One topic with its counts (staff see them live), pending comments and the actions allowed now."""
    topic = _visible(request, pk)
    counts = deliberation.vote_counts(topic)
    allowed = deliberation.allowed_transitions(topic, request.user)
    context = {
        "nav": NAV,
        "topic": topic,
        "state_label": TopicState(deliberation.effective_state(topic, timezone.now())).label,
        "rows": [(o, counts.get(o.pk, 0)) for o in topic.options.all()],
        "total": sum(counts.values()),
        "allowed": allowed,
        "outcome_form": OutcomeForm() if "outcome" in allowed else None,
        "pending": topic.comments.filter(state=CommentState.PENDING).count(),
    }
    return render(request, "participation/deliberation/staff_detail.html", context)


@login_required
def staff_topic_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    """Change a draft topic."""
    topic = _visible(request, pk)
    try:
        deliberation.check(topic, request.user, "edit")
    except ActionRefused as exc:
        return _forbidden(request, exc.message)
    initial = {
        "title": topic.title,
        "body": topic.body,
        "options": _option_text(topic),
        "closes_at": topic.closes_at,
    }
    form = TopicForm(request.POST or None, user=request.user, editing=True, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                deliberation.topic_edit(
                    topic=topic,
                    user=request.user,
                    title=data["title"],
                    body=data["body"],
                    options=form.option_lines(),
                    closes_at=data["closes_at"],
                )
            except ActionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("已保存。"))
                return redirect("staff:topic-detail", pk=pk)
        status = 400
    context = {"nav": NAV, "form": form, "topic": topic}
    return render(request, "participation/deliberation/staff_form.html", context, status=status)


@login_required
@require_POST
def staff_topic_action(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Open, close, or record the outcome; a refusal is shown on the page."""
    topic = _visible(request, pk)
    try:
        if action == "open":
            deliberation.topic_open(topic=topic, user=request.user)
            messages.success(request, _("已开始投票。"))
        elif action == "close":
            deliberation.topic_close(topic=topic, user=request.user)
            messages.success(request, _("已截止投票。"))
        elif action == "outcome":
            form = OutcomeForm(request.POST)
            if not form.is_valid():
                deliberation.check(topic, request.user, action)
                messages.error(request, _("请写明议事结果。"))
                return redirect("staff:topic-detail", pk=pk)
            deliberation.topic_record_outcome(
                topic=topic, user=request.user, outcome=form.cleaned_data["outcome"]
            )
            messages.success(request, _("议事结果已公布。"))
        else:
            raise Http404
    except ActionRefused as exc:
        messages.error(request, exc.message)
    return redirect("staff:topic-detail", pk=pk)


@login_required
def moderation_queue(request: SignedInRequest) -> HttpResponse:
    """The pending comments of the user's communities' topics, oldest first."""
    context = {"nav": NAV, "items": deliberation.moderation_queue(request.user)}
    return render(request, "participation/deliberation/moderation.html", context)


@login_required
@require_POST
def moderate(request: SignedInRequest, pk: int, decision: str) -> HttpResponse:
    """Approve or reject one comment."""
    comment = get_object_or_404(TopicComment, pk=pk)
    if decision not in ("approve", "reject"):
        raise Http404
    try:
        deliberation.comment_moderate(comment=comment, user=request.user, approve=decision == "approve")
    except ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("留言已公开。") if decision == "approve" else _("留言未通过，不会公开。"))
    return redirect("staff:topic-moderation")
