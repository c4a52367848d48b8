"""Core pages: health check, profile with personal API tokens."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from tpm.selectors import api_token_list_for_profile
from tpm.services import api_token_create, api_token_revoke

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """``{"status", "database", "redis"}``: 200 when both answer, 503 otherwise."""
    from django.core.cache import cache

    database = redis = "ok"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        logger.warning("healthz: database unavailable: %s", exc)
        database = "unavailable"
    try:
        cache.get("healthz")
    except Exception as exc:
        logger.warning("healthz: redis unavailable: %s", exc)
        redis = "unavailable"
    healthy = database == "ok" and redis == "ok"
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "database": database, "redis": redis},
        status=200 if healthy else 503,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """Profile: the user's details and personal API tokens (create shows the key once)."""
    new_key = None
    errors: dict[str, list[str]] = {}
    name = ""
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            token, new_key = api_token_create(actor=request.user, name=name)  # type: ignore[arg-type]
            name = ""
        except ValidationError as exc:
            errors = exc.message_dict
    context = {
        "tokens": api_token_list_for_profile(user=request.user),  # type: ignore[arg-type]
        "new_key": new_key,
        "errors": errors,
        "name": name,
    }
    template = "tpm/profile.html#token-panel" if request.htmx else "tpm/profile.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=400 if errors else 200)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = api_token_revoke(actor=request.user, token_id=token_id)  # type: ignore[arg-type]
        messages.success(
            request, f"Token “{token.name}” revoked. Scripts using it stop working now."
        )
    except ValidationError as exc:
        # Someone else's token, or none at all: the same answer, so ids don't leak.
        raise Http404("No such token.") from exc
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRefresh()
    return redirect("profile")
