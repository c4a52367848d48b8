"""One exception handler for the whole API, so error bodies look the same everywhere.

400 ``{"field": ["message"]}`` for validation (Django's and DRF's), ``{"detail": ...}`` for
everything else; 409 with ``current`` for a stale ``version``; 412 for a failed ``If-Match``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tpm.errors import Conflict, PreconditionFailed, StaleVersion


def validation_error_body(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": list(exc.messages)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StaleVersion):
        view = context.get("view")
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if view is not None and hasattr(view, "serialize_current"):
            body["current"] = view.serialize_current(exc.current)
        code = (
            status.HTTP_412_PRECONDITION_FAILED
            if isinstance(exc, PreconditionFailed)
            else status.HTTP_409_CONFLICT
        )
        response = Response(body, status=code)
        if view is not None and hasattr(view, "etag_for"):
            response["ETag"] = view.etag_for(exc.current)
        return response
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        # Bad input is answered with 400 everywhere in the contract, the content type included.
        exc = exceptions.ParseError(f"{exc.detail} Send application/json.")
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    return response
