"""Posting an admin form as a browser would: every field of the page's form with its current
value (inlines, their management forms, many-to-many selections and split date fields
included), so a test changes only what it means to change; and reading the audit log."""

from __future__ import annotations

from html.parser import HTMLParser

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

FormData = dict[str, list[str]]


class _FormReader(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.data: FormData = {}
        self._select: tuple[str, bool] | None = None
        self._options: list[tuple[str, bool]] = []
        self._option: list[str | bool | None] | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form" and attr.get("id") == self.form_id:
            self.inside = self.found = True
        if not self.inside or "disabled" in attr:
            return
        name = attr.get("name", "")
        if tag == "input" and name:
            kind = attr.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attr:
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self.data.setdefault(name, []).append(attr.get("value", default))
        elif tag == "select" and name:
            self._select = (name, "multiple" in attr)
            self._options = []
        elif tag == "option" and self._select is not None:
            # An option without a value attribute posts its text.
            self._option = [dict(attrs).get("value"), "selected" in attr]
            self._text = []
        elif tag == "textarea" and name:
            self._textarea = name
            self._text = []

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "option" and self._option is not None:
            value = self._option[0]
            if value is None:
                value = "".join(self._text).strip()
            self._options.append((str(value), bool(self._option[1])))
            self._option = None
        elif tag == "select" and self._select is not None:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            self.data[name] = chosen
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # A newline right after <textarea> is not part of the value.
            self.data[self._textarea] = ["".join(self._text).removeprefix("\n")]
            self._textarea = None


def form_data(page, model_name: str) -> FormData:
    """The values the admin's add or change form for `model_name` would post untouched."""
    reader = _FormReader(f"{model_name}_form")
    reader.feed(page.content.decode())
    assert reader.found, f"no #{model_name}_form on the page"
    return reader.data


def admin_edit(client, obj, changes: FormData):
    """Post the object's admin change form with `changes` over what the page shows."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return client.post(url, form_data(client.get(url), opts.model_name) | changes)


def audit_entries(obj) -> list[LogEntry]:
    """The audit log's entries about `obj` that record values (mechanisms.audit), oldest first;
    not Django's own "Changed the title." ones, whose message is JSON."""
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).order_by("pk")
    return [entry for entry in entries if not entry.change_message.startswith("[")]


def assert_saved(response) -> None:
    """The admin accepted the form (it redirects), or the test shows the form's errors."""
    assert response.status_code == 302, response.context["adminform"].form.errors
