from django.apps import AppConfig


class SprintsConfig(AppConfig):
    name = "sprints"

    def ready(self) -> None:
        from sprints.services.workflow import workflow_create_defaults
        from tpm import events

        events.on_project_created(workflow_create_defaults)
