"""The audit log: who did what, and, for the fields that decide where signers' data goes, from
what to what.

Entries are the admin's own LogEntry rows, shown in the read-only log admin
(accounts.admin.LogEntryAdmin). `audit_log` records an action (a moderation decision, an
export). The rest records changes to the fields and relations that send personal data or
counts to someone: a target's delivery email, a campaign's sponsors and targets, an
organization's contact and members, staff accounts' groups and permissions. A campaign editor
could otherwise point an official's address at themselves and leave no trace.

A change is read from the database before and after it is saved, in the transaction that saves
it, and each entry names the field, the old value and the new one (for a many-to-many
relation, what was added and what was removed, by name and id). The admin gets it from
`AuditedAdminMixin` and `AuditedInlineMixin`, with a list of audited fields per admin; a
service calls `audit_read` before its write and `audit_save_record` after it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from weakref import WeakKeyDictionary

from django import forms
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, router, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.text import capfirst
from django.utils.translation import gettext

from mechanisms.model_fields import model_field

if TYPE_CHECKING:
    # The mixins are only ever mixed into these admin classes, whose methods they extend.
    from django.contrib.admin import ModelAdmin
    from django.contrib.admin.options import InlineModelAdmin
    from django_stubs_ext import StrOrPromise

    _AdminBase = ModelAdmin[Any]
    _InlineBase = InlineModelAdmin[Any, Any]
else:
    _AdminBase = _InlineBase = object

# A field's stored value as the log shows it; for a many-to-many relation, id -> name.
AuditValue = str | dict[Any, str]
Snapshot = dict[str, AuditValue]


def audit_log(*, user: Any, objects: Collection[models.Model], message: str) -> None:
    """One entry per object, with the same message, written in one INSERT."""
    if objects:
        LogEntry.objects.log_actions(
            user_id=user.pk, queryset=list(objects), action_flag=CHANGE, change_message=message
        )


# --- Reading values -----------------------------------------------------------------------------


def _name(obj: models.Model) -> str:
    # The id as well: two targets may share a title, and a name may change later.
    return gettext("%(name)s (id %(id)s)") % {"name": obj, "id": obj.pk}


def _shown(instance: models.Model, field: models.Field) -> str:
    if field.many_to_one or field.one_to_one:
        related = getattr(instance, field.name)
        return "" if related is None else _name(related)
    value = field.value_from_object(instance)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if value is None:
        return ""
    value = str(value)  # a country is an object whose str() is its code
    if value and field.flatchoices:
        return f"{dict(field.flatchoices).get(value, value)}"
    return value


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [model_field(model=model, name=name) for name in names]


def _values(instance: models.Model, fields: Sequence[models.Field]) -> Snapshot:
    values: Snapshot = {}
    for field in fields:
        if field.many_to_many:
            # select_related(): a permission's name includes its content type's.
            related = getattr(instance, field.name).all().select_related().order_by("pk")
            values[field.name] = {obj.pk: _name(obj) for obj in related}
        else:
            values[field.name] = _shown(instance, field)
    return values


def audit_read_many(
    *, model: type[models.Model], pks: Collection[Any], fields: Sequence[str]
) -> dict[Any, Snapshot]:
    """The stored values of `fields` for each of these rows, which stay locked until the
    transaction ends, so what a change replaced is exactly what was stored."""
    if not pks:
        return {}
    chosen = _fields(model, fields)
    foreign = [field.name for field in chosen if field.many_to_one or field.one_to_one]
    rows = (
        model._default_manager.filter(pk__in=pks)
        .select_related(*foreign)
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    return {row.pk: _values(row, chosen) for row in rows}


def audit_read(*, model: type[models.Model], pk: Any, fields: Sequence[str]) -> Snapshot | None:
    """The stored values of one row's `fields` (locked, as above); None if it does not exist."""
    return audit_read_many(model=model, pks=[pk], fields=fields).get(pk)


# --- Describing changes -------------------------------------------------------------------------


def _label(model: type[models.Model], name: str) -> str:
    return str(capfirst(model_field(model=model, name=name).verbose_name))


def _quoted(value: str) -> str:
    return f"“{value}”" if value else gettext("(empty)")


def _listed(items: dict[Any, str]) -> str:
    return ", ".join(f"“{name}”" for name in items.values())


def audit_changes(*, model: type[models.Model], before: Snapshot, after: Snapshot) -> list[str]:
    """One sentence per field whose value changed, naming the old and the new value."""
    lines = []
    for name, new in after.items():
        old = before.get(name, {} if isinstance(new, dict) else "")
        if old == new:
            continue
        label = _label(model, name)
        if isinstance(new, dict) and isinstance(old, dict):
            added = {pk: text for pk, text in new.items() if pk not in old}
            removed = {pk: text for pk, text in old.items() if pk not in new}
            if added and removed:
                line = gettext("%(field)s: added %(added)s; removed %(removed)s.")
            elif added:
                line = gettext("%(field)s: added %(added)s.")
            else:
                line = gettext("%(field)s: removed %(removed)s.")
            lines.append(
                line % {"field": label, "added": _listed(added), "removed": _listed(removed)}
            )
        else:
            lines.append(
                gettext("%(field)s changed from %(old)s to %(new)s.")
                % {"field": label, "old": _quoted(str(old)), "new": _quoted(str(new))}
            )
    return lines


def _described(model: type[models.Model], values: Snapshot) -> str:
    """'Field “value”, Other “a”, “b”' for every field with a value."""
    parts = []
    for name, value in values.items():
        shown = _listed(value) if isinstance(value, dict) else _quoted(value) if value else ""
        if shown:
            parts.append(f"{_label(model, name)} {shown}")
    return ", ".join(parts) or gettext("no values")


def audit_created(*, model: type[models.Model], after: Snapshot) -> list[str]:
    """The one sentence that records a new object's audited values."""
    return [gettext("Created with %(values)s.") % {"values": _described(model, after)}]


def audit_record(
    *, user: Any, obj: models.Model, lines: Sequence[str], action_flag: int = CHANGE
) -> LogEntry | None:
    """One entry on `obj` made of `lines`, by `user`; nothing when there is nothing to say."""
    if not lines:
        return None
    return LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[obj],
        action_flag=action_flag,
        change_message=" ".join(lines),
        single_object=True,
    )


def audit_changes_record_many(
    *,
    user: Any,
    model: type[models.Model],
    before: dict[Any, Snapshot],
    fields: Sequence[str],
    note: StrOrPromise = "",
) -> int:
    """After a bulk update of the rows in `before` (from `audit_read_many`, in the same
    transaction): one entry for each row whose `fields` changed, written in batches. Returns
    how many were written."""
    after = audit_read_many(model=model, pks=list(before), fields=fields)
    objects = model._default_manager.in_bulk(list(after))
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    entries = []
    for pk, values in after.items():
        lines = audit_changes(model=model, before=before[pk], after=values)
        if not lines:
            continue
        entries.append(
            LogEntry(
                user_id=user.pk,
                content_type_id=content_type.pk,
                object_id=str(pk),
                object_repr=str(objects[pk])[:200],
                action_flag=CHANGE,
                change_message=" ".join([str(note), *lines] if note else lines),
            )
        )
    LogEntry.objects.bulk_create(entries, batch_size=500)
    return len(entries)


def audit_save_record(
    *,
    user: Any,
    obj: models.Model,
    fields: Sequence[str],
    before: Snapshot | None,
    note: StrOrPromise = "",
    extra: Sequence[str] = (),
) -> LogEntry | None:
    """After a save: what `fields` of `obj` became, against `before` (from `audit_read`, taken
    in the same transaction before the save; None for an object just created). `extra`
    sentences (changes to related rows) join it; `note` says why, and is written only beside a
    change."""
    after = audit_read(model=type(obj), pk=obj.pk, fields=fields) or {}
    if before is None:
        lines = audit_created(model=type(obj), after=after) if fields else []
    else:
        lines = audit_changes(model=type(obj), before=before, after=after)
    lines = [*lines, *extra]
    if lines and note:
        lines.insert(0, str(note))
    return audit_record(
        user=user, obj=obj, lines=lines, action_flag=ADDITION if before is None else CHANGE
    )


# --- In the admin -------------------------------------------------------------------------------


class AuditedInlineMixin(_InlineBase):
    """An inline whose rows' `audited_fields` are audited on the parent object's entry, by the
    parent's AuditedAdminMixin: rows added, changed (old and new values) and removed."""

    audited_fields: ClassVar[tuple[str, ...]] = ()

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        # A class made for this request, so the attribute reaches no other formset.
        formset.audited_fields = self.audited_fields  # type: ignore[attr-defined]
        return formset


class _Pending:
    def __init__(self, before: Snapshot | None) -> None:
        self.before = before
        self.lines: list[str] = []


# Per form, from save_model to save_related (one form per saved object, so per object).
_PENDING: WeakKeyDictionary[forms.BaseForm, _Pending] = WeakKeyDictionary()


class AuditedAdminMixin(_AdminBase):
    """Audits `audited_fields` (fields and many-to-many relations) of the objects this admin
    saves, and the rows of its AuditedInlineMixin inlines, in one entry per save, written by
    the request's user in the transaction of the save (the admin's change and add views are
    atomic). A save that changes none of them writes no such entry; Django's own entry ("Changed
    title.") is written as ever. Bulk actions run in one transaction too."""

    audited_fields: ClassVar[tuple[str, ...]] = ()

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        before = (
            audit_read(model=type(obj), pk=obj.pk, fields=self.audited_fields) if change else None
        )
        _PENDING[form] = _Pending(before)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        fields: tuple[str, ...] = getattr(formset, "audited_fields", ())
        if not fields:
            super().save_formset(request, form, formset, change)
            return
        model = formset.model
        initial = [f.instance for f in formset.initial_forms if f.instance.pk is not None]
        befores = audit_read_many(model=model, pks=[row.pk for row in initial], fields=fields)
        # Deleting a row clears its pk: remember which row was which.
        ids = {id(row): (row.pk, _name(row)) for row in initial}
        super().save_formset(request, form, formset, change)
        lines = []
        verbose = model._meta.verbose_name
        for row in formset.new_objects:
            after = audit_read(model=model, pk=row.pk, fields=fields) or {}
            lines.append(
                gettext("Added %(model)s “%(object)s” with %(values)s.")
                % {"model": verbose, "object": _name(row), "values": _described(model, after)}
            )
        for row, _changed in formset.changed_objects:
            after = audit_read(model=model, pk=row.pk, fields=fields) or {}
            changes = audit_changes(model=model, before=befores.get(row.pk, {}), after=after)
            if changes:
                lines.append(
                    gettext("Changed %(model)s “%(object)s”: %(changes)s")
                    % {"model": verbose, "object": _name(row), "changes": " ".join(changes)}
                )
        for row in formset.deleted_objects:
            pk, name = ids[id(row)]
            lines.append(
                gettext("Removed %(model)s “%(object)s”, which had %(values)s.")
                % {
                    "model": verbose,
                    "object": name,
                    "values": _described(model, befores.get(pk, {})),
                }
            )
        pending = _PENDING.get(form)
        if pending is not None:
            pending.lines.extend(lines)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        pending = _PENDING.pop(form, None)
        if pending is None:  # save_model was not ours to see: nothing to compare with
            return
        audit_save_record(
            user=request.user,
            obj=form.instance,
            fields=self.audited_fields,
            before=pending.before,
            extra=pending.lines,
        )

    def response_action(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        # An action and the entries it writes stand or fall together.
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().response_action(request, queryset)
