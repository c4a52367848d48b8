"""Project pages: list, create, overview, settings with inline member editing, My work."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from projects.decorators import project_view
from projects.forms import MemberAddForm, MemberUpdateForm, ProjectForm
from projects.models import Project
from projects.selectors import (
    membership_get,
    membership_list_for_project,
    project_history_page,
    project_list_for_user,
    user_find,
    user_list_for_member_picker,
)
from projects.services import (
    PROJECT_EDITABLE_FIELDS,
    membership_add,
    membership_remove,
    membership_update,
    project_create,
    project_delete,
    project_update,
)
from tpm.errors import Conflict, StaleVersion
from tpm.permissions import can

PROJECTS_PER_PAGE = 25
HISTORY_PER_PAGE = 50


def _copy_errors(form: Any, exc: ValidationError) -> None:
    """Put a service's ValidationError onto the form, field by field where the field exists."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def project_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:100]
    page = Paginator(project_list_for_user(user=request.user, q=q), PROJECTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"page_obj": page, "projects": page.object_list, "q": q, "nav": "projects"}
    template = (
        "projects/project_list.html#project-results"
        if request.htmx
        else "projects/project_list.html"
    )  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def project_create_view(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k not in {"key", "name", "version"}}
        try:
            project = project_create(
                actor=request.user,  # type: ignore[arg-type]
                key=form.cleaned_data["key"],
                name=form.cleaned_data["name"],
                **fields,
            )
        except ValidationError as exc:
            _copy_errors(form, exc)
        else:
            messages.success(request, f"Project {project.key} created. You are its owner.")
            return redirect("projects:project-settings", key=project.key)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "projects/project_form.html", {"form": form, "nav": "projects"}, status=status
    )


@require_GET
@project_view("project.view")
def project_overview(request: HttpRequest, project: Project) -> HttpResponse:
    context = {
        "project": project,
        "members": membership_list_for_project(project=project)[:200],
        "can_edit": can(request.user, "project.edit", project),
        "nav": "projects",
        "tab": "overview",
    }
    return render(request, "projects/project_overview.html", context)


def _settings_context(request: HttpRequest, project: Project, **extra: Any) -> dict[str, Any]:
    history_page = (
        max(1, int(request.GET.get("history_page", "1") or 1))
        if str(request.GET.get("history_page", "1")).isdigit()
        else 1
    )
    context: dict[str, Any] = {
        "project": project,
        "nav": "projects",
        "tab": "settings",
        "members": membership_list_for_project(project=project),
        "add_form": MemberAddForm(),
        "candidates": user_list_for_member_picker(project=project),
        "history": project_history_page(
            project=project, limit=HISTORY_PER_PAGE, offset=(history_page - 1) * HISTORY_PER_PAGE
        ),
        "history_page": history_page,
        "history_per_page": HISTORY_PER_PAGE,
    }
    context.update(extra)
    return context


def _project_initial(project: Project) -> dict[str, Any]:
    initial = {field: getattr(project, field) for field in PROJECT_EDITABLE_FIELDS}
    initial.update(key=project.key, version=project.version)
    return initial


@require_http_methods(["GET", "POST"])
@project_view("project.edit")
def project_settings(request: HttpRequest, project: Project) -> HttpResponse:
    form = ProjectForm(request.POST or None, initial=_project_initial(project))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changes = {k: v for k, v in form.cleaned_data.items() if k in PROJECT_EDITABLE_FIELDS}
            try:
                project_update(
                    actor=request.user,  # type: ignore[arg-type]
                    project=project,
                    expected_version=form.cleaned_data.get("version"),
                    **changes,
                )
            except StaleVersion as exc:
                form.add_error(None, exc.message)
                form = _stale_form(form, exc.current)
                status = 409
            except ValidationError as exc:
                _copy_errors(form, exc)
                status = 400
            else:
                messages.success(request, "Project settings saved.")
                return redirect("projects:project-settings", key=project.key)
        else:
            status = 400
    return render(
        request,
        "projects/project_settings.html",
        _settings_context(request, project, form=form),
        status=status,
    )


def _stale_form(form: ProjectForm, current: Project) -> ProjectForm:
    """Keep the user's input; move the hidden version on so a re-submit overwrites knowingly."""
    data = form.data.copy()
    data["version"] = str(current.version)
    fresh = ProjectForm(data, initial=_project_initial(current))
    fresh.is_valid()
    for error in form.non_field_errors():
        fresh.add_error(None, error)
    return fresh


@require_POST
@project_view("project.delete")
def project_delete_view(request: HttpRequest, project: Project) -> HttpResponse:
    if request.POST.get("confirm_key", "").strip().upper() != project.key:
        messages.error(request, f"Type the project key {project.key} to confirm the deletion.")
        return redirect("projects:project-settings", key=project.key)
    project_delete(actor=request.user, project=project)  # type: ignore[arg-type]
    messages.success(request, f"Project {project.key} deleted.")
    return redirect("projects:project-list")


def _members_response(
    request: HttpRequest, project: Project, *, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "project": project,
        "members": membership_list_for_project(project=project),
        "add_form": extra.pop("add_form", MemberAddForm()),
        "candidates": user_list_for_member_picker(project=project),
        **extra,
    }
    if request.htmx:  # type: ignore[attr-defined]
        response = render(
            request, "projects/project_settings.html#members-panel", context, status=status
        )
        if status == 200:
            trigger_client_event(response, "members-changed")
        return response
    if status == 200:
        if extra.get("notice"):
            messages.success(request, extra["notice"])
        return redirect("projects:project-settings", key=project.key)
    return render(
        request,
        "projects/project_settings.html",
        _settings_context(request, project, **{k: v for k, v in context.items() if k != "project"}),
        status=status,
    )


@require_POST
@project_view("member.manage")
def member_add(request: HttpRequest, project: Project) -> HttpResponse:
    form = MemberAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        user = user_find(ref=data["user"])
        try:
            if user is None:
                raise ValidationError({"user": [f"No user named {data['user']!r}."]})
            membership = membership_add(
                actor=request.user,  # type: ignore[arg-type]
                project=project,
                user=user,
                role=data["role"],
                hourly_rate=data["hourly_rate"] if data["hourly_rate"] is not None else 0,
                capacity_hours_per_week=(
                    data["capacity_hours_per_week"]
                    if data["capacity_hours_per_week"] is not None
                    else 40
                ),
            )
        except ValidationError as exc:
            _copy_errors(form, exc)
        else:
            return _members_response(
                request,
                project,
                notice=f"{membership.user.display_name} added as {membership.role}.",
            )
    return _members_response(request, project, status=400, add_form=form)


@require_POST
@project_view("member.manage")
def member_update(request: HttpRequest, project: Project, user_id: int) -> HttpResponse:
    membership = membership_get(project=project, user_id=user_id)
    form = MemberUpdateForm(request.POST)
    row_errors: dict[int, list[str]] = {}
    if form.is_valid():
        try:
            membership = membership_update(
                actor=request.user, membership=membership, **form.cleaned_data
            )  # type: ignore[arg-type]
        except ValidationError as exc:
            row_errors[membership.user_id] = exc.messages
        except Conflict as exc:
            row_errors[membership.user_id] = [exc.message]
        else:
            return _members_response(
                request, project, notice=f"{membership.user.display_name} updated."
            )
    else:
        row_errors[membership.user_id] = [
            f"{form.fields[f].label or f}: {' '.join(e)}" for f, e in form.errors.items()
        ]
    return _members_response(request, project, status=400, row_errors=row_errors)


@require_POST
@project_view("member.manage")
def member_remove(request: HttpRequest, project: Project, user_id: int) -> HttpResponse:
    membership = membership_get(project=project, user_id=user_id)
    try:
        membership_remove(actor=request.user, membership=membership)  # type: ignore[arg-type]
    except Conflict as exc:
        return _members_response(
            request, project, status=409, row_errors={membership.user_id: [exc.message]}
        )
    if membership.user_id == request.user.pk and request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect("/")
    return _members_response(request, project, notice=f"{membership.user.display_name} removed.")
