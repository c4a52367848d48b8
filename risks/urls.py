from django.urls import path

from risks import views

app_name = "risks"

urlpatterns = [
    path("projects/<str:key>/risks/", views.register, name="register"),
    path("projects/<str:key>/risks/new/", views.register_create, name="risk-create"),
    path("projects/<str:key>/risks.csv", views.register_csv, name="register-csv"),
    path("projects/<str:key>/risks/heatmap/", views.heatmap, name="heatmap"),
    path("projects/<str:key>/risks/top/", views.top_risks, name="top-risks"),
    path("risks/<int:risk_id>/", views.risk_detail, name="risk-detail"),
    path("risks/<int:risk_id>/score/", views.risk_score_panel, name="risk-score"),
    path("risks/<int:risk_id>/row/", views.risk_row, name="risk-row"),
    path("risks/<int:risk_id>/row/edit/", views.risk_row_edit, name="risk-row-edit"),
    path("risks/<int:risk_id>/status/", views.risk_status, name="risk-status"),
    path("risks/<int:risk_id>/contingency/", views.risk_contingency, name="risk-contingency"),
    path("risks/<int:risk_id>/delete/", views.risk_delete_view, name="risk-delete"),
]
