from django.urls import path

from projects.api.views import MembershipViewSet, ProjectViewSet

project_list = ProjectViewSet.as_view({"get": "list", "post": "create"})
project_detail = ProjectViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)
member_list = MembershipViewSet.as_view({"get": "list", "post": "create"})
member_detail = MembershipViewSet.as_view({"patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("projects/", project_list, name="project-list"),
    path("projects/<str:key>/", project_detail, name="project-detail"),
    path("projects/<str:project_key>/members/", member_list, name="member-list"),
    path("projects/<str:project_key>/members/<int:user_id>/", member_detail, name="member-detail"),
]
