from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import selectors, services
from accounts.forms import (
    InviteForm,
    LoginForm,
    OrganizationJoinForm,
    PasswordLinkForm,
    PasswordSetForm,
    RoleForm,
)
from accounts.models import ROLE_CAPABILITIES, Capability, Membership, Organization
from accounts.two_factor import staff_verified
from mechanisms.abuse import rate_limits
from mechanisms.tokens import TokenExpired, TokenInvalid


def _add_errors(form: Form, error: ValidationError) -> None:
    """Put a service's errors next to the fields they name, and any other on the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@require_http_methods(["GET", "HEAD", "POST"])
def organization_join(request: HttpRequest) -> HttpResponse:
    form = OrganizationJoinForm(request.POST if request.method == "POST" else None)
    refused = {"form": form, "rate_limit_message": rate_limits.rate_limit_message("join")}
    if form.is_bound and rate_limits.rate_limited(request, action="join"):
        return render(request, "accounts/organization_join.html", refused, status=429)
    if form.is_bound and form.is_valid():
        if form.human_check.honeypot_filled:
            # A bot: it gets the answer a person would, and nothing is written.
            return redirect("accounts:organization_check_inbox")
        try:
            # Every check the registration makes, before the budget below: a post it would
            # refuse (a free-mail contact, a domain already on Cosign) must not spend it.
            services.organization_register_check(**form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            # The site-wide budget counts only what passed validation: refused posts cannot
            # spend it.
            if rate_limits.submission_rate_limited(request, action="join"):
                return render(request, "accounts/organization_join.html", refused, status=429)
            try:
                # The language the contact reads: LocaleMiddleware set it from the URL prefix.
                services.organization_register(language=request.LANGUAGE_CODE, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return redirect("accounts:organization_check_inbox")
    status = 400 if form.is_bound else 200
    return render(request, "accounts/organization_join.html", {"form": form}, status=status)


@require_safe
def organization_check_inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/organization_check_inbox.html")


@require_http_methods(["GET", "HEAD", "POST"])
def organization_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button and changes nothing (mail scanners follow links); POST confirms."""
    try:
        organization = selectors.organization_from_contact_token(token=token)
    except TokenExpired as expired:
        organization = expired.value
        if organization.contact_confirmed_at is None:
            return _link_problem(request, expired=True)
    except TokenInvalid:
        return _link_problem(request, expired=False)

    if request.method == "POST" and organization.contact_confirmed_at is None:
        try:
            organization = services.organization_contact_confirm(organization_id=organization.pk)
        except services.OrganizationAlreadyRegistered as taken:
            context = {"organization": organization, "existing": taken.organization}
            return render(request, "accounts/organization_taken.html", context, status=409)
        return render(
            request, "accounts/organization_confirmed.html", {"organization": organization}
        )
    return render(request, "accounts/organization_confirm.html", {"organization": organization})


def _link_problem(request: HttpRequest, *, expired: bool) -> HttpResponse:
    return render(
        request, "accounts/organization_link_problem.html", {"expired": expired}, status=400
    )


@require_safe
@login_required
def my_organizations(request: HttpRequest) -> HttpResponse:
    memberships = selectors.memberships_of_user(user=selectors.user_logged_in(request=request))
    return render(request, "accounts/my_organizations.html", {"memberships": memberships})


def _organization_for_member(
    request: HttpRequest, slug: str
) -> tuple[Organization, Membership | None]:
    """The organization and the user's membership of it; a 404 for anyone outside it but staff,
    who see every organization."""
    organization = get_object_or_404(Organization, slug=slug)
    membership = selectors.membership_get(user=request.user, organization=organization)
    if membership is None and not staff_verified(request.user):
        raise Http404
    return organization, membership


def _invite_form(organization: Organization, data: Any = None) -> InviteForm:
    action = reverse("accounts:organization_members", kwargs={"slug": organization.slug})
    return InviteForm(data, action=action)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def organization_members(request: HttpRequest, slug: str) -> HttpResponse:
    organization, membership = _organization_for_member(request, slug)
    # Only a verified organization's admins invite: an organization that registered itself
    # but that staff have not verified could otherwise use Cosign to mail anyone.
    may_invite = staff_verified(request.user, perm="accounts.add_membership") or (
        membership is not None
        and membership.role == Membership.Role.ADMIN
        and organization.is_verified
    )
    form = None
    if may_invite:
        form = _invite_form(organization, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                invited = services.membership_invite(
                    organization=organization,
                    invited_by=selectors.user_logged_in(request=request),
                    language=request.LANGUAGE_CODE,
                    **form.cleaned_data,
                )
            except services.AlreadyMember as already:
                form.add_error(
                    "email",
                    ValidationError(
                        _("%(email)s is already a member of %(organization)s."),
                        code="already_member",
                        params={
                            "email": already.membership.user.email,
                            "organization": organization.name,
                        },
                    ),
                )
            else:
                messages.success(
                    request,
                    _("We have emailed %(email)s: they are now a member of %(organization)s.")
                    % {"email": invited.user.email, "organization": organization.name},
                )
                return redirect("accounts:organization_members", slug=organization.slug)
    status = 400 if form is not None and form.is_bound else 200
    return _members_page(request, organization, membership, form=form, status=status)


def _may_manage_members(
    request: HttpRequest, organization: Organization, membership: Membership | None
) -> bool:
    return staff_verified(request.user, perm="accounts.change_membership") or (
        membership is not None and membership.may(Capability.MANAGE_MEMBERS)
    )


def _members_page(
    request: HttpRequest,
    organization: Organization,
    membership: Membership | None,
    *,
    form: InviteForm | None = None,
    refused_role: tuple[int, RoleForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The members page; `refused_role` is a member's role form that was refused, shown as it
    was sent, with its error, in that member's row."""
    members = selectors.memberships_of_organization(organization=organization)
    rows = []
    may_manage = _may_manage_members(request, organization, membership)
    for member in members:
        role_form = None
        if may_manage:
            if refused_role is not None and refused_role[0] == member.pk:
                role_form = refused_role[1]
            else:
                role_form = RoleForm(initial={"role": member.role}, prefix=f"m{member.pk}")
        rows.append((member, role_form))
    context = {
        "organization": organization,
        "membership": membership,
        "rows": rows,
        "roles": [
            (label, [c.label for c in Capability if c in ROLE_CAPABILITIES[Membership.Role(role)]])
            for role, label in Membership.Role.choices
        ],
        "form": form,
    }
    return render(request, "accounts/organization_members.html", context, status=status)


@require_POST
@login_required
def organization_member_role(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    organization, membership = _organization_for_member(request, slug)
    if not _may_manage_members(request, organization, membership):
        raise PermissionDenied
    form = RoleForm(request.POST, prefix=f"m{membership_id}")
    if form.is_valid():
        try:
            changed = services.membership_role_set(
                organization=organization,
                membership_id=membership_id,
                role=form.cleaned_data["role"],
                changed_by=selectors.user_logged_in(request=request),
                by_staff=staff_verified(request.user, perm="accounts.change_membership"),
            )
        except Membership.DoesNotExist:
            raise Http404 from None
        except services.NotAdministrator:
            raise PermissionDenied from None
        except services.LastAdministrator:
            form.add_error(
                "role",
                _(
                    "%(organization)s needs at least one administrator: make someone else "
                    "administrator first."
                )
                % {"organization": organization.name},
            )
        else:
            messages.success(
                request,
                _("%(person)s is now: %(role)s.")
                % {"person": changed.user.get_full_name(), "role": changed.get_role_display()},
            )
            return redirect("accounts:organization_members", slug=organization.slug)
    elif not Membership.objects.filter(pk=membership_id, organization=organization).exists():
        raise Http404
    return _members_page(
        request, organization, membership, refused_role=(membership_id, form), status=400
    )


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Counted before the password is checked, so guessing costs the guesser, not the server.
        if rate_limits.login_rate_limited(request):
            # Unbound, so the password is not checked at all; the typed address is kept. The
            # view's own form class (LoginForm), which carries the button, not Django's default.
            form_class = self.get_form_class()
            form = form_class(request, initial={"username": request.POST.get("username", "")})
            context = self.get_context_data(
                form=form, rate_limit_message=rate_limits.rate_limit_message("login")
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """Django's reset link, used to choose a first password as well as a new one."""

    template_name = "accounts/password_set.html"
    form_class = PasswordSetForm
    success_url = reverse_lazy("accounts:password_set_done")

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if not context.get("validlink"):
            kwargs["status"] = 400
        elif self.request.method == "POST":
            kwargs["status"] = 400  # rendered after a POST only when the form has errors
        return super().render_to_response(context, **kwargs)


class PasswordSetDoneView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_set_done.html"


class PasswordLinkView(auth_views.PasswordResetView):
    """Ask for a link to choose a password (forgotten, or an earlier link lost or expired). The
    next page is the same whether the address has an account or not."""

    template_name = "accounts/password_reset.html"
    form_class = PasswordLinkForm
    success_url = reverse_lazy("accounts:password_reset_sent")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if rate_limits.rate_limited(request, action="new_link"):
            return self._refused(self.get_form())
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: PasswordLinkForm) -> HttpResponse:
        # The site-wide budget counts only what passed validation: empty posts cannot spend it.
        if rate_limits.submission_rate_limited(self.request, action="new_link"):
            return self._refused(form)
        return super().form_valid(form)

    def _refused(self, form: PasswordLinkForm) -> HttpResponse:
        context = self.get_context_data(
            form=form, rate_limit_message=rate_limits.rate_limit_message("new_link")
        )
        return self.render_to_response(context, status=429)

    def form_invalid(self, form: PasswordLinkForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordLinkSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"
