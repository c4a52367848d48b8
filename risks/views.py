"""Risk register pages: register (filters, sorting, inline create, CSV), heat map, risk detail
(inline edit, status moves, contingency, score, history, audit) and the overview's top risks.

HTMX requests get fragments of the same templates (``{% partialdef %}``); plain requests get
whole pages and post/redirect/get, so every form also works without JavaScript.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from projects.decorators import project_view
from projects.models import Membership, Project
from projects.selectors import membership_list_for_project
from risks.forms import RiskCreateForm, RiskEditForm, RiskRowForm
from risks.metrics import CRITICAL, HIGH, LOW, MEDIUM, level_for
from risks.models import Risk
from risks.selectors import (
    LEVELS,
    risk_audit_for_risk,
    risk_bands_for_project,
    risk_contingency_suggestion,
    risk_get_for_user,
    risk_history_for_risk,
    risk_linked_items_for_page,
    risk_list_for_register_page,
    risk_matrix_for_project,
    risk_summary_for_project,
    risk_top_for_project,
)
from risks.services import (
    TRANSITIONS,
    risk_create,
    risk_delete,
    risk_start_contingency,
    risk_update,
)
from sprints.metric_inputs import project_today
from sprints.selectors import work_items_by_keys
from tpm.charts import line_chart
from tpm.errors import Conflict, StaleVersion
from tpm.models import User
from tpm.permissions import can

PER_PAGE = 50
HISTORY_DAYS = 90
REGISTER_FILTERS = (
    "q",
    "status",
    "category",
    "level",
    "owner",
    "tag",
    "probability",
    "impact",
    "basis",
    "ordering",
)
# Sortable columns: (ordering key, heading, first direction when clicked).
SORT_COLUMNS = (
    ("title", "Title", "title"),
    ("score", "Score", "-score"),
    ("exposure", "Exposure", "-exposure"),
    ("review_date", "Next review", "review_date"),
)
DEFAULT_ORDERING = "-exposure"
ACTIVE = (Risk.Status.OPEN.value, Risk.Status.MITIGATING.value)
PROBABILITY_LABELS = {1: "Rare", 2: "Unlikely", 3: "Possible", 4: "Likely", 5: "Almost certain"}
IMPACT_LABELS = {1: "Negligible", 2: "Minor", 3: "Moderate", 4: "Major", 5: "Severe"}
# What the button that moves a risk to a status says, in the order the buttons appear.
STATUS_ACTIONS = {
    Risk.Status.MITIGATING: "Start mitigating",
    Risk.Status.CLOSED: "Close risk",
    Risk.Status.OPEN: "Reopen",
    Risk.Status.OCCURRED: "Mark as occurred",
}
CSV_COLUMNS = (
    "id",
    "title",
    "category",
    "status",
    "probability",
    "impact",
    "score",
    "level",
    "residual_probability",
    "residual_impact",
    "residual_score",
    "residual_level",
    "cost_impact",
    "emv",
    "exposure",
    "trend",
    "owner",
    "review_date",
    "response",
    "linked_items",
    "compliance_tags",
    "reasons",
)
EDIT_FIELDS = (
    "title",
    "description",
    "category",
    "probability",
    "impact",
    "residual_probability",
    "residual_impact",
    "cost_impact",
    "owner",
    "response",
    "mitigation_plan",
    "contingency_plan",
    "trigger",
    "review_date",
    "linked_items",
)


# --- helpers --------------------------------------------------------------------------------------


def risk_view(action: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """``project_view`` for ``/risks/<id>/``: login, 404 when invisible, 403 when not allowed."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, risk_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            risk = risk_get_for_user(user=request.user, risk_id=risk_id)
            if not can(request.user, action, risk):
                raise PermissionDenied("Your role does not allow this on this risk.")
            return view(request, risk, *args, **kwargs)

        return wrapper

    return decorator


def _error_dict(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("__all__" if field == "non_field_errors" else field): list(msgs)
            for field, msgs in exc.message_dict.items()
        }
    return {"__all__": list(exc.messages)}


def _error_lines(errors: Mapping[str, Iterable[str]], form: Any) -> list[str]:
    """ "Probability: Give a whole number from 1 to 5." for a summary list."""
    lines = []
    for field, msgs in errors.items():
        if field == "__all__":
            lines += list(msgs)
            continue
        label = (
            form.fields[field].label
            if field in form.fields
            else field.replace("_", " ").capitalize()
        )
        lines += [f"{label}: {msg}" for msg in msgs]
    return lines


def _form_errors(form: Any) -> dict[str, list[str]]:
    return {field: [str(e) for e in errs] for field, errs in form.errors.items()}


def _owner(value: int | None) -> User | None:
    if value is None:
        return None
    owner = User.objects.filter(pk=value, is_active=True).first()
    if owner is None:
        raise ValidationError({"owner": ["No active user with that id."]})
    return owner


def _contributors(project: Project) -> list[Membership]:
    """Members who may own a risk (owners and members), for the owner pickers."""
    return [
        m
        for m in membership_list_for_project(project=project)
        if m.role in (Membership.Role.OWNER, Membership.Role.MEMBER)
    ]


def _choices_context() -> dict[str, Any]:
    return {
        "categories": Risk.Category.choices,
        "statuses": Risk.Status.choices,
        "responses": Risk.Response.choices,
        "tags": Risk.ComplianceTag.choices,
        "levels": LEVELS,
        "probability_labels": sorted(PROBABILITY_LABELS.items()),
        "impact_labels": sorted(IMPACT_LABELS.items()),
    }


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# --- register -------------------------------------------------------------------------------------


def _register_params(request: HttpRequest) -> dict[str, str]:
    return {name: request.GET.get(name, "").strip()[:100] for name in REGISTER_FILTERS}


def _query(params: Mapping[str, str], **overrides: str) -> str:
    merged = {**params, **overrides}
    return urlencode({k: v for k, v in merged.items() if v})


def _sort_columns(params: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Per sortable column: its aria-sort state and the query that sorts by it (or flips it)."""
    current = params.get("ordering") or DEFAULT_ORDERING
    columns = {}
    for key, heading, first in SORT_COLUMNS:
        if current == key:
            sort, next_ordering = "ascending", f"-{key}"
        elif current == f"-{key}":
            sort, next_ordering = "descending", key
        else:
            sort, next_ordering = None, first
        columns[key] = {
            "heading": heading,
            "sort": sort,
            "query": _query(params, ordering=next_ordering, page=""),
        }
    return columns


def _register_context(request: HttpRequest, project: Project, **extra: Any) -> dict[str, Any]:
    params = _register_params(request)
    filter_errors: list[str] = []
    try:
        rows = risk_list_for_register_page(project=project, user=request.user, params=params)
        page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    except ValidationError as exc:
        filter_errors = _error_lines(_error_dict(exc), RiskCreateForm())
        page = Paginator(Risk.objects.none(), PER_PAGE).get_page(1)
    today = project_today(project)
    contributors = _contributors(project)
    can_create = can(request.user, "risk.create", project)
    # Owners edit every risk, members the ones they own (tpm.permissions "risk.edit"); decided
    # here from the role already loaded, so rows cost no query each.
    edits_all = can(request.user, "risk.edit", project)
    for row in page.object_list:
        row.editable = edits_all or (can_create and row.owner_id == request.user.pk)
    return {
        "project": project,
        "nav": "projects",
        "tab": "risks",
        "params": params,
        "filtered": any(v for k, v in params.items() if k != "ordering"),
        "filter_errors": filter_errors,
        "page_obj": page,
        "risks": page.object_list,
        "query": _query(params),
        "sorts": _sort_columns(params),
        "active_statuses": ACTIVE,
        "summary": risk_summary_for_project(project=project, today=today),
        "contingency": risk_contingency_suggestion(project=project),
        "today": today,
        "members": contributors,
        "can_create": can_create,
        "create_values": {
            "owner": str(request.user.pk)
            if any(m.user_id == request.user.pk for m in contributors)
            else "",
            "probability": "3",
            "impact": "3",
            "category": Risk.Category.TECHNICAL.value,
        },
        "create_errors": {},
        **_choices_context(),
        **extra,
    }


@require_GET
@vary_on_headers("HX-Request")
@project_view("risk.view")
def register(request: HttpRequest, project: Project) -> HttpResponse:
    context = _register_context(request, project)
    template = "risks/register.html#register-body" if _is_htmx(request) else "risks/register.html"
    return render(request, template, context, status=400 if context["filter_errors"] else 200)


@require_POST
@project_view("risk.create")
def register_create(request: HttpRequest, project: Project) -> HttpResponse:
    """Inline create from the register: 400 with the fragment and inline errors, nothing saved."""
    form = RiskCreateForm(request.POST)
    errors: dict[str, list[str]]
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            risk = risk_create(
                actor=request.user,  # type: ignore[arg-type]
                project=project,
                title=data.pop("title"),
                category=data.pop("category"),
                probability=data.pop("probability"),
                impact=data.pop("impact"),
                owner=_owner(data.pop("owner")),
                **data,
            )
        except ValidationError as exc:
            errors = _error_dict(exc)
        else:
            messages.success(request, f"Risk “{risk.title}” added.")
            if not _is_htmx(request):
                return redirect("risks:register", key=project.key)
            response = render(
                request, "risks/register.html#register-body", _register_context(request, project)
            )
            return trigger_client_event(response, "risk-changed")
    else:
        errors = _form_errors(form)
    context = _register_context(
        request,
        project,
        create_values={name: request.POST.get(name, "") for name in form.fields},
        create_errors=errors,
        create_error_lines=_error_lines(errors, form),
    )
    template = "risks/register.html#register-body" if _is_htmx(request) else "risks/register.html"
    return render(request, template, context, status=400)


def _csv_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas (=, +, -, @ at the start of text)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@require_GET
@project_view("risk.view")
def register_csv(request: HttpRequest, project: Project) -> HttpResponse:
    """The register as CSV, with the page's filters and ordering (every matching risk)."""
    try:
        rows = risk_list_for_register_page(
            project=project, user=request.user, params=_register_params(request)
        )
        risks = list(rows)
    except ValidationError as exc:
        return HttpResponse(
            "; ".join(_error_lines(_error_dict(exc), RiskCreateForm())),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{project.key}-risks.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for r in risks:
        writer.writerow(
            [
                _csv_cell(value)
                for value in (
                    r.pk,
                    r.title,
                    r.category,
                    r.status,
                    r.probability,
                    r.impact,
                    r.score,
                    r.level,
                    r.residual_probability,
                    r.residual_impact,
                    r.residual_score,
                    r.residual_level,
                    r.cost_impact,
                    r.emv,
                    r.exposure,
                    r.trend,
                    r.owner_name,
                    r.review_date.isoformat() if r.review_date else None,
                    r.response,
                    " ".join(f"{project.key}-{n}" for n in r.linked_numbers),
                    " ".join(r.compliance_tags),
                    "; ".join(r.reasons or []),
                )
            ]
        )
    return response


# --- heat map -------------------------------------------------------------------------------------


def _heatmap_context(request: HttpRequest, project: Project) -> dict[str, Any]:
    basis = request.GET.get("basis", "inherent")
    if basis not in ("inherent", "residual"):
        basis = "inherent"
    bands = risk_bands_for_project(project=project)
    matrix = risk_matrix_for_project(project=project, basis=basis)
    register_url = reverse("risks:register", args=[project.key])
    rows = []
    for p in range(5, 0, -1):
        cells = []
        for i in range(1, 6):
            params = {"status": "active", "probability": p, "impact": i}
            if basis == "residual":
                params["basis"] = "residual"
            cells.append(
                {
                    "probability": p,
                    "impact": i,
                    "score": p * i,
                    "level": level_for(p * i, bands),
                    "count": matrix[p - 1][i - 1],
                    "url": f"{register_url}?{urlencode(params)}",
                }
            )
        rows.append({"probability": p, "label": PROBABILITY_LABELS[p], "cells": cells})
    return {
        "project": project,
        "nav": "projects",
        "tab": "risks",
        "basis": basis,
        "rows": rows,
        "impacts": sorted(IMPACT_LABELS.items()),
        "total": sum(sum(row) for row in matrix),
        "bands": [
            (LOW, f"1–{bands.low_max}"),
            (MEDIUM, f"{bands.low_max + 1}–{bands.medium_max}"),
            (HIGH, f"{bands.medium_max + 1}–{bands.high_max}"),
            (CRITICAL, f"{bands.high_max + 1}–25"),
        ],
    }


@require_GET
@vary_on_headers("HX-Request")
@project_view("risk.view")
def heatmap(request: HttpRequest, project: Project) -> HttpResponse:
    context = _heatmap_context(request, project)
    template = "risks/heatmap.html#heatmap-body" if _is_htmx(request) else "risks/heatmap.html"
    return render(request, template, context)


# --- overview panel ----------------------------------------------------------------------------


@require_GET
@project_view("risk.view")
def top_risks(request: HttpRequest, project: Project) -> HttpResponse:
    """The project overview's "Top risks" panel: five open risks by exposure (HTMX-loaded)."""
    context = {"project": project, "risks": risk_top_for_project(project=project, n=5)}
    return render(request, "risks/top_risks.html", context)


# --- register: inline row edit ------------------------------------------------------------------


def _row_response(
    request: HttpRequest, risk: Risk, *, edit: bool = False, status: int = 200, **extra: Any
) -> HttpResponse:
    """One register row (``#risk-row``) or its inline edit form (``#risk-row-edit``)."""
    project = risk.project
    risk.editable = can(request.user, "risk.edit", risk)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "r": risk,
        "project": project,
        "today": project_today(project),
        "active_statuses": ACTIVE,
        **_choices_context(),
        **extra,
    }
    if edit:
        context.setdefault(
            "row_values",
            {
                "title": risk.title,
                "probability": str(risk.probability),
                "impact": str(risk.impact),
                "owner": str(risk.owner_id or ""),
                "review_date": risk.review_date.isoformat() if risk.review_date else "",
                "version": str(risk.version),
            },
        )
        context["members"] = _contributors(project)
    template = "risks/register.html#risk-row-edit" if edit else "risks/register.html#risk-row"
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@risk_view("risk.view")
def risk_row(request: HttpRequest, risk: Risk) -> HttpResponse:
    """A register row: GET shows it (cancel), POST saves its inline edit."""
    if request.method == "GET":
        return _row_response(request, risk)
    if not can(request.user, "risk.edit", risk):
        raise PermissionDenied("Only the project's owners and the risk's owner edit a risk.")
    form = RiskRowForm(request.POST)
    status = 400
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            data["owner"] = _owner(data["owner"])
            risk_update(actor=request.user, risk=risk, expected_version=version, **data)  # type: ignore[arg-type]
        except ValidationError as exc:
            errors = _error_dict(exc)
        except StaleVersion:
            errors = {
                "__all__": ["Someone changed this risk first; this is the risk as it is now."]
            }
            status = 409
        else:
            fresh = risk_get_for_user(user=request.user, risk_id=risk.pk)
            if not _is_htmx(request):
                messages.success(request, "Risk saved.")
                return redirect("risks:register", key=fresh.project.key)
            return trigger_client_event(_row_response(request, fresh), "risk-changed")
    else:
        errors = _form_errors(form)
    fresh = risk_get_for_user(user=request.user, risk_id=risk.pk)
    extra: dict[str, Any] = {"row_errors": errors, "row_error_lines": _error_lines(errors, form)}
    if status == 400:  # keep what the user typed; a 409 shows the current risk instead
        extra["row_values"] = {
            **{name: request.POST.get(name, "") for name in form.fields},
            "version": str(fresh.version),
        }
    if not _is_htmx(request):
        messages.error(request, "; ".join(extra["row_error_lines"]))
        context = _register_context(request, fresh.project)
        return render(request, "risks/register.html", context, status=status)
    return _row_response(request, fresh, edit=True, status=status, **extra)


@require_GET
@risk_view("risk.edit")
def risk_row_edit(request: HttpRequest, risk: Risk) -> HttpResponse:
    """The register row as an inline edit form (HTMX)."""
    return _row_response(request, risk, edit=True)


# --- risk detail ----------------------------------------------------------------------------------


def _risk_values(risk: Risk) -> dict[str, Any]:
    """The edit form's values as the risk has them now."""
    values: dict[str, Any] = {
        name: getattr(risk, name) for name in EDIT_FIELDS if name not in ("owner", "linked_items")
    }
    for name in ("probability", "impact", "residual_probability", "residual_impact"):
        values[name] = "" if values[name] is None else str(values[name])
    values["cost_impact"] = format(risk.cost_impact, "f")
    values["review_date"] = risk.review_date.isoformat() if risk.review_date else ""
    values["owner"] = str(risk.owner_id or "")
    values["linked_items"] = ", ".join(
        f"{risk.project.key}-{n}"
        for n in risk.linked_numbers  # type: ignore[attr-defined]
    )
    values["compliance_tags"] = list(risk.compliance_tags)
    values["version"] = str(risk.version)
    return values


def _posted_values(request: HttpRequest) -> dict[str, Any]:
    values: dict[str, Any] = {name: request.POST.get(name, "") for name in EDIT_FIELDS}
    values["compliance_tags"] = request.POST.getlist("compliance_tags")
    values["version"] = request.POST.get("version", "")
    return values


def _score_pending(risk: Risk) -> bool:
    """True until a worker has scored the risk as it is now."""
    computed_at = risk.computed_at  # type: ignore[attr-defined]
    return computed_at is None or computed_at < risk.updated_at


def _history_chart(risk: Risk) -> dict[str, Any] | None:
    days = list(risk_history_for_risk(risk=risk)[:HISTORY_DAYS])[::-1]
    if not days:
        return None
    last = days[-1]
    return {
        "chart_id": f"risk-{risk.pk}-exposure",
        "title": f"Exposure of risk {risk.pk} over time",
        "desc": (
            f"Daily exposure (0–100) from {days[0].day:%d %b %Y} to {last.day:%d %b %Y}; "
            f"on {last.day:%d %b} it was {last.exposure}."
        ),
        "chart": line_chart(
            [d.day.strftime("%d %b") for d in days],
            [
                ("Inherent score × 4", "series--ideal", [d.score * 4 for d in days]),
                ("Exposure", "series--remaining", [d.exposure for d in days]),
            ],
        ),
        "legend": [("Exposure", "series--remaining"), ("Inherent score × 4", "series--ideal")],
        "table": {
            "headers": ["Day", "Exposure", "Score"],
            "rows": [[d.day.isoformat(), d.exposure, d.score] for d in days],
        },
    }


def _detail_context(request: HttpRequest, risk: Risk, **extra: Any) -> dict[str, Any]:
    project = risk.project
    can_edit = can(request.user, "risk.edit", risk)
    transitions = [
        {"status": target, "label": STATUS_ACTIONS[Risk.Status(target)]}
        for target in STATUS_ACTIONS
        if target in TRANSITIONS[Risk.Status(risk.status)]
    ]
    contingency_key = (
        f"{project.key}-{risk.contingency_number}"  # type: ignore[attr-defined]
        if risk.contingency_number  # type: ignore[attr-defined]
        else None
    )
    members = _contributors(project)
    return {
        "risk": risk,
        "project": project,
        "nav": "projects",
        "tab": "risks",
        "can_edit": can_edit,
        "can_delete": can(request.user, "risk.delete", risk),
        "transitions": transitions if can_edit else [],
        "contingency_key": contingency_key,
        "can_start_contingency": can_edit
        and risk.status == Risk.Status.OCCURRED
        and contingency_key is None,
        "values": _risk_values(risk),
        "errors": {},
        "members": members,
        "owner_missing": risk.owner_id is not None
        and all(m.user_id != risk.owner_id for m in members),
        "active_statuses": ACTIVE,
        "linked_items": risk_linked_items_for_page(risk=risk),
        "history_chart": _history_chart(risk),
        "audit": risk_audit_for_risk(risk=risk),
        "score_pending": _score_pending(risk),
        "today": project_today(project),
        "probability_label": PROBABILITY_LABELS[risk.probability],
        "impact_label": IMPACT_LABELS[risk.impact],
        **_choices_context(),
        **extra,
    }


def _detail_response(
    request: HttpRequest, risk: Risk, *, status: int = 200, **extra: Any
) -> HttpResponse:
    template = "risks/risk_detail.html#risk-page" if _is_htmx(request) else "risks/risk_detail.html"
    response = render(request, template, _detail_context(request, risk, **extra), status=status)
    if _is_htmx(request) and status == 200:
        trigger_client_event(response, "risk-changed")
    return response


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@risk_view("risk.view")
def risk_detail(request: HttpRequest, risk: Risk) -> HttpResponse:
    """The risk page; a POST saves the edit form (owners, and members on risks they own)."""
    if request.method == "GET":
        return _detail_response(request, risk)
    if not can(request.user, "risk.edit", risk):
        raise PermissionDenied("Only the project's owners and the risk's owner edit a risk.")
    form = RiskEditForm(request.POST)
    errors: dict[str, list[str]] = {}
    status = 400
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            data["owner"] = _owner(data["owner"])
            data["linked_items"] = work_items_by_keys(
                project=risk.project, keys=data["linked_items"], field="linked_items"
            )
            risk_update(actor=request.user, risk=risk, expected_version=version, **data)  # type: ignore[arg-type]
        except ValidationError as exc:
            errors = _error_dict(exc)
        except StaleVersion:
            errors = {
                "__all__": [
                    "Someone changed this risk while you were editing. Your edit was not "
                    "saved; the form now shows the current risk."
                ]
            }
            status = 409
        else:
            messages.success(request, "Risk saved.")
            if not _is_htmx(request):
                return redirect("risks:risk-detail", risk_id=risk.pk)
            return _detail_response(request, risk_get_for_user(user=request.user, risk_id=risk.pk))
    else:
        errors = _form_errors(form)
    fresh = risk_get_for_user(user=request.user, risk_id=risk.pk)
    extra: dict[str, Any] = {"errors": errors, "error_lines": _error_lines(errors, form)}
    if status == 400:  # keep what the user typed; a 409 shows the current risk instead
        extra["values"] = {**_posted_values(request), "version": str(fresh.version)}
    return _detail_response(request, fresh, status=status, **extra)


def _after_action(request: HttpRequest, risk: Risk, status: int) -> HttpResponse:
    if _is_htmx(request):
        fresh = risk_get_for_user(user=request.user, risk_id=risk.pk)
        return _detail_response(request, fresh, status=status)
    return redirect("risks:risk-detail", risk_id=risk.pk)


@require_POST
@risk_view("risk.edit")
def risk_status(request: HttpRequest, risk: Risk) -> HttpResponse:
    """Move the risk to another status (the buttons follow the allowed transitions)."""
    target = request.POST.get("status", "")
    version = request.POST.get("version", "")
    status = 200
    try:
        risk_update(
            actor=request.user,  # type: ignore[arg-type]
            risk=risk,
            status=target,
            expected_version=int(version) if version.isdigit() else None,
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(_error_lines(_error_dict(exc), RiskEditForm())))
        status = 400
    except StaleVersion:
        messages.error(request, "Someone changed this risk first; this is the risk as it is now.")
        status = 409
    else:
        label = Risk.Status(target).label.lower()
        if target == Risk.Status.OCCURRED and risk.contingency_plan.strip():
            messages.warning(request, "The risk occurred: start its contingency plan.")
        else:
            messages.success(request, f"Risk is now {label}.")
    return _after_action(request, risk, status)


@require_POST
@risk_view("risk.edit")
def risk_contingency(request: HttpRequest, risk: Risk) -> HttpResponse:
    """Start the contingency plan: one new work item, linked to the risk."""
    status = 200
    try:
        item = risk_start_contingency(actor=request.user, risk=risk)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, "; ".join(_error_lines(_error_dict(exc), RiskEditForm())))
        status = 400
    except Conflict as exc:
        messages.error(request, exc.message)
        status = 409
    else:
        messages.success(request, f"Contingency plan started as {risk.project.key}-{item.number}.")
    return _after_action(request, risk, status)


@require_POST
@risk_view("risk.delete")
def risk_delete_view(request: HttpRequest, risk: Risk) -> HttpResponse:
    key = risk.project.key
    risk_delete(actor=request.user, risk=risk)  # type: ignore[arg-type]
    messages.success(request, f"Risk “{risk.title}” deleted.")
    return redirect("risks:register", key=key)


@require_GET
@risk_view("risk.view")
def risk_score_panel(request: HttpRequest, risk: Risk) -> HttpResponse:
    """The score panel for polling: it stops polling once a worker has scored the risk."""
    context = {"risk": risk, "project": risk.project, "score_pending": _score_pending(risk)}
    return render(request, "risks/risk_detail.html#score-panel", context)
