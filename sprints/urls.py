from django.urls import path

from sprints import views

app_name = "sprints"

urlpatterns = [
    path("my-work/", views.my_work, name="my-work"),
    path("projects/<str:key>/backlog/", views.backlog, name="backlog"),
    path(
        "projects/<str:key>/backlog/items/", views.backlog_item_create, name="backlog-item-create"
    ),
    path("projects/<str:key>/backlog/rank/", views.backlog_rank, name="backlog-rank"),
    path("projects/<str:key>/backlog/move/", views.backlog_move, name="backlog-move"),
    path("projects/<str:key>/sprints/new/", views.sprint_create_view, name="sprint-create"),
    path("projects/<str:key>/board/", views.board, name="board"),
    path("projects/<str:key>/workflow/", views.workflow, name="workflow"),
    path("projects/<str:key>/charts/", views.project_charts, name="project-charts"),
    path("items/<str:key>/", views.item_detail, name="item-detail"),
    path("items/<str:key>/status/", views.item_move_status, name="item-status"),
    path("items/<str:key>/comments/", views.item_comment, name="item-comment"),
    path("items/<str:key>/worklogs/", views.item_worklog, name="item-worklog"),
    path("sprints/<int:sprint_id>/", views.sprint_detail, name="sprint-detail"),
    path("sprints/<int:sprint_id>/burndown/", views.sprint_chart, name="sprint-chart"),
    path(
        "sprints/<int:sprint_id>/start/",
        views.sprint_action,
        {"verb": "start"},
        name="sprint-start",
    ),
    path(
        "sprints/<int:sprint_id>/close/",
        views.sprint_action,
        {"verb": "close"},
        name="sprint-close",
    ),
]
