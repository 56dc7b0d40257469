from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mechanisms.addresses import email_address_normalize
from mechanisms.web_urls import WebURLField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def login_email(cls, email: str) -> str:
        """Emails are stored lower-cased with the domain in its one IDNA form
        (mechanisms.addresses), so one person has one account however they type it,
        `bücher.example` or its xn--
        spelling."""
        return email_address_normalize(email)

    def _create(self, email: str, password: str | None, **fields: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.login_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        # Emails are stored lower-cased (and unique ignoring case): match the login the same way.
        return self.get(email__iexact=self.login_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account: staff, and members of organizations. Supporters have none."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints: ClassVar = [
            # unique=True alone would let Alice@x.org and alice@x.org be two accounts.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Organization(models.Model):
    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", _("Not verified")
        PENDING = "pending", _("Awaiting verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    website = WebURLField(_("website"), blank=True)
    email_domain = models.CharField(
        _("email domain"),
        max_length=253,
        blank=True,
        help_text=_("The domain of the organization's own email addresses, e.g. eff.org."),
    )
    description = models.TextField(_("description"), blank=True)
    verification = models.CharField(
        _("verification"),
        max_length=20,
        choices=Verification.choices,
        default=Verification.UNVERIFIED,
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    # Staff trust its editors: their updates to signers are published without review.
    trusted = models.BooleanField(
        _("trusted"),
        default=False,
        help_text=_("Its editors' updates to signers go out without staff review."),
    )
    # Who registered the organization: the address proves, once confirmed, that they can read
    # mail at the organization's own domain. Staff verify the rest.
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_confirmed_at = models.DateTimeField(_("contact confirmed at"), null=True, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language of the emails we send to the contact."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    members: models.ManyToManyField[User, Membership] = models.ManyToManyField(
        User, through="Membership", related_name="organizations"
    )

    class Meta:
        ordering = ("name",)
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~models.Q(verification="verified") | models.Q(verified_at__isnull=False),
                name="accounts_org_verified_has_date",
            ),
            # One organization per email domain on the platform: a second registration for the
            # same domain is asked to join the first. Registrations not yet confirmed and rejected
            # ones do not count, so a typo or a refusal never locks a domain out.
            models.UniqueConstraint(
                Lower("email_domain"),
                condition=models.Q(verification__in=("pending", "verified"))
                & ~models.Q(email_domain=""),
                name="accounts_org_active_email_domain_unique",
                violation_error_message=_(
                    "Another organization with this email domain is already verified or "
                    "awaiting verification."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verification == self.Verification.VERIFIED


class Capability(models.TextChoices):
    """What a member may do for their organization on Cosign; a role is a set of these."""

    MANAGE_MEMBERS = "manage_members", _("Invite members and give them roles")
    EDIT_CAMPAIGNS = "edit_campaigns", _("Act for the organization: campaigns, co-signatures")
    VIEW_DASHBOARDS = "view_dashboards", _("See the campaigns' dashboards")
    EXPORT_SUPPORTERS = "export_supporters", _("Export the supporters who opted in")
    MANAGE_API = "manage_api", _("Create and revoke API tokens")


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        EDITOR = "editor", _("Editor")
        VIEWER = "viewer", _("Viewer")
        DATA_STEWARD = "steward", _("Data steward")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    # A new member sees dashboards only; an administrator decides who does more.
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("user", "organization"), name="accounts_membership_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["admin", "editor", "viewer", "steward"]),
                name="accounts_membership_role_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    def may(self, capability: Capability) -> bool:
        return capability in ROLE_CAPABILITIES[Membership.Role(self.role)]

    # For templates, which cannot pass an argument.
    @property
    def may_export_supporters(self) -> bool:
        return self.may(Capability.EXPORT_SUPPORTERS)

    @property
    def may_edit_campaigns(self) -> bool:
        return self.may(Capability.EDIT_CAMPAIGNS)

    @property
    def may_manage_api(self) -> bool:
        return self.may(Capability.MANAGE_API)

    @property
    def may_manage_members(self) -> bool:
        return self.may(Capability.MANAGE_MEMBERS)


# The roles, as an organization's administrator gives them on the members page. Supporters'
# personal data leaves with data stewards (and administrators, who can make themselves one):
# editors run campaigns without seeing who signed them.
ROLE_CAPABILITIES: dict[Membership.Role, frozenset[Capability]] = {
    Membership.Role.ADMIN: frozenset(Capability),
    Membership.Role.EDITOR: frozenset({Capability.EDIT_CAMPAIGNS, Capability.VIEW_DASHBOARDS}),
    Membership.Role.VIEWER: frozenset({Capability.VIEW_DASHBOARDS}),
    Membership.Role.DATA_STEWARD: frozenset(
        {Capability.VIEW_DASHBOARDS, Capability.EXPORT_SUPPORTERS}
    ),
}


class ApiToken(models.Model):
    """A key an organization's administrator made for its own tools (a CRM, a script) to read its
    data through the API (config.api). The key itself is shown once, when it is made: only its
    SHA-256 digest is stored, so a copy of the database lets nobody in."""

    class Scope(models.TextChoices):
        READ_CAMPAIGNS = "read_campaigns", _("Read its campaigns")
        READ_SUPPORTERS = "read_supporters", _("Read its supporters who opted in")
        MANAGE_WEBHOOKS = "manage_webhooks", _("Manage its webhooks")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("scope"), max_length=30, choices=Scope.choices)
    # The key's public part, to find it by (cosign_<prefix>_<secret>); the digest checks it.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(
                    scope__in=["read_campaigns", "read_supporters", "manage_webhooks"]
                ),
                name="accounts_apitoken_scope_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.name}"


class WebhookEndpoint(models.Model):
    """An address of an organization's own system that Cosign posts events to, signed with the
    endpoint's secret (mechanisms.webhooks), through the webhook outbox (accounts.webhooks)."""

    class Event(models.TextChoices):
        SIGNATURE_CONFIRMED = "signature.confirmed", _("A supporter who opted in confirmed")
        SIGNATURE_WITHDRAWN = "signature.withdrawn", _("A supporter who opted in withdrew")
        COSIGNATURE_APPROVED = "cosignature.approved", _("An organization's co-signature approved")
        MILESTONE_REACHED = "milestone.reached", _("A petition reached a goal")
        DELIVERY_SENT = "delivery.sent", _("Signatures delivered to a target")
        RESPONSE_PUBLISHED = "response.published", _("A target's response published")
        CAMPAIGN_PUBLISHED = "campaign.published", _("A campaign published")
        CAMPAIGN_CLOSED = "campaign.closed", _("A campaign closed")

    class Kind(models.TextChoices):
        STANDARD = "standard", _("Webhook: every chosen event, signed")
        # Action Network's "record signature helper" and other OSDI servers: each supporter who
        # opted in and confirmed, as an OSDI signature, with the organization's key there.
        OSDI_PUSH = "osdi_push", _("OSDI push: each supporter who opted in, to your OSDI server")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.STANDARD)
    url = models.CharField(_("address"), max_length=500)
    # The OSDI server's key for this organization (sent as OSDI-API-Token): needed to send.
    osdi_api_key = models.CharField(_("OSDI API key"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    # "whsec_" and base64: the Standard Webhooks form. The previous one keeps signing (beside
    # the new) until previous_secret_until, so a receiver can rotate without losing events.
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=300, blank=True)
    # Attempts failed in a row, whatever event: reset by any success.
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.organization}: {self.url}"

    @property
    def previous_secret_signs(self) -> bool:
        """Whether the secret before the last rotation still signs beside the new one."""
        return bool(
            self.previous_secret
            and self.previous_secret_until
            and self.previous_secret_until > timezone.now()
        )


class WebhookDelivery(models.Model):
    """One event owed to one endpoint: the webhook outbox. Written in the transaction of what
    caused it; sent by the dispatcher, with retries and backoff (accounts.webhooks)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Delivered")
        FAILED = "failed", _("Failed for good")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(_("event"), max_length=40)
    # The `webhook-id` header: the same on every attempt, so a receiver can drop a repeat.
    message_id = models.CharField(max_length=40, unique=True, editable=False)
    payload = models.JSONField()
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # While a sender holds it: another may claim it only after this (the sender died).
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes: ClassVar = [
            models.Index(
                fields=("next_attempt_at",),
                condition=models.Q(state__in=("pending", "sending")),
                name="accounts_webhook_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint_id} ({self.state})"
