"""Backlog, board, item, sprint and "My work" pages (HTMX fragments from the same templates)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from projects.decorators import project_view
from projects.models import Project
from projects.selectors import membership_list_for_project, membership_list_for_user
from sprints.forms import CommentForm, ItemEditForm, QuickCreateForm, SprintForm, WorkLogForm
from sprints.models import Sprint, Status, StatusTransition, WorkItem
from sprints.page_charts import burndown_chart, flow_chart, velocity_chart
from sprints.selectors import (
    backlog_for_project,
    board_for_sprint,
    burndown_for_sprint,
    flow_for_project,
    item_detail_for_page,
    sprint_get_for_user,
    status_list_for_project,
    velocity_for_project,
    work_item_get_for_user,
    work_item_list_for_assignee,
    work_items_by_keys,
)
from sprints.services.activity import comment_create, worklog_create
from sprints.services.items import (
    work_item_create,
    work_item_rank,
    work_item_update,
    work_items_move_to_sprint,
)
from sprints.services.sprints import sprint_close, sprint_create, sprint_start
from sprints.services.workflow import status_create, status_delete, status_update, transitions_set
from sprints.templatetags.sprints_tags import points_text
from tpm.errors import Conflict, StaleVersion
from tpm.models import User
from tpm.permissions import can

FRESH_SECONDS = 10


def item_view(action: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """``project_view`` for ``/items/<KEY-N>/``: login, 404 when invisible, 403 when not allowed."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, key: str, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            item = work_item_get_for_user(user=request.user, key=key.upper())
            if not can(request.user, action, item.project):
                raise PermissionDenied("Your role does not allow this.")
            return view(request, item, *args, **kwargs)

        return wrapper

    return decorator


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{field.replace('_', ' ')}: {msg}" if field != "__all__" else msg
            for field, msgs in exc.message_dict.items()
            for msg in msgs
        ]
    return list(exc.messages)


# --- backlog -------------------------------------------------------------------------------------


def _backlog_context(request: HttpRequest, project: Project, **extra: Any) -> dict[str, Any]:
    filters = {name: request.GET.get(name, "")[:100] for name in ("q", "type", "assignee", "label")}
    return {
        "project": project,
        "nav": "projects",
        "tab": "backlog",
        "filters": filters,
        "filtered": any(filters.values()),
        "can_edit": can(request.user, "item.edit", project),
        "can_manage": can(request.user, "sprint.manage", project),
        "members": membership_list_for_project(project=project),
        "types": WorkItem.Type.choices,
        "sprint_form": SprintForm(),
        **backlog_for_project(project=project, filters=filters),
        **extra,
    }


@require_GET
@vary_on_headers("HX-Request")
@project_view("item.view")
def backlog(request: HttpRequest, project: Project) -> HttpResponse:
    template = "sprints/backlog.html#backlog-body" if request.htmx else "sprints/backlog.html"  # type: ignore[attr-defined]
    return render(request, template, _backlog_context(request, project))


@require_POST
@project_view("item.create")
def backlog_item_create(request: HttpRequest, project: Project) -> HttpResponse:
    form = QuickCreateForm(request.POST)
    error = None
    if form.is_valid():
        sprint = None
        if form.cleaned_data.get("sprint"):
            sprint = Sprint.objects.filter(pk=form.cleaned_data["sprint"], project=project).first()
        try:
            item = work_item_create(
                actor=request.user,
                project=project,
                title=form.cleaned_data["title"],  # type: ignore[arg-type]
                type=form.cleaned_data["type"],
                story_points=form.cleaned_data["story_points"],
                sprint=sprint,
            )
        except ValidationError as exc:
            error = "; ".join(_errors(exc))
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, f"{project.key}-{item.number} created.")
                return redirect("sprints:backlog", key=project.key)
            response = render(
                request, "sprints/backlog.html#backlog-body", _backlog_context(request, project)
            )
            return trigger_client_event(response, "item-changed")
    else:
        error = "; ".join(
            f"{form[field].label if field in form.fields else 'Item'}: {' '.join(errs)}"
            for field, errs in form.errors.items()
        )
    context = _backlog_context(
        request, project, create_error=error, create_title=request.POST.get("title", "")
    )
    template = "sprints/backlog.html#backlog-body" if request.htmx else "sprints/backlog.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=400)


@require_POST
@project_view("item.edit")
def backlog_rank(request: HttpRequest, project: Project) -> HttpResponse:
    """Move one item: up/down (keyboard buttons) or ``before``/``after`` a key (drag and drop)."""
    status = 200
    direction, _, key = request.POST.get("rank", "").partition(":")  # keyboard buttons: "up:KEY-1"
    if not key:
        direction, key = request.POST.get("direction", ""), request.POST.get("item", "")
    try:
        item = work_items_by_keys(project=project, keys=[key], field="item")[0]
        if direction in ("up", "down"):
            neighbour = _neighbour(item, up=direction == "up")
            if neighbour is not None:
                if direction == "up":
                    work_item_rank(actor=request.user, item=item, before=neighbour)  # type: ignore[arg-type]
                else:
                    work_item_rank(actor=request.user, item=item, after=neighbour)  # type: ignore[arg-type]
        else:
            refs = {
                name: work_items_by_keys(project=project, keys=[request.POST[name]], field=name)[0]
                for name in ("before", "after")
                if request.POST.get(name)
            }
            work_item_rank(actor=request.user, item=item, **refs)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, "; ".join(_errors(exc)))
        status = 400
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "sprints/backlog.html#backlog-body",
            _backlog_context(request, project, rank_focus=request.POST.get("rank", "")),
            status=status,
        )
    return redirect("sprints:backlog", key=project.key)


def _neighbour(item: WorkItem, *, up: bool) -> WorkItem | None:
    """The item just above/below in the same list (same sprint or the backlog)."""
    siblings = WorkItem.objects.filter(project_id=item.project_id, sprint_id=item.sprint_id)
    if up:
        return siblings.filter(rank__lt=item.rank).order_by("-rank").first()
    return siblings.filter(rank__gt=item.rank).order_by("rank").first()


@require_POST
@project_view("item.edit")
def backlog_move(request: HttpRequest, project: Project) -> HttpResponse:
    """Move the selected items into a sprint or back to the backlog."""
    status = 200
    keys = request.POST.getlist("items")
    target = request.POST.get("target", "")
    try:
        if not keys:
            raise ValidationError({"items": ["Select at least one item."]})
        items = work_items_by_keys(project=project, keys=keys, field="items")
        sprint = None
        if target != "backlog":
            sprint = Sprint.objects.filter(
                pk=int(target) if target.isdigit() else 0, project=project
            ).first()
            if sprint is None:
                raise ValidationError(
                    {"target": ["Choose a sprint of this project or the backlog."]}
                )
        moved = work_items_move_to_sprint(
            actor=request.user, project=project, items=items, sprint=sprint
        )  # type: ignore[arg-type]
        messages.success(
            request,
            f"{moved} item{'s' if moved != 1 else ''} moved to "
            f"{sprint.name if sprint else 'the backlog'}.",
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(_errors(exc)))
        status = 400
    if request.htmx:  # type: ignore[attr-defined]
        response = render(
            request,
            "sprints/backlog.html#backlog-body",
            _backlog_context(request, project),
            status=status,
        )
        return trigger_client_event(response, "item-changed")
    return redirect("sprints:backlog", key=project.key)


@require_POST
@project_view("sprint.manage")
def sprint_create_view(request: HttpRequest, project: Project) -> HttpResponse:
    form = SprintForm(request.POST)
    if form.is_valid():
        try:
            sprint = sprint_create(actor=request.user, project=project, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            messages.success(request, f"{sprint.name} planned.")
            return redirect("sprints:backlog", key=project.key)
    return render(
        request,
        "sprints/backlog.html",
        _backlog_context(request, project, sprint_form=form),
        status=400,
    )


# --- board ---------------------------------------------------------------------------------------


def _board_sprint(request: HttpRequest, project: Project) -> Sprint | None:
    wanted = request.GET.get("sprint", "")
    sprints = Sprint.objects.filter(project=project)
    if wanted.isdigit():
        return sprints.filter(pk=int(wanted)).first()
    return (
        sprints.filter(state=Sprint.State.ACTIVE).order_by("start_date").first()
        or sprints.filter(state=Sprint.State.PLANNED).order_by("start_date").first()
    )


def _board_context(request: HttpRequest, project: Project, sprint: Sprint | None) -> dict[str, Any]:
    swimlanes = request.GET.get("swimlanes") == "assignee"
    return {
        "project": project,
        "nav": "projects",
        "tab": "board",
        "sprint": sprint,
        "sprints": Sprint.objects.filter(project=project)
        .exclude(state=Sprint.State.CLOSED)
        .order_by("start_date"),
        "swimlanes": swimlanes,
        "can_edit": can(request.user, "item.edit", project),
        "statuses": status_list_for_project(project=project),
        **(
            board_for_sprint(sprint=sprint, swimlanes=swimlanes)
            if sprint
            else {"columns": [], "lanes": []}
        ),
    }


@require_GET
@vary_on_headers("HX-Request")
@project_view("item.view")
def board(request: HttpRequest, project: Project) -> HttpResponse:
    sprint = _board_sprint(request, project)
    template = "sprints/board.html#board-body" if request.htmx else "sprints/board.html"  # type: ignore[attr-defined]
    return render(request, template, _board_context(request, project, sprint))


@require_POST
@item_view("item.edit")
def item_move_status(request: HttpRequest, item: WorkItem) -> HttpResponse:
    """Board: move a card to another status (status menu or drag and drop)."""
    status = 200
    version = request.POST.get("version", "")
    try:
        work_item_update(
            actor=request.user,
            item=item,
            status=request.POST.get("status", ""),  # type: ignore[arg-type]
            expected_version=int(version) if version.isdigit() else None,
        )
    except ValidationError as exc:
        messages.error(request, f"{item.project.key}-{item.number}: {'; '.join(_errors(exc))}")
        status = 400
    except StaleVersion:
        messages.error(
            request,
            f"{item.project.key}-{item.number} was changed by someone else; "
            "the board shows it as it is now.",
        )
        status = 409
    if request.htmx:  # type: ignore[attr-defined]
        sprint = Sprint.objects.filter(pk=item.sprint_id).first()
        response = render(
            request,
            "sprints/board.html#board-body",
            _board_context(request, item.project, sprint),
            status=status,
        )
        return trigger_client_event(response, "item-changed")
    return redirect(f"/projects/{item.project.key}/board/?sprint={item.sprint_id or ''}")


# --- item ----------------------------------------------------------------------------------------


def _item_context(request: HttpRequest, item: WorkItem, **extra: Any) -> dict[str, Any]:
    project = item.project
    return {
        "item": item,
        "key": f"{project.key}-{item.number}",
        "project": project,
        "nav": "projects",
        "tab": "backlog",
        "can_edit": can(request.user, "item.edit", project),
        "statuses": status_list_for_project(project=project),
        "members": [m for m in membership_list_for_project(project=project) if m.role != "viewer"],
        "sprints": Sprint.objects.filter(project=project)
        .exclude(state=Sprint.State.CLOSED)
        .order_by("start_date"),
        "types": WorkItem.Type.choices,
        "priorities": WorkItem.Priority.choices,
        "comment_form": CommentForm(),
        "worklog_form": WorkLogForm(),
        **item_detail_for_page(item=item),
        **extra,
    }


@require_http_methods(["GET", "POST"])
@item_view("item.view")
def item_detail(request: HttpRequest, item: WorkItem) -> HttpResponse:
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if not can(request.user, "item.edit", item.project):
            raise PermissionDenied("Your role does not allow editing items.")
        form = ItemEditForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version")
            try:
                data["assignee"] = (
                    User.objects.filter(pk=data["assignee"]).first() if data["assignee"] else None
                )
                data["sprint"] = (
                    Sprint.objects.filter(pk=data["sprint"], project=item.project).first()
                    if data["sprint"]
                    else None
                )
                work_item_update(actor=request.user, item=item, expected_version=version, **data)  # type: ignore[arg-type]
            except ValidationError as exc:
                errors, status = _errors(exc), 400
            except StaleVersion:
                errors, status = (
                    [
                        "Someone changed this item while you were editing. Your edit was "
                        "not saved; the form now shows the current item."
                    ],
                    409,
                )
            else:
                messages.success(request, "Saved.")
                return redirect("sprints:item-detail", key=f"{item.project.key}-{item.number}")
        else:
            errors = [f"{form.fields[f].label or f}: {' '.join(e)}" for f, e in form.errors.items()]
            status = 400
        item = work_item_get_for_user(user=request.user, key=f"{item.project.key}-{item.number}")
    return render(
        request,
        "sprints/item_detail.html",
        _item_context(request, item, errors=errors),
        status=status,
    )


@require_POST
@item_view("comment.create")
def item_comment(request: HttpRequest, item: WorkItem) -> HttpResponse:
    form = CommentForm(request.POST)
    error = None
    if form.is_valid():
        try:
            comment_create(actor=request.user, item=item, body=form.cleaned_data["body"])  # type: ignore[arg-type]
        except ValidationError as exc:
            error = "; ".join(_errors(exc))
    else:
        error = "Write something."
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "sprints/item_detail.html#comments",
            _item_context(request, item, comment_error=error),
            status=400 if error else 200,
        )
    if error:
        messages.error(request, error)
    return redirect("sprints:item-detail", key=f"{item.project.key}-{item.number}")


@require_POST
@item_view("worklog.create")
def item_worklog(request: HttpRequest, item: WorkItem) -> HttpResponse:
    form = WorkLogForm(request.POST)
    error = None
    if form.is_valid():
        try:
            worklog_create(
                actor=request.user,
                item=item,
                hours=form.cleaned_data["hours"],  # type: ignore[arg-type]
                date_=form.cleaned_data.get("date"),
                note=form.cleaned_data.get("note", ""),
            )
        except ValidationError as exc:
            error = "; ".join(_errors(exc))
    else:
        error = "; ".join(f"{f}: {' '.join(e)}" for f, e in form.errors.items())
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "sprints/item_detail.html#worklogs",
            _item_context(request, item, worklog_error=error),
            status=400 if error else 200,
        )
    if error:
        messages.error(request, error)
    return redirect("sprints:item-detail", key=f"{item.project.key}-{item.number}")


# --- sprint page and charts ----------------------------------------------------------------------


def _sprint_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, sprint_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        sprint = sprint_get_for_user(user=request.user, sprint_id=sprint_id)
        return view(request, sprint, *args, **kwargs)

    return wrapper


def _sprint_charts(sprint: Sprint) -> dict[str, Any]:
    data = burndown_for_sprint(sprint=sprint)
    days = data["days"]
    return {
        "burndown": burndown_chart(sprint, days),
        "computed_at": data["computed_at"],
        "completed_so_far": days[-1].completed_points if days else None,
    }


@require_GET
@_sprint_view
def sprint_detail(request: HttpRequest, sprint: Sprint) -> HttpResponse:
    project = sprint.project
    context = {
        "sprint": sprint,
        "project": project,
        "nav": "projects",
        "tab": "board",
        "can_manage": can(request.user, "sprint.manage", project),
        "others": Sprint.objects.filter(project=project)
        .exclude(pk=sprint.pk)
        .exclude(state=Sprint.State.CLOSED),
        **_sprint_charts(sprint),
    }
    return render(request, "sprints/sprint_detail.html", context)


@require_GET
@_sprint_view
def sprint_chart(request: HttpRequest, sprint: Sprint) -> HttpResponse:
    """The burndown fragment for polling: 204 (nothing to swap) until newer rows exist."""
    context = {"sprint": sprint, **_sprint_charts(sprint)}
    computed_at = context["computed_at"]
    shown = request.GET.get("after", "")
    if computed_at is not None and shown == computed_at.isoformat():
        return HttpResponse(status=204)
    return render(request, "sprints/sprint_detail.html#burndown-panel", context)


@require_POST
@_sprint_view
def sprint_action(request: HttpRequest, sprint: Sprint, verb: str) -> HttpResponse:
    if not can(request.user, "sprint.manage", sprint.project):
        raise PermissionDenied("Only project owners start and close sprints.")
    try:
        if verb == "start":
            sprint_start(actor=request.user, sprint=sprint)  # type: ignore[arg-type]
            messages.success(request, f"{sprint.name} started; its committed points are frozen.")
        else:
            target = request.POST.get("move_unfinished_to", "backlog")
            destination = (
                Sprint.objects.filter(pk=int(target), project=sprint.project).first()
                if target.isdigit()
                else None
            )
            closed = sprint_close(actor=request.user, sprint=sprint, move_unfinished_to=destination)  # type: ignore[arg-type]
            messages.success(
                request,
                f"{closed.name} closed with {points_text(closed.completed_points, '0')} of "
                f"{points_text(closed.committed_points, '0')} points done.",
            )
    except (Conflict, ValidationError) as exc:
        messages.error(
            request, exc.message if isinstance(exc, Conflict) else "; ".join(_errors(exc))
        )
    return redirect("sprints:sprint-detail", sprint_id=sprint.pk)


@require_GET
@project_view("project.view")
def project_charts(request: HttpRequest, project: Project) -> HttpResponse:
    """Overview panels (loaded by the project overview): active burndown, velocity, flow."""
    active = (
        Sprint.objects.filter(project=project, state=Sprint.State.ACTIVE)
        .order_by("start_date")
        .first()
    )
    velocity = velocity_for_project(project=project)
    flow = flow_for_project(project=project)
    context = {
        "project": project,
        "active": active,
        "burndown": burndown_chart(active, burndown_for_sprint(sprint=active)["days"])
        if active
        else None,
        "velocity": velocity,
        "velocity_chart": velocity_chart(velocity),
        "flow": flow,
        "flow_chart": flow_chart(flow),
    }
    return render(request, "sprints/project_charts.html", context)


# --- my work -------------------------------------------------------------------------------------


@login_required
@require_GET
def my_work(request: HttpRequest) -> HttpResponse:
    items = list(work_item_list_for_assignee(user=request.user)[:500])
    context = {
        "items": items,
        "memberships": membership_list_for_user(user=request.user)[:200],
        "nav": "my-work",
        "done_category": Status.Category.DONE,
    }
    return render(request, "sprints/my_work.html", context)


# --- workflow settings ---------------------------------------------------------------------------


def _workflow_context(project: Project, **extra: Any) -> dict[str, Any]:
    statuses = list(status_list_for_project(project=project))
    allowed = set(
        StatusTransition.objects.filter(project=project).values_list(
            "from_status_id", "to_status_id"
        )
    )
    return {
        "project": project,
        "nav": "projects",
        "tab": "workflow",
        "statuses": statuses,
        "categories": Status.Category.choices,
        "matrix": [(s, [(t, (s.pk, t.pk) in allowed) for t in statuses]) for s in statuses],
        "has_transitions": bool(allowed),
        **extra,
    }


@require_http_methods(["GET", "POST"])
@project_view("workflow.manage")
def workflow(request: HttpRequest, project: Project) -> HttpResponse:
    """Statuses (add, rename, categorise, order, WIP limit, delete) and allowed transitions."""
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "add":
                status_create(
                    actor=request.user,
                    project=project,
                    name=request.POST.get("name", ""),  # type: ignore[arg-type]
                    category=request.POST.get("category", ""),
                    wip_limit=request.POST.get("wip_limit"),
                )
            elif action in ("save", "delete"):
                target = Status.objects.filter(
                    project=project, pk=request.POST.get("status") or 0
                ).first()
                if target is None:
                    raise ValidationError({"status": ["No such status."]})
                if action == "save":
                    status_update(
                        actor=request.user,
                        status=target,
                        name=request.POST.get("name", ""),  # type: ignore[arg-type]
                        category=request.POST.get("category", ""),
                        order=request.POST.get("order", 0),
                        wip_limit=request.POST.get("wip_limit"),
                    )
                else:
                    move_to = Status.objects.filter(
                        project=project, pk=request.POST.get("move_to") or 0
                    ).first()
                    status_delete(actor=request.user, status=target, move_items_to=move_to)  # type: ignore[arg-type]
            elif action == "transitions":
                by_pk = {s.pk: s for s in Status.objects.filter(project=project)}
                pairs = []
                for raw in request.POST.getlist("allow"):
                    source, _, dest = raw.partition(":")
                    if (
                        source.isdigit()
                        and dest.isdigit()
                        and int(source) in by_pk
                        and int(dest) in by_pk
                    ):
                        pairs.append((by_pk[int(source)], by_pk[int(dest)]))
                transitions_set(actor=request.user, project=project, pairs=pairs)  # type: ignore[arg-type]
            else:
                raise ValidationError({"action": ["Unknown action."]})
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, "Workflow saved.")
            return redirect("sprints:workflow", key=project.key)
    return render(
        request,
        "sprints/workflow.html",
        _workflow_context(project, errors=errors),
        status=400 if errors else 200,
    )
