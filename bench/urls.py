"""The app's URLs plus two floor views that measure the stack without TPM's own work."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def floor_json(request: HttpRequest) -> JsonResponse:
    """The cheapest Django response: tiny JSON, no SQL."""
    return JsonResponse({"ok": True})


def floor_update(request: HttpRequest) -> JsonResponse:
    """One SQL UPDATE in autocommit: the floor for a write."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bench_floor SET n = n + 1 WHERE id = 1")
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/floor-json/", floor_json),
    path("bench/floor-update/", floor_update),
    path("", include("tpm.urls")),
]
