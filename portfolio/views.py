from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portfolio.selectors import portfolio_projects_for_user, portfolio_totals


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    page = Paginator(portfolio_projects_for_user(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    context = {
        "page_obj": page,
        "projects": page.object_list,
        "totals": portfolio_totals(user=request.user),
        "today": timezone.localdate(),
        "nav": "portfolio",
    }
    return render(request, "portfolio/dashboard.html", context)
