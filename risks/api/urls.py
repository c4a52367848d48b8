from django.urls import path

from risks.api import views

RISK = "risks/<int:pk>/"

urlpatterns = [
    path(
        "projects/<str:project_key>/risks/",
        views.ProjectRiskViewSet.as_view({"get": "list", "post": "create"}),
        name="project-risks",
    ),
    path(
        "projects/<str:project_key>/risk-matrix/",
        views.ProjectRiskMetricsViewSet.as_view({"get": "risk_matrix"}),
        name="project-risk-matrix",
    ),
    path(
        "projects/<str:project_key>/risk-settings/",
        views.ProjectRiskMetricsViewSet.as_view(
            {"get": "risk_settings", "put": "risk_settings_update"}
        ),
        name="project-risk-settings",
    ),
    path(
        RISK,
        views.RiskViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="risk-detail",
    ),
    path(RISK + "history/", views.RiskViewSet.as_view({"get": "history"}), name="risk-history"),
    path(
        RISK + "start-contingency/",
        views.RiskViewSet.as_view({"post": "start_contingency"}),
        name="risk-start-contingency",
    ),
]
