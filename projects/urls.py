from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("projects/new/", views.project_create_view, name="project-create"),
    path("projects/<str:key>/", views.project_overview, name="project-overview"),
    path("projects/<str:key>/settings/", views.project_settings, name="project-settings"),
    path("projects/<str:key>/delete/", views.project_delete_view, name="project-delete"),
    path("projects/<str:key>/members/add/", views.member_add, name="member-add"),
    path("projects/<str:key>/members/<int:user_id>/", views.member_update, name="member-update"),
    path(
        "projects/<str:key>/members/<int:user_id>/remove/",
        views.member_remove,
        name="member-remove",
    ),
]
