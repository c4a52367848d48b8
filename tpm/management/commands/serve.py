"""``manage.py serve``: migrate, load the demo, then run web, Celery worker and beat.

This is what ``make run`` calls. Ctrl-C (SIGINT) or SIGTERM stops all three cleanly; if one
of them dies the others are stopped too, so the command never leaves half a system running.
The embedded PostgreSQL and Redis keep running for the next start (``make stop`` ends them).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run TPM: migrate, load demo data, then serve web, worker and beat until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument(
            "--no-demo", action="store_true", help="Do not load the demo portfolio."
        )
        parser.add_argument(
            "--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("demo_data")
        from django.db import connections

        connections.close_all()  # children open their own connections
        bin_dir = Path(sys.executable).parent
        state = str(settings.STATE_DIR)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tpm.settings", "PYTHONUNBUFFERED": "1"}
        commands = {
            "web": [
                str(bin_dir / "gunicorn"),
                "tpm.wsgi:application",
                "--bind",
                f"{options['host']}:{options['port']}",
                "--workers",
                str(options["web_workers"]),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ],
            "worker": [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tpm",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--hostname",
                "tpm-worker@%h",
            ],
            "beat": [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tpm",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                os.path.join(state, "celerybeat-schedule"),
            ],
        }
        children = {
            name: subprocess.Popen(cmd, env=env, start_new_session=True)
            for name, cmd in commands.items()
        }
        self.stdout.write(
            self.style.SUCCESS(
                f"TPM is serving http://{options['host']}:{options['port']}/ "
                "with a Celery worker and beat. Press Ctrl-C to stop."
            )
        )
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(
                        f"{name} exited with {child.returncode}; stopping the others."
                    )
                    exit_code = child.returncode or 1
                    stopping = True
                    break
            time.sleep(0.5)
        self.stdout.write("stopping web, worker and beat…")
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        self.stdout.write(
            "stopped. Embedded PostgreSQL and Redis keep running for the next start; "
            "`make stop` ends them."
        )
        if exit_code:
            raise SystemExit(exit_code)
