from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.api import osdi, views
from config.api import webhooks as api_webhooks

app_name = "api"

urlpatterns = [
    path("petitions/", views.PetitionList.as_view(), name="petitions"),
    path("petitions/<slug:slug>/", views.PetitionDetail.as_view(), name="petition"),
    path("petitions/<slug:slug>/count/", views.PetitionCount.as_view(), name="petition_count"),
    path(
        "petitions/<slug:slug>/history/", views.PetitionHistory.as_view(), name="petition_history"
    ),
    path("letters/", views.LetterList.as_view(), name="letters"),
    path("letters/<slug:slug>/", views.LetterDetail.as_view(), name="letter"),
    path("osdi/", osdi.EntryPoint.as_view(), name="osdi"),
    path("osdi/petitions/", osdi.PetitionList.as_view(), name="osdi_petitions"),
    path("osdi/petitions/<int:pk>/", osdi.PetitionDetail.as_view(), name="osdi_petition"),
    path(
        "osdi/petitions/<int:pk>/signatures/",
        osdi.SignatureList.as_view(),
        name="osdi_signatures",
    ),
    path("osdi/people/", osdi.PersonList.as_view(), name="osdi_people"),
    path("osdi/people/<int:pk>/", osdi.PersonDetail.as_view(), name="osdi_person"),
    path("webhooks/", api_webhooks.EndpointList.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", api_webhooks.EndpointDetail.as_view(), name="webhook"),
    path("webhooks/deliveries/", api_webhooks.DeliveryList.as_view(), name="webhook_deliveries"),
    path(
        "webhooks/deliveries/<int:pk>/again/",
        api_webhooks.DeliveryAgain.as_view(),
        name="webhook_again",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under the API is a 404 in the API's own JSON, not the site's HTML page.
    re_path(r"^[\s\S]*$", views.not_found),
]
