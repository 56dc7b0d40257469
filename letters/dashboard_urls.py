from django.urls import path

from letters import dashboard_views

app_name = "letter_dashboards"

urlpatterns = [
    path("", dashboard_views.organization_letters, name="list"),
    path("<slug:slug>/", dashboard_views.letter_dashboard, name="dashboard"),
]
