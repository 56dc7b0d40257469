from django.urls import path

from petitions import supporter_views

app_name = "supporters"

urlpatterns = [
    path("", supporter_views.supporter_list, name="list"),
    path("export/", supporter_views.supporter_export, name="export"),
    path("exports/", supporter_views.supporter_exports, name="exports"),
]
