from django.urls import path

from petitions.drafting import image_views, question_views, views
from petitions.thresholds import workspace as threshold_workspace

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
    path("petition/<int:pk>/thresholds/", threshold_workspace.thresholds_page, name="thresholds"),
    # Sign-form questions, for every drafting kind (a letter's individual sign form too); a
    # petition's keep their URLs (kind "petition").
    path("<slug:kind>/<int:pk>/questions/", question_views.campaign_questions, name="questions"),
    path(
        "<slug:kind>/<int:pk>/questions/<int:question_pk>/",
        question_views.question_change,
        name="question_change",
    ),
    path(
        "<slug:kind>/<int:pk>/questions/<int:question_pk>/remove/",
        question_views.question_remove,
        name="question_remove",
    ),
]
