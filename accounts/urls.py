from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("organizations/", views.my_organizations, name="my_organizations"),
    path("organizations/join/", views.organization_join, name="organization_join"),
    path(
        "organizations/join/check-your-inbox/",
        views.organization_check_inbox,
        name="organization_check_inbox",
    ),
    # Before the confirmation links, so an organization called "confirm" keeps its page.
    path(
        "organizations/<slug:slug>/members/",
        views.organization_members,
        name="organization_members",
    ),
    path(
        "organizations/confirm/<str:token>/",
        views.organization_confirm,
        name="organization_confirm",
    ),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordLinkView.as_view(), name="password_reset"),
    path(
        "accounts/password/sent/",
        views.PasswordLinkSentView.as_view(),
        name="password_reset_sent",
    ),
    path(
        "accounts/set-password/done/",
        views.PasswordSetDoneView.as_view(),
        name="password_set_done",
    ),
    path(
        "accounts/set-password/<uidb64>/<token>/",
        views.PasswordSetView.as_view(),
        name="password_set",
    ),
]
