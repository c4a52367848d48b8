"""Projects created before the sprints app get the default workflow."""

from django.db import migrations

DEFAULTS = (
    ("Backlog", "todo"),
    ("To Do", "todo"),
    ("In Progress", "in_progress"),
    ("In Review", "in_progress"),
    ("Done", "done"),
)


def add_default_statuses(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    Status = apps.get_model("sprints", "Status")
    without = Project.objects.exclude(pk__in=Status.objects.values("project_id"))
    Status.objects.bulk_create(
        [Status(project=project, name=name, category=category, order=index)
         for project in without for index, (name, category) in enumerate(DEFAULTS)]
    )


class Migration(migrations.Migration):
    dependencies = [("sprints", "0001_initial")]

    operations = [migrations.RunPython(add_default_statuses, migrations.RunPython.noop)]
