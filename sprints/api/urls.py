from django.urls import path

from sprints.api import views

ITEM = "items/<str:key>/"

urlpatterns = [
    path(
        "projects/<str:project_key>/items/",
        views.ProjectItemViewSet.as_view({"get": "list", "post": "create"}),
        name="project-items",
    ),
    path(
        "projects/<str:project_key>/sprints/",
        views.ProjectSprintViewSet.as_view({"get": "list", "post": "create"}),
        name="project-sprints",
    ),
    path(
        "projects/<str:project_key>/statuses/",
        views.ProjectStatusViewSet.as_view({"get": "list", "post": "create"}),
        name="project-statuses",
    ),
    path(
        "projects/<str:project_key>/velocity/",
        views.ProjectMetricsViewSet.as_view({"get": "velocity"}),
        name="project-velocity",
    ),
    path(
        "projects/<str:project_key>/flow/",
        views.ProjectMetricsViewSet.as_view({"get": "flow"}),
        name="project-flow",
    ),
    path(
        "sprints/<int:pk>/burndown/",
        views.SprintViewSet.as_view({"get": "burndown"}),
        name="sprint-burndown",
    ),
    path("items/", views.ItemViewSet.as_view({"get": "list"}), name="item-list"),
    path(
        ITEM,
        views.ItemViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="item-detail",
    ),
    path(
        ITEM + "comments/",
        views.ItemViewSet.as_view({"get": "comments", "post": "comments"}),
        name="item-comments",
    ),
    path(
        ITEM + "worklogs/",
        views.ItemViewSet.as_view({"get": "worklogs", "post": "worklogs"}),
        name="item-worklogs",
    ),
    path(ITEM + "history/", views.ItemViewSet.as_view({"get": "history"}), name="item-history"),
    path(ITEM + "rank/", views.ItemViewSet.as_view({"post": "rank"}), name="item-rank"),
    path(
        "sprints/<int:pk>/",
        views.SprintViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="sprint-detail",
    ),
    path(
        "sprints/<int:pk>/start/",
        views.SprintViewSet.as_view({"post": "start"}),
        name="sprint-start",
    ),
    path(
        "sprints/<int:pk>/close/",
        views.SprintViewSet.as_view({"post": "close"}),
        name="sprint-close",
    ),
    path(
        "statuses/<int:pk>/",
        views.StatusViewSet.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="status-detail",
    ),
]
