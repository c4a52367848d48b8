from django.apps import AppConfig


class RisksConfig(AppConfig):
    name = "risks"

    def ready(self) -> None:
        from risks import tasks
        from tpm import events

        events.subscribe(tasks.RISK_KIND, tasks.recompute_risks)
