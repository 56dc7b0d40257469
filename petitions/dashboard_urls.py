from django.urls import path

from petitions import dashboard_views

app_name = "petition_dashboards"

urlpatterns = [
    path("", dashboard_views.organization_petitions, name="list"),
    path("<slug:slug>/", dashboard_views.petition_dashboard, name="dashboard"),
]
