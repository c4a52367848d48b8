"""``manage.py embedded status|stop``: inspect or stop the embedded PostgreSQL and Redis."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tpm import embedded


class Command(BaseCommand):
    help = "Show or stop the embedded PostgreSQL and Redis kept under the state folder (.data/)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["status", "stop"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        state = settings.STATE_DIR
        if action == "status":
            self.stdout.write(f"state folder: {state}")
            db = settings.DATABASE_URL if settings.EMBEDDED_DATABASE else "external (DATABASE_URL)"
            redis = settings.REDIS_URL if settings.EMBEDDED_REDIS else "external (REDIS_URL)"
            self.stdout.write(f"database: {db}")
            self.stdout.write(f"redis: {redis}")
            return
        from django.db import connections

        connections.close_all()
        stopped_pg = embedded.postgres_stop(state) if settings.EMBEDDED_DATABASE else False
        stopped_redis = embedded.redis_stop(state) if settings.EMBEDDED_REDIS else False
        self.stdout.write(
            f"embedded PostgreSQL {'stopped' if stopped_pg else 'not running'}; "
            f"embedded Redis {'stopped' if stopped_redis else 'not running'}."
        )
