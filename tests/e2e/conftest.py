"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server."""

import os
import shutil
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

# live_server runs in a thread while Playwright's sync API holds an event loop in this one.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class _OneRequestAtATimeServer(ThreadedWSGIServer):
    """The live server, answering one request at a time when it shares the test's connection.

    On SQLite the test database lives in memory, so every live-server thread uses the test's one
    connection; a page and its htmx call at the same moment then misuse it ("bad parameter or
    other API misuse", a flaky failure in CI). Threads still accept connections (a browser's idle
    pre-connection must not block the server); only the application runs under a lock, and the
    response is read to the end inside it (views may touch the database while streaming)."""

    def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, connections_override=connections_override, **kwargs)
        self._serial = bool(connections_override)
        self._lock = threading.Lock()

    def set_app(self, application: Callable[..., Iterable[bytes]]) -> None:
        if not self._serial:
            super().set_app(application)
            return

        def serial(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            with self._lock:
                result = application(environ, start_response)
                try:
                    return list(result)
                finally:
                    if hasattr(result, "close"):
                        result.close()

        super().set_app(serial)


LiveServerThread.server_class = _OneRequestAtATimeServer

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
