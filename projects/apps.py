from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"

    def ready(self) -> None:
        from projects import selectors, tasks
        from tpm import events, permissions

        permissions.register_role_resolver(selectors.membership_role_resolve)
        events.subscribe(tasks.SUMMARY_KIND, tasks.refresh_project_summary)
