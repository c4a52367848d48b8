"""Headless-browser journeys: Debian's Chromium driven by pytest-playwright against live_server.

Never run ``playwright install``: the browser is ``/usr/bin/chromium`` (STACK.md trap 7).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session", autouse=True)
def _require_chromium():
    """Skip the browser journeys without Chromium; on CI a missing browser is a failure.

    Session-scoped so it runs before pytest-playwright's session ``browser`` fixture tries
    (and fails) to launch it.
    """
    if CHROMIUM.exists():
        return
    message = (
        f"{CHROMIUM} is missing: install it with `apt-get update && apt-get install -y chromium` "
        "(do not run `playwright install`)."
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"Browser journeys cannot run on CI: {message}", pytrace=False)
    pytest.skip(f"Browser journeys skipped: {message}")


@pytest.fixture(scope="session")
def browser_type_launch_args(_require_chromium):
    return {
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Stable pages: British locale like LANGUAGE_CODE, UTC, fixed size, no CSS transitions."""
    return {
        **browser_context_args,
        "locale": "en-GB",
        "timezone_id": "UTC",
        "viewport": {"width": 1280, "height": 800},
        "reduced_motion": "reduce",
    }


@pytest.fixture(autouse=True)
def _screenshot_final_page(request, page):
    """After each journey, pass or fail, save its final page as test-artifacts/<test>.png."""
    yield
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{request.node.originalname}.png"
    try:
        page.screenshot(path=str(path), full_page=True)
    except PlaywrightError as exc:  # a crashed page must not hide the test's own result
        warnings.warn(f"no screenshot for {request.node.nodeid}: {exc}", stacklevel=1)
