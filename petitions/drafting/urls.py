from django.urls import path

from petitions.drafting import image_views, views

app_name = "drafting"

urlpatterns = [
    path("", views.workspace, name="list"),
    path("new/<slug:kind>/", views.campaign_new, name="new"),
    path("invitations/<slug:kind>/<int:pk>/", views.invitation_answer, name="invitation_answer"),
    path("<slug:kind>/<int:pk>/", views.campaign_page, name="campaign"),
    path("<slug:kind>/<int:pk>/submit/", views.campaign_submit, name="submit"),
    path("<slug:kind>/<int:pk>/targets/", views.campaign_targets, name="targets"),
    path("<slug:kind>/<int:pk>/image/", image_views.campaign_image, name="image"),
    path("<slug:kind>/<int:pk>/targets/propose/", views.target_propose, name="propose_target"),
    path("<slug:kind>/<int:pk>/invite/", views.campaign_invite, name="invite"),
    path("<slug:kind>/<int:pk>/history/", views.campaign_history, name="history"),
    path("<slug:kind>/<int:pk>/history/<int:number>/", views.campaign_version, name="version"),
    path("petition/<int:pk>/updates/new/", views.update_new, name="update_new"),
]
