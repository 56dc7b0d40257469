from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import api_token_views, privacy_views, two_factor, views

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
        "organizations/<slug:slug>/members/<int:membership_id>/role/",
        views.organization_member_role,
        name="organization_member_role",
    ),
    path(
        "organizations/<slug:slug>/api-tokens/",
        api_token_views.api_tokens,
        name="api_tokens",
    ),
    path(
        "organizations/<slug:slug>/api-tokens/<int:token_id>/revoke/",
        api_token_views.api_token_revoke_view,
        name="api_token_revoke",
    ),
    path("organizations/<slug:slug>/webhooks/", api_token_views.webhooks_page, name="webhooks"),
    path(
        "organizations/<slug:slug>/webhooks/<int:endpoint_id>/<slug:action>/",
        api_token_views.webhook_endpoint_action,
        name="webhook_action",
    ),
    path(
        "organizations/<slug:slug>/webhooks/deliveries/<int:delivery_id>/again/",
        api_token_views.webhook_redeliver_view,
        name="webhook_redeliver",
    ),
    path(
        "organizations/confirm/<str:token>/",
        views.organization_confirm,
        name="organization_confirm",
    ),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/setup/", two_factor.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", two_factor.two_factor_verify, name="two_factor_verify"),
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
    # Self-service for signers (no account): see, download and withdraw their signatures.
    path("my-signatures/", privacy_views.my_signatures_request, name="my_signatures"),
    path("my-signatures/sent/", privacy_views.my_signatures_sent, name="my_signatures_sent"),
    path(
        "my-signatures/<str:token>/",
        privacy_views.my_signatures_list,
        name="my_signatures_list",
    ),
    path(
        "my-signatures/<str:token>/download/",
        privacy_views.my_signatures_download,
        name="my_signatures_download",
    ),
    path(
        "my-signatures/<str:token>/withdraw/",
        privacy_views.my_signatures_withdraw,
        name="my_signatures_withdraw",
    ),
    path(
        "my-signatures/<str:token>/renew/",
        privacy_views.my_signatures_renew,
        name="my_signatures_renew",
    ),
]
