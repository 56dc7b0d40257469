"""An organization's API tokens and webhooks, in its workspace, for its administrators: they
make a token (its key shown on that one page, once), see when each was last used, and revoke
it; they register webhook endpoints, read their secrets, rotate them, and read and resend recent
deliveries. Other members get a 403, everyone else a 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import webhooks
from accounts.api_tokens import api_token_create, api_token_revoke, api_tokens_of_organization
from accounts.models import ApiToken, Capability, Organization, WebhookDelivery, WebhookEndpoint
from accounts.selectors import membership_get, user_logged_in
from mechanisms.validators import validate_no_control_characters


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What uses it, so you know which to revoke: “Our CRM”."),
        validators=[validate_no_control_characters],
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("It may"),
        choices=ApiToken.Scope.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose what the token may do.")},
    )


def _organization_for(request: HttpRequest, slug: str) -> Organization:
    organization = get_object_or_404(Organization, slug=slug)
    membership = membership_get(user=request.user, organization=organization)
    if membership is None:
        raise Http404
    if not membership.may(Capability.MANAGE_API):
        raise PermissionDenied
    return organization


def _page(
    request: HttpRequest,
    organization: Organization,
    form: ApiTokenForm,
    *,
    key: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "organization": organization,
        "form": form,
        "tokens": api_tokens_of_organization(organization=organization),
        "key": key,
    }
    response = render(request, "accounts/api_tokens.html", context, status=status)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def api_tokens(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization_for(request, slug)
    if request.method != "POST":
        return _page(request, organization, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if not organization.is_verified:
        form.add_error(
            None, _("Your organization can make tokens once our staff have verified it.")
        )
        return _page(request, organization, form, status=400)
    if not form.is_valid():
        return _page(request, organization, form, status=400)
    _token, key = api_token_create(
        organization=organization,
        user=user_logged_in(request=request),
        name=form.cleaned_data["name"],
        scope=ApiToken.Scope(form.cleaned_data["scope"]),
    )
    # The key is on this page only: it is not stored, and a reload does not show it again.
    return _page(request, organization, ApiTokenForm(), key=key)


@require_POST
@login_required
def api_token_revoke_view(request: HttpRequest, slug: str, token_id: int) -> HttpResponse:
    organization = _organization_for(request, slug)
    token = get_object_or_404(ApiToken, pk=token_id, organization=organization)
    if api_token_revoke(
        organization=organization, token_id=token.pk, user=user_logged_in(request=request)
    ):
        messages.success(
            request, _("Revoked “%(name)s”: it stops working now.") % {"name": token.name}
        )
    else:
        messages.info(request, _("“%(name)s” was already revoked.") % {"name": token.name})
    return redirect("accounts:api_tokens", slug=organization.slug)


# --- Webhooks -------------------------------------------------------------------------------------


class WebhookForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=WebhookEndpoint.Kind.choices,
        initial=WebhookEndpoint.Kind.STANDARD,
        widget=forms.RadioSelect,
    )
    url = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=500,
        help_text=gettext_lazy("Your system's https:// address that receives the events."),
        validators=[validate_no_control_characters],
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=WebhookEndpoint.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("For a webhook. An OSDI push sends confirmed supporters only."),
    )
    osdi_api_key = forms.CharField(
        label=gettext_lazy("OSDI API key"),
        max_length=200,
        required=False,
        help_text=gettext_lazy(
            "For an OSDI push: the key your OSDI server (Action Network, ...) gave your "
            "organization."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") == WebhookEndpoint.Kind.STANDARD and not cleaned.get("events"):
            self.add_error("events", _("Choose at least one of the events listed."))
        return cleaned


def _webhooks_page(
    request: HttpRequest, organization: Organization, form: WebhookForm, *, status: int = 200
) -> HttpResponse:
    context = {
        "organization": organization,
        "form": form,
        "endpoints": webhooks.webhook_endpoints_of(organization=organization),
        "deliveries": webhooks.webhook_deliveries_recent(organization=organization),
    }
    return render(request, "accounts/webhooks.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def webhooks_page(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization_for(request, slug)
    if request.method != "POST":
        return _webhooks_page(request, organization, WebhookForm())
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _webhooks_page(request, organization, form, status=400)
    try:
        webhooks.webhook_endpoint_create(
            organization=organization,
            user=user_logged_in(request=request),
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            kind=WebhookEndpoint.Kind(form.cleaned_data["kind"]),
            osdi_api_key=form.cleaned_data["osdi_api_key"],
        )
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return _webhooks_page(request, organization, form, status=400)
    messages.success(request, _("Endpoint registered. Its secret is below."))
    return redirect("accounts:webhooks", slug=organization.slug)


@require_POST
@login_required
def webhook_endpoint_action(
    request: HttpRequest, slug: str, endpoint_id: int, action: str
) -> HttpResponse:
    organization = _organization_for(request, slug)
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id, organization=organization)
    user = user_logged_in(request=request)
    if action == "rotate":
        webhooks.webhook_secret_rotate(endpoint=endpoint, user=user)
        messages.success(
            request, _("New secret made. The old one keeps signing beside it for a day.")
        )
    elif action == "enable":
        try:
            webhooks.webhook_endpoint_enable(endpoint=endpoint, user=user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Endpoint on again: what waited for it goes out now."))
    elif action == "delete":
        webhooks.webhook_endpoint_delete(endpoint=endpoint, user=user)
        messages.success(request, _("Endpoint removed."))
    else:
        raise Http404
    return redirect("accounts:webhooks", slug=organization.slug)


@require_POST
@login_required
def webhook_redeliver_view(request: HttpRequest, slug: str, delivery_id: int) -> HttpResponse:
    organization = _organization_for(request, slug)
    get_object_or_404(WebhookDelivery, pk=delivery_id, endpoint__organization=organization)
    try:
        webhooks.webhook_redeliver(
            organization=organization,
            delivery_id=delivery_id,
            user=user_logged_in(request=request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Sent again, as a new message."))
    return redirect("accounts:webhooks", slug=organization.slug)
