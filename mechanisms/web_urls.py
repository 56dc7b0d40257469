"""Web addresses that people and staff type, read the way a browser reads them.

Python's `urlsplit` and a browser disagree about some addresses: in
`https://evil.example\\@eff.org` the first sees the host `eff.org` behind a user name, the
second a backslash that ends the host `evil.example`. So a host we checked was not always the
host a reader's browser went to. Here every address is parsed with ada (`ada-url`), the
WHATWG URL Standard parser that Node.js uses, stored as that parser's serialization (its
`href`), and any host we derive comes from that parse.

We refuse, rather than repair, what a person would not type on purpose and what makes the
address mean two things: characters a browser silently drops (tabs, newlines, invisible
formatting), backslashes, a user name or password before the host, a scheme other than
http(s), and a host whose plain spelling is not the host the browser uses (percent-encoded
letters, `0x7f.1` for an IP address).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Any

import ada_url
from django import forms
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from mechanisms.model_fields import model_field

WEB_SCHEMES = ("http", "https")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# Where the host part ends in a browser's reading (backslash too, but that is refused first).
_AUTHORITY_END = re.compile(r"[/?#]")
_DJANGO_URL = URLValidator(schemes=list(WEB_SCHEMES))
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zs", "Zl", "Zp"})

_MESSAGES = {
    "invalid": _("Enter a valid web address, such as https://www.eff.org."),
    "invisible": _("A web address cannot contain spaces, line breaks or invisible characters."),
    "backslash": _(
        "A web address cannot contain a backslash (\\). Check the address, and use / instead."
    ),
    "scheme": _("Enter a web address that starts with http:// or https://."),
    "incomplete": _("Enter a full web address, such as https://www.eff.org."),
    "userinfo": _(
        "Remove the part before the @ sign: a web address with a name or password before "
        "the site's name sends visitors to a different site than it seems to."
    ),
    "disguised_host": _(
        "Write the site's name plainly, as your browser shows it (such as www.eff.org), "
        "without encoded characters or unusual number forms."
    ),
}


def _refuse(code: str) -> ValidationError:
    return ValidationError(_MESSAGES[code], code=code)


def _typed_host_is_the_parsed_host(typed: str, parsed: ada_url.URL) -> bool:
    """Whether the host as a person reads it in the typed text is the host the browser uses."""
    if typed.startswith("["):
        try:
            return ipaddress.IPv6Address(typed[1:-1]) == ipaddress.IPv6Address(
                parsed.hostname[1:-1]
            )
        except ValueError:
            return False
    if parsed.host_type == ada_url.HostType.IPV4:
        # 127.0.0.1 as typed, not 0x7f.1, 2130706433 or 127.1.
        return typed == parsed.hostname
    if "%" in typed:
        return False
    # Upper case, Unicode (IDN) and full-width letters map to the one ASCII host browsers use.
    return ada_url.idna_to_ascii(typed).decode("ascii", "replace") == parsed.hostname


def web_url_normalize(value: str, *, assume_scheme: str | None = "https") -> str:
    """The WHATWG serialization of a web address typed by a person, or ValidationError.

    `www.eff.org` becomes `https://www.eff.org/` (with `assume_scheme`); upper case, Unicode
    hosts and default ports come out as a browser would send them.
    """
    value = value.strip()
    if any(unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in value):
        raise _refuse("invisible")
    if "\\" in value:
        raise _refuse("backslash")
    scheme_match = _SCHEME.match(value)
    if scheme_match is None:
        if assume_scheme is None:
            raise _refuse("scheme")
        value = f"{assume_scheme}://{value}"
        scheme = assume_scheme
    else:
        scheme = scheme_match.group()[:-1].lower()
        if scheme not in WEB_SCHEMES:
            raise _refuse("scheme")
    rest = value[len(scheme) + 1 :]
    # Browsers also accept `https:eff.org` and `https:///eff.org`; nobody means those.
    if not rest.startswith("//") or rest.startswith("///"):
        raise _refuse("incomplete")
    authority = _AUTHORITY_END.split(rest[2:], maxsplit=1)[0]
    if "@" in authority:
        raise _refuse("userinfo")
    if not authority:
        raise _refuse("incomplete")
    try:
        parsed = ada_url.URL(value)
    except ValueError:
        raise _refuse("invalid") from None
    if parsed.username or parsed.password:
        raise _refuse("userinfo")
    if authority.startswith("["):
        typed_host = authority[: authority.find("]") + 1]
    else:
        typed_host = authority.split(":", 1)[0]
    if not _typed_host_is_the_parsed_host(typed_host, parsed):
        raise _refuse("disguised_host")
    href = parsed.href
    # What we store must mean the same when read again, by us or by a browser.
    if ada_url.URL(href).href != href:
        raise _refuse("invalid")
    try:
        # Django's own check on top: real domain labels and a top-level domain.
        _DJANGO_URL(href)
    except ValidationError:
        raise _refuse("invalid") from None
    return href


def web_url_or_blank(value: str) -> str:
    """The normalized address, or "" for one that is not safe to link to. For rendering: a
    link is only ever made from this."""
    if not value:
        return ""
    try:
        return web_url_normalize(value, assume_scheme=None)
    except ValidationError:
        return ""


def markup_href(value: str) -> str:
    """The href to render for a link in text staff wrote (Markdown), or "" to drop the link.

    The sanitizer has already refused schemes other than http, https and mailto. Web addresses
    must pass `web_url_normalize`; a reference without a scheme stays on this site unless it
    starts with two slashes (or a backslash, which browsers read as one), so those are dropped.
    """
    if any(unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in value):
        return ""
    if "\\" in value:
        return ""
    scheme = _SCHEME.match(value)
    if scheme is None:
        return "" if value.startswith("//") else value
    if scheme.group()[:-1].lower() in WEB_SCHEMES:
        return web_url_or_blank(value)
    try:
        return ada_url.URL(value).href
    except ValueError:
        return ""


def web_url_domain(value: str) -> str:
    """The domain a browser visits for this address; "" when the address is not safe, or its
    host is an IP address (no email address is at an IP address we could check)."""
    try:
        href = web_url_normalize(value)
    except ValidationError:
        return ""
    parsed = ada_url.URL(href)
    if parsed.host_type != ada_url.HostType.DEFAULT:
        return ""
    return parsed.hostname


def validate_normalized_web_url(value: str) -> None:
    """Accepts only an address already in its normalized form: what a stored one must be."""
    if web_url_or_blank(value) != value:
        raise _refuse("invalid")


class WebURLFormField(forms.URLField):
    """A web address field whose cleaned value is the normalized address."""

    default_validators: list[Any] = []  # web_url_normalize runs Django's URL check too
    # Set by Django's URLField.__init__; its stubs do not declare it.
    assume_scheme: str

    def __init__(self, *, assume_scheme: str = "https", **kwargs: Any) -> None:
        super().__init__(assume_scheme=assume_scheme, **kwargs)

    def to_python(self, value: Any) -> str:
        value = forms.CharField.to_python(self, value)
        if value in self.empty_values:
            return ""
        return web_url_normalize(value, assume_scheme=self.assume_scheme)


class WebURLField(models.URLField):
    """A model's web address: normalized by `full_clean()`, checked in every form (the admin's
    included), and shown as a link there only once it is in normalized form."""

    def clean(self, value: Any, model_instance: models.Model | None) -> Any:
        # Field.clean with the normalizing step added before the validators (so max_length
        # applies to what is stored). Only full_clean() normalizes: saving a row or looking
        # one up never raises or rewrites.
        value = self.to_python(value)
        if value:
            value = web_url_normalize(value)
        self.validate(value, model_instance)
        self.run_validators(value)
        return value

    def formfield(self, **kwargs: Any) -> Any:  # type: ignore[override]
        widget = kwargs.get("widget")
        if widget is AdminURLFieldWidget or isinstance(widget, AdminURLFieldWidget):
            # The admin's "Currently:" link is made only from an address in normalized form.
            kwargs["widget"] = AdminURLFieldWidget(validator_class=_NormalizedWebURL)
        return super().formfield(**{"form_class": WebURLFormField, **kwargs})


class _NormalizedWebURL:
    """AdminURLFieldWidget takes a validator class."""

    def __call__(self, value: str) -> None:
        validate_normalized_web_url(value)


def stored_web_urls_normalize(
    model: type[models.Model], *, field: str, label: str = "pk"
) -> tuple[int, list[tuple[object, str]]]:
    """For data migrations: rewrite every stored address of `model.field` in normalized form,
    and blank the ones that cannot be made safe (or no longer fit the column).

    Returns how many were rewritten, and (`label`, old value) for each one blanked, so the
    migration can say which rows staff should look at.
    """
    max_length = model_field(model=model, name=field).max_length
    rewritten, blanked = 0, []
    rows = model._default_manager.exclude(**{field: ""}).values_list("pk", field, label)
    for pk, value, row_label in rows.iterator():
        try:
            href = web_url_normalize(value)
        except ValidationError:
            href = ""
        if max_length is not None and len(href) > max_length:
            href = ""
        if href == value:
            continue
        model._default_manager.filter(pk=pk).update(**{field: href})
        if href:
            rewritten += 1
        else:
            blanked.append((row_label, value))
    return rewritten, blanked


def stored_web_urls_report(what: str, rewritten: int, blanked: list[tuple[object, str]]) -> str:
    """The summary a data migration prints; "" when it changed nothing."""
    if not rewritten and not blanked:
        return ""
    lines = [
        f"{what}: {rewritten} rewritten in normalized form, {len(blanked)} blanked because "
        "they could not be made safe (check them and type them again):"
    ]
    lines.extend(f"  {row_label}: {value!r}" for row_label, value in blanked)
    return "\n".join(lines)
