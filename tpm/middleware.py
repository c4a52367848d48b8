"""Flash messages for HTMX partial responses.

A full page renders ``messages`` in the base layout. An HTMX request swaps only a fragment,
so a message queued by the view (a refused status move, "3 items moved") would wait for the
next full page. This middleware appends the unread messages to the fragment as an
out-of-band swap of ``#messages``, so they show where the user is looking, at once.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


class HtmxMessagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.streaming:
            return response
        navigates = any(h in response for h in ("HX-Redirect", "HX-Refresh", "HX-Location"))
        if 300 <= response.status_code < 400 or response.status_code == 204 or navigates:
            return response  # the next full page shows them
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        storage = get_messages(request)
        if storage.used:
            return response  # the fragment rendered them itself
        unread = list(storage)
        if unread:
            response.content += render_to_string(
                "components/messages.html", {"messages": unread, "oob": True}
            ).encode()
        return response
