import os
import signal
import subprocess
import sys
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tokui.activities.schedule import JOBS, start_scheduler
from tokui.orders.monitoring import ORDER_JOBS


class Command(BaseCommand):
    help = (
        "Serve Tokui with gunicorn (production-ready; static files by whitenoise), with a "
        "background task worker (imports) next to it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--workers", default=os.environ.get("TOKUI_WORKERS", "2"))
        parser.add_argument(
            "--no-task-worker",
            action="store_true",
            help="Do not start `tokui db_worker` (when workers run elsewhere).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        server_argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "tokui.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
        ]
        if options["no_task_worker"]:
            os.execv(sys.executable, server_argv)
        # The task worker is a child of this process: it runs as long as the web server does.
        worker = subprocess.Popen([sys.executable, "-m", "tokui.cli", "db_worker", "-v", "1"])
        server = subprocess.Popen(server_argv)
        # Periodic work (mail fetch, task reminders, order digest and buying rhythm): enqueued
        # here, run by the worker.
        stop_scheduler = threading.Event()
        start_scheduler(stop_scheduler, (*JOBS, *ORDER_JOBS))

        def forward(signum: int, _frame: FrameType | None) -> None:
            server.send_signal(signum)

        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, forward)
        try:
            code = server.wait()
        finally:
            stop_scheduler.set()
            # db_worker finishes the task in hand on SIGTERM; an import resumes where it stopped.
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if code:
            sys.exit(code)
