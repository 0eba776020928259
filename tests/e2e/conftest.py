"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server."""

import os
import shutil

import pytest

# live_server runs in a thread while Playwright's sync API holds an event loop in this one.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("TOKUI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package.")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    # An English browser by default; a test switches language the way a person does.
    return {**browser_context_args, "locale": "en-US", "viewport": {"width": 1280, "height": 900}}
