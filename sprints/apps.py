from django.apps import AppConfig


class SprintsConfig(AppConfig):
    name = "sprints"

    def ready(self) -> None:
        from sprints import tasks
        from sprints.services.workflow import workflow_create_defaults
        from tpm import events

        events.on_project_created(workflow_create_defaults)
        events.subscribe(tasks.BURNDOWN_KIND, tasks.recompute_burndowns)
        events.subscribe(tasks.FLOW_KIND, tasks.recompute_flow)
