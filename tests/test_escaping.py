"""Text typed into Cosign is escaped exactly once for wherever it lands (issue 14, item 7).

Every text field of every kind of object holds `Tom & Jerry's "<b>cats</b>"`; then every public
page, the widget and its embed code, the press page and release, the share links, the exports,
the admin's pages and every email are read the way their reader reads them: HTML decoded once
(the browser), a URL's query decoded once more (the service it opens), plain text as is. What
the reader gets must be the typed text itself: never an entity left over (`&amp;amp;` on the
page is `&amp;` to the reader), never markup made from the data (`<b>` as a tag).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Membership, Organization, User
from accounts.my_signatures import my_signatures_refs
from accounts.organization_emails import contact_confirmation_token
from accounts.privacy_emails import MY_SIGNATURES_TOKEN_PURPOSE
from letters.models import LetterDelivery, LetterUpdate, OpenLetter
from letters.selectors import CONFIRM_TOKEN_PURPOSE as LETTER_CONFIRM_PURPOSE
from mechanisms.deliveries import delivery_email_owe
from mechanisms.tokens import token_make
from petitions.models import (
    Delivery,
    Petition,
    PetitionMilestone,
    PetitionUpdate,
    Response,
    Signature,
    Target,
)
from petitions.models.thresholds import ThresholdRequest
from petitions.selectors import CONFIRM_TOKEN_PURPOSE, UNSUBSCRIBE_TOKEN_PURPOSE
from petitions.services import deliveries
from tests.factories import (
    IndividualSignatureFactory,
    MembershipFactory,
    OpenLetterFactory,
    OrganizationFactory,
    OrganizationSignatureFactory,
    PetitionFactory,
    SignatureFactory,
    StatementFactory,
    TargetFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NASTY = 'Tom & Jerry\'s "<b>cats</b>"'
# Markdown fields are sanitized HTML: the tag is dropped (never escaped into text), the rest shown.
NASTY_MARKDOWN = 'Tom & Jerry\'s "cats"'
SITE = "https://cosign.example.org"
# An entity left after the reader decoded the page once: the text was escaped twice.
LEFTOVER_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#[xX][0-9a-fA-F]+);")
# Elements whose text is itself HTML for the reader to copy: decoded once more, then checked.
CODE_ELEMENTS = {"embed-code"}
URL_ATTRIBUTES = {"href", "src", "action", "content"}
# Elements with no end tag, so never left open around the text that follows them.
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}
PASSWORD = "a-long-password-for-escaping"


# --- Reading a page the way its reader does ----------------------------------------------------
@dataclass
class Reading:
    """What a reader gets from an HTML document: each text and attribute value, decoded once."""

    strings: list[tuple[str, str]] = field(default_factory=list)
    # Text inside a <b> element: the admin's templates use <b> themselves, typed text never may.
    bold: list[str] = field(default_factory=list)
    code: dict[str, str] = field(default_factory=dict)
    attributes: list[tuple[str, dict[str, str]]] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.reading = Reading()
        self._open: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.reading.attributes.append((tag, values))
        for name, value in values.items():
            self.reading.strings.append((f"<{tag} {name}>", value))
            if name in URL_ATTRIBUTES:
                # What the service a link opens reads: the query decoded once more.
                self.reading.strings.append((f"<{tag} {name}> decoded", unquote_plus(value)))
        if tag not in VOID_ELEMENTS:
            self._open.append((tag, values.get("id", "")))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        tag, element_id = self._open[-1] if self._open else ("", "")
        if any(open_tag == "b" for open_tag, _id in self._open):
            self.reading.bold.append(data)
        if element_id in CODE_ELEMENTS:
            self.reading.code[element_id] = self.reading.code.get(element_id, "") + data
        else:
            self.reading.strings.append((f"in <{tag}>", data))


def read_html(document: str) -> Reading:
    reader = _Reader()
    reader.feed(document)
    reader.close()
    return reader.reading


def assert_escaped_once(document: str, *, where: str, shows: str | None = NASTY) -> Reading:
    """The reader of `document` sees no leftover entity and no tag made from data; `shows` is
    text they must find in it whole."""
    reading = read_html(document)
    leftovers = [(place, s) for place, s in reading.strings if LEFTOVER_ENTITY.search(s)]
    assert not leftovers, f"{where}: escaped twice: {leftovers[:5]}"
    made = [text for text in reading.bold if "cats" in text]
    assert not made, f"{where}: data became markup: <b>{made[0]}</b>"
    for element_id, code in reading.code.items():
        assert_escaped_once(code, where=f"{where} #{element_id}", shows=None)
    if shows is not None:
        assert any(shows in s for _place, s in reading.strings), f"{where}: {shows!r} not shown"
    return reading


def assert_plain_text_once(text: str, *, where: str, shows: str | None = NASTY) -> None:
    """Plain text (a text email, a subject, a CSV, JSON) is never escaped at all."""
    assert not LEFTOVER_ENTITY.search(text), f"{where}: escaped: {text[:500]!r}"
    if shows is not None:
        assert shows in text, f"{where}: {shows!r} not in {text[:500]!r}"


# --- A site where everything typed is the nasty text ---------------------------------------------
@dataclass
class World:
    petition: Petition
    closed: Petition
    pending: Signature
    signature: Signature
    letter: OpenLetter
    individual: object
    pending_individual: object
    organization: Organization
    member: User
    target: Target
    update: PetitionUpdate
    delivery: Delivery


@pytest.fixture
def world(settings) -> World:
    settings.SITE_URL = SITE
    topic = TopicFactory(slug="nasty-topic", name=NASTY, description=NASTY)
    organization = OrganizationFactory(name=NASTY, description=NASTY, contact_name=NASTY)
    member = UserFactory(email="member@escaping.example", full_name=NASTY, password=PASSWORD)
    MembershipFactory(user=member, organization=organization, role=Membership.Role.ADMIN)
    target = TargetFactory(name=NASTY, title=NASTY, locality=NASTY)
    nasty_petition = {
        "title": NASTY,
        "summary": NASTY,
        "body": NASTY,
        "demand": NASTY,
        "addressed_to": NASTY,
        "outcome": NASTY,
        "topic": topic,
    }
    petition = PetitionFactory(
        **nasty_petition, targets=[target], offer_sponsor_opt_in=True, ask_comment=True
    )
    petition.sponsors.set([organization])
    closed = PetitionFactory(
        **nasty_petition, status=Petition.Status.CLOSED, closed_at=timezone.now()
    )
    closed.sponsors.set([organization])
    nasty_signer = {
        "name": NASTY,
        "comment": NASTY,
        "region": "CA",
        "locality": NASTY,
        "display": "full",
    }
    signature = SignatureFactory(
        petition=petition, confirmed=True, email="signer@escaping.example", **nasty_signer
    )
    pending = SignatureFactory(petition=petition, email="pending@escaping.example", **nasty_signer)
    SignatureFactory(
        petition=petition,
        email="held@escaping.example",
        held=True,
        flags="near_duplicate",
        **nasty_signer,
    )
    update = PetitionUpdate.objects.create(
        petition=petition, title_en=NASTY, body_en=NASTY, published_at=timezone.now()
    )
    response_update = PetitionUpdate.objects.create(
        petition=petition, title_en=NASTY, body_en=NASTY, published_at=timezone.now()
    )
    Response.objects.create(petition=petition, target=target, text=NASTY, update=response_update)
    delivery = Delivery.objects.create(
        petition=petition,
        target=target,
        period="2026-11-25",
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
        total_count=1,
        new_count=1,
    )
    PetitionMilestone.objects.create(petition=petition, goal=100)

    letter = OpenLetterFactory(
        title=NASTY,
        summary=NASTY,
        body=NASTY,
        addressed_to=NASTY,
        ask=NASTY,
        media_contact_name=NASTY,
        media_contact_phone="+1 555 0100",
        media_contact_email="press@escaping.example",
        withheld_label=NASTY,
        individuals_may_sign=True,
        names_may_be_withheld=True,
        status=OpenLetter.Status.PUBLISHED,
        published_at=timezone.now(),
        leads=[organization],
    )
    letter.targets.set([target])
    lead_signature = OrganizationSignatureFactory(
        letter=letter, organization=organization, approved=True, signed_by=member
    )
    StatementFactory(
        signature=lead_signature, approved=True, speaker_name=NASTY, speaker_title=NASTY, text=NASTY
    )
    waiting = OrganizationSignatureFactory(
        letter=letter, organization=OrganizationFactory(name=NASTY), rejection_reason=NASTY
    )
    StatementFactory(signature=waiting, speaker_name=NASTY, speaker_title=NASTY, text=NASTY)
    nasty_individual = {"name": NASTY, "title": NASTY, "affiliation": NASTY}
    individual = IndividualSignatureFactory(letter=letter, confirmed=True, **nasty_individual)
    IndividualSignatureFactory(letter=letter, confirmed=True, withhold_name=True)
    pending_individual = IndividualSignatureFactory(letter=letter, **nasty_individual)
    LetterUpdate.objects.create(letter=letter, text=NASTY)
    LetterDelivery.objects.create(letter=letter, target=target, occasion="published")
    # The audit log names objects by their text too.
    LogEntry.objects.log_actions(
        user_id=member.pk,
        queryset=[petition],
        action_flag=CHANGE,
        change_message=NASTY,
        single_object=True,
    )
    return World(
        petition=petition,
        closed=closed,
        pending=pending,
        signature=signature,
        letter=letter,
        individual=individual,
        pending_individual=pending_individual,
        organization=organization,
        member=member,
        target=target,
        update=update,
        delivery=delivery,
    )


# --- Pages --------------------------------------------------------------------------------------
def _petition_url(world: World, view: str = "detail", **kwargs: object) -> str:
    return reverse(f"petitions:{view}", kwargs={"slug": world.petition.slug, **kwargs})


def _letter_url(world: World, view: str = "detail", **kwargs: object) -> str:
    return reverse(f"letters:{view}", kwargs={"slug": world.letter.slug, **kwargs})


def _my_signatures_token(world: World) -> str:
    refs = my_signatures_refs(canonical_email=world.signature.canonical_email)
    return token_make(purpose=MY_SIGNATURES_TOKEN_PURPOSE, value=refs)


def _organization_confirm(world: World) -> str:
    registering = OrganizationFactory(
        name=NASTY,
        contact_name=NASTY,
        contact_email="contact@registering.example",
        verification=Organization.Verification.UNVERIFIED,
        verified_at=None,
    )
    token = contact_confirmation_token(organization=registering)
    return reverse("accounts:organization_confirm", kwargs={"token": token})


# Each page with who reads it ("anonymous" or the organization's "member") and what it must show.
PAGES = {
    "catalog": ("anonymous", lambda w: reverse("home"), NASTY),
    "catalog-search": ("anonymous", lambda w: reverse("home") + "?q=Tom+%26+Jerry%27s", NASTY),
    "petition": ("anonymous", lambda w: _petition_url(w), NASTY),
    "petition-closed": (
        "anonymous",
        lambda w: reverse("petitions:detail", kwargs={"slug": w.closed.slug}),
        NASTY,
    ),
    "petition-widget": ("anonymous", lambda w: _petition_url(w, "embed"), NASTY),
    "petition-check-inbox": ("anonymous", lambda w: _petition_url(w, "check_inbox"), NASTY),
    "petition-confirm": (
        "anonymous",
        lambda w: _petition_url(
            w, "confirm", token=token_make(purpose=CONFIRM_TOKEN_PURPOSE, value=w.pending.pk)
        ),
        NASTY,
    ),
    "petition-link-problem": (
        "anonymous",
        lambda w: _petition_url(w, "confirm", token="not-a-token"),
        NASTY,
    ),
    "petition-new-link": ("anonymous", lambda w: _petition_url(w, "new_link"), NASTY),
    "petition-unsubscribe": (
        "anonymous",
        lambda w: _petition_url(
            w,
            "unsubscribe",
            token=token_make(purpose=UNSUBSCRIBE_TOKEN_PURPOSE, value=w.signature.pk),
        ),
        NASTY,
    ),
    "letter": ("anonymous", lambda w: _letter_url(w), NASTY),
    "letter-press": ("anonymous", lambda w: _letter_url(w, "press"), NASTY),
    "letter-check-inbox": ("anonymous", lambda w: _letter_url(w, "check_inbox"), NASTY),
    "letter-confirm": (
        "anonymous",
        lambda w: _letter_url(
            w,
            "confirm",
            token=token_make(purpose=LETTER_CONFIRM_PURPOSE, value=w.pending_individual.pk),
        ),
        NASTY,
    ),
    "letter-cosign": ("member", lambda w: _letter_url(w, "cosign"), NASTY),
    "letter-manage": ("member", lambda w: _letter_url(w, "manage"), NASTY),
    "my-organizations": ("member", lambda w: reverse("accounts:my_organizations"), NASTY),
    "organization-members": (
        "member",
        lambda w: reverse("accounts:organization_members", kwargs={"slug": w.organization.slug}),
        NASTY,
    ),
    "organization-confirm": ("anonymous", _organization_confirm, NASTY),
    "my-signatures": (
        "anonymous",
        lambda w: reverse("accounts:my_signatures_list", kwargs={"token": _my_signatures_token(w)}),
        NASTY,
    ),
    "my-signatures-withdraw": (
        "anonymous",
        lambda w: (
            reverse("accounts:my_signatures_withdraw", kwargs={"token": _my_signatures_token(w)})
            + "?all=1"
        ),
        NASTY,
    ),
}


# The Italian pages put the same text into other sentences.
ITALIAN = ("catalog", "petition", "petition-widget", "letter", "letter-press", "my-signatures")


@pytest.mark.parametrize(
    ("name", "language"),
    [(name, "en") for name in PAGES] + [(name, "it") for name in ITALIAN],
)
def test_every_page_shows_typed_text_escaped_exactly_once(world, client, name, language) -> None:
    reader, url_of, shows = PAGES[name]
    if reader == "member":
        client.force_login(world.member)
    url = url_of(world)
    if language != "en":
        url = url.replace("/en/", f"/{language}/", 1)
    response = client.get(url)
    assert response.status_code in (200, 400), (name, response.status_code)
    assert_escaped_once(response.content.decode(), where=f"{name} ({language})", shows=shows)


def test_messages_and_form_errors_carry_typed_text_escaped_once(world, client) -> None:
    client.force_login(world.member)
    members = reverse("accounts:organization_members", kwargs={"slug": world.organization.slug})
    # A message naming the organization, read on the next page.
    invited = client.post(
        members, {"email": "colleague@escaping.example", "full_name": NASTY}, follow=True
    )
    assert invited.redirect_chain, invited.content.decode()[:2000]
    reading = assert_escaped_once(invited.content.decode(), where="invite message")
    assert any("colleague@escaping.example" in s and NASTY in s for _place, s in reading.strings), (
        "the message names the organization"
    )
    # A form error naming it.
    again = client.post(members, {"email": world.member.email})
    assert again.status_code == 400
    reading = assert_escaped_once(again.content.decode(), where="invite error")
    assert any(world.member.email in s and NASTY in s for _place, s in reading.strings)


def test_the_embed_code_is_the_iframe_with_the_title_escaped_once(world, client) -> None:
    page = client.get(_petition_url(world)).content.decode()
    snippet = assert_escaped_once(page, where="petition").code["embed-code"]
    widget = f"{SITE}{_petition_url(world, 'embed')}"
    assert snippet == (
        f'<iframe src="{widget}" title="Tom &amp; Jerry&#x27;s &quot;&lt;b&gt;cats&lt;/b&gt;&quot;"'
        ' width="100%" height="220" loading="lazy"></iframe>'
    )
    ((tag, iframe),) = read_html(snippet).attributes
    assert (tag, iframe["title"], iframe["src"]) == ("iframe", NASTY, widget)


def test_share_links_carry_the_title_itself(world, client) -> None:
    for url in (_petition_url(world), _letter_url(world)):
        reading = assert_escaped_once(client.get(url).content.decode(), where=url)
        links = {
            urlsplit(values["href"]).scheme + ":" + urlsplit(values["href"]).netloc: values["href"]
            for tag, values in reading.attributes
            if tag == "a" and values.get("target") == "_blank" and "?" in values.get("href", "")
        }
        mailto = parse_qs(urlsplit(links["mailto:"]).query)
        assert mailto["subject"] == [NASTY]
        assert mailto["body"][0].startswith(f"{NASTY} {SITE}")
        x = parse_qs(urlsplit(links["https:x.com"]).query)
        assert x["text"] == [NASTY]
        meta = {
            values.get("property") or values.get("name"): values.get("content")
            for tag, values in reading.attributes
            if tag == "meta"
        }
        assert meta["og:title"] == meta["twitter:title"] == NASTY
        assert meta["og:description"] == meta["description"] == NASTY


# --- Text and data that leave as files ----------------------------------------------------------
def test_the_press_release_text_is_plain_text(world, client) -> None:
    response = client.get(_letter_url(world, "press_text"))
    assert response["Content-Type"].startswith("text/plain")
    assert_plain_text_once(response.content.decode(), where="press.txt")
    # The same text, shown on the press page to copy, reads the same once the page is decoded.
    page = read_html(client.get(_letter_url(world, "press")).content.decode())
    (copy,) = [s for place, s in page.strings if place == "in <textarea>"]
    assert copy == response.content.decode()


def test_csv_and_json_exports_are_not_escaped(world, client) -> None:
    organizations = client.get(_letter_url(world, "organizations_csv")).content.decode()
    assert_plain_text_once(organizations, where="organizations.csv", shows=None)
    assert NASTY in [cell for row in csv.reader(io.StringIO(organizations)) for cell in row]

    download = reverse(
        "accounts:my_signatures_download", kwargs={"token": _my_signatures_token(world)}
    )
    (record,) = json.loads(client.get(download).content)["records"]
    for key in ("campaign", "shown_publicly_as", "name", "locality", "comment"):
        assert record[key] == NASTY, key

    client.force_login(User.objects.create_superuser("root@escaping.example", PASSWORD))
    export = reverse("admin:petitions_petition_export_signatures", args=[world.petition.pk])
    signatures = b"".join(client.get(export).streaming_content).decode()
    assert_plain_text_once(signatures, where="signatures.csv", shows=None)
    assert NASTY in [cell for row in csv.reader(io.StringIO(signatures)) for cell in row]


# --- The admin ----------------------------------------------------------------------------------
ADMIN_MODELS = sorted(
    f"{model._meta.app_label}.{model._meta.model_name}" for model in admin.site._registry
)


@pytest.mark.parametrize("label", ADMIN_MODELS)
def test_admin_pages_show_typed_text_escaped_exactly_once(world, client, label) -> None:
    model, model_admin = next(
        (m, a) for m, a in admin.site._registry.items() if m._meta.label_lower == label
    )
    root = User.objects.create_superuser("root@escaping.example", PASSWORD)
    client.force_login(root)
    request = RequestFactory().get("/admin/")
    request.user = root
    info = (model._meta.app_label, model._meta.model_name)
    changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
    assert changelist.status_code == 200, label
    assert_escaped_once(changelist.content.decode(), where=f"{label} list", shows=None)
    for obj in model_admin.get_queryset(request)[:3]:
        change = client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        assert change.status_code == 200, (label, obj.pk)
        assert_escaped_once(change.content.decode(), where=f"{label} {obj.pk}", shows=None)
        history = client.get(reverse("admin:{}_{}_history".format(*info), args=[obj.pk]))
        assert history.status_code == 200, (label, obj.pk)
        assert_escaped_once(history.content.decode(), where=f"{label} history", shows=None)


# Actions that ask first, on a page listing the chosen objects by their text.
ASKING_ACTIONS = {
    "petitions.signature": "reject_with_reason",
    "letters.individualsignature": "reject_with_reason",
    "letters.organizationsignature": "reject",
    "letters.statement": "reject",
    "accounts.organization": "reject_with_reason",
}


@pytest.mark.parametrize("label", ASKING_ACTIONS)
def test_admin_action_pages_list_typed_text_escaped_once(world, client, label) -> None:
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    client.force_login(User.objects.create_superuser("root@escaping.example", PASSWORD))
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    chosen = list(model._default_manager.values_list("pk", flat=True))
    page = client.post(url, {"action": ASKING_ACTIONS[label], ACTION_CHECKBOX_NAME: chosen})
    assert page.status_code == 200, label
    assert_escaped_once(page.content.decode(), where=f"{label} asks", shows=None)
    assert 'name="reason"' in page.content.decode()


# --- Emails -------------------------------------------------------------------------------------
TEMPLATES = Path(django_settings.BASE_DIR) / "templates"
EMAILS = sorted(
    str(path.relative_to(TEMPLATES)).removesuffix("_subject.txt")
    for path in TEMPLATES.glob("*/email/*_subject.txt")
)


def _email_context(world: World, template: str) -> dict[str, object]:
    """Every name an email template may read, each holding typed text where it has any."""
    letter_signature = world.letter.organization_signatures.get(organization=world.organization)
    letters = template.startswith("letters/")
    individual = template == "letters/email/confirm"
    return {
        "petition": world.petition,
        "signature": (
            (world.pending_individual if individual else letter_signature)
            if letters
            else world.signature
        ),
        "letter": world.letter,
        "statement": letter_signature.statement,
        "organization": world.organization,
        "organizations": [letter_signature],
        "target": world.target,
        "update": world.letter.updates.first() if letters else world.update,
        "milestone": world.petition.milestones.first(),
        "next_goal": 500,
        "user": world.member,
        "inviter": world.member,
        "reason": NASTY,
        "email": "signer@escaping.example",
        "total_count": 1,
        "new_count": 1,
        "is_constituency": True,
        "valid_days": 7,
        "valid_hours": 24,
        "threshold_request": ThresholdRequest(count=1000, signatures_at_reach=1001),
        "due_date": timezone.localdate(),
        "link_until": timezone.localdate(),
        "answer_url": f"{SITE}/en/x/?a=1&b=2",
        "admin_url": f"{SITE}/en/x/?a=1&b=2",
        **{
            name: f"{SITE}/en/x/?a=1&b=2"
            for name in (
                "confirm_url",
                "petition_url",
                "letter_url",
                "press_url",
                "manage_url",
                "members_url",
                "login_url",
                "set_password_url",
                "unsubscribe_url",
                "link",
            )
        },
    }


@pytest.mark.parametrize("template", EMAILS)
def test_every_email_carries_typed_text_escaped_exactly_once(world, template) -> None:
    # Rendered as mechanisms.mail renders every email: a subject, a text and an HTML version.
    context = {"site_url": SITE, "language": "en", **_email_context(world, template)}
    with translation.override("en"):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    assert_plain_text_once(subject, where=f"{template} subject", shows=None)
    assert_plain_text_once(text, where=f"{template} text", shows=None)
    reading = assert_escaped_once(html, where=f"{template} html", shows=None)
    # What the HTML version shows, the text version shows as typed (Markdown as its source).
    if any(NASTY_MARKDOWN in s or NASTY in s for _place, s in reading.strings):
        assert NASTY in text, f"{template}: the HTML shows typed text, the text does not"


def test_a_delivery_email_and_its_csv_carry_typed_text_as_typed(world) -> None:
    mail.outbox.clear()
    delivery = Delivery.objects.create(
        petition=world.petition, target=world.target, period="escaping"
    )
    # The email a delivery owes its target, as deliveries_create writes it with the delivery.
    delivery_email_owe(
        kind=deliveries.DELIVERY,
        delivery_id=delivery.pk,
        to=world.target.email,
        language=world.petition.language,
        queue=False,
    )
    assert deliveries.delivery_send(delivery_id=delivery.pk) is True
    (message,) = mail.outbox
    assert_plain_text_once(message.subject, where="delivery subject")
    assert_plain_text_once(message.body, where="delivery text")
    assert_escaped_once(message.alternatives[0][0], where="delivery html")
    ((_name, attachment, _mimetype),) = message.attachments
    cells = [cell for row in csv.reader(io.StringIO(attachment)) for cell in row]
    assert_plain_text_once(attachment, where="delivery csv", shows=None)
    assert NASTY in cells
