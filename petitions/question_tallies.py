"""Reads for dashboards: how many confirmed signers gave each answer to a petition's choice and
yes-or-no questions. Counts only: nothing says who answered what.

Each answer is read with the snapshot its signer answered (petitions.questions), and counted
under the words of its choice in the reader's language, so answers given before a question was
reworded count under the words their signers saw.

The organizations reading these see the public list of signers too, so a tally must not let
them match an answer to a person:
- it counts signers confirmed before today, and only the first multiple of SMALL_COUNT of them
  (oldest first): the figures move in steps of five signers, never by the one who signed last;
- an answer fewer than SMALL_COUNT gave (none included) reads "fewer than 5";
- where the answers of a question add up to its total (one choice, yes or no) and only one is
  hidden, the next smallest is hidden too, so no hidden count is a subtraction away.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from mechanisms.charts import Series, bar_series
from petitions.models import Petition, QuestionSet, Signature
from petitions.models.questions import TALLIED_KINDS, QuestionKind
from petitions.open_data import SMALL_COUNT
from petitions.questions import answered_questions, questions_of


@dataclass(frozen=True)
class QuestionTally:
    key: str
    question: str
    # One bar per answer, in the order the question offers them.
    series: Series
    answered: int
    # (answer, signers) in the series' order; None for "fewer than SMALL_COUNT".
    rows: list[tuple[str, int | None]]


@dataclass(frozen=True)
class Cutoff:
    """The last signature a tally counts, oldest first: (confirmed at, id)."""

    confirmed_at: Any
    pk: int


def _cutoff(model: type[Any], owner: str, campaign: Any, only: Q) -> Cutoff | None:
    """The tally's last signature: of the confirmed, unheld signers who answered and confirmed
    before today, the one that makes their number a multiple of SMALL_COUNT. None below it."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    answered = model.objects.filter(
        **{owner: campaign},
        status=Signature.Status.CONFIRMED,
        held=False,
        question_set__isnull=False,
        confirmed_at__lt=today,
    ).filter(only)
    total = answered.count()
    counted = total - total % SMALL_COUNT
    if not counted:
        return None
    row = answered.order_by("confirmed_at", "pk").values_list("confirmed_at", "pk")[counted - 1]
    return Cutoff(confirmed_at=row[0], pk=row[1])


def _until(cutoff: Cutoff) -> Q:
    return Q(confirmed_at__lt=cutoff.confirmed_at) | Q(
        confirmed_at=cutoff.confirmed_at, pk__lte=cutoff.pk
    )


def _rows_shown(counts: list[tuple[str, int]], *, partition: bool) -> list[tuple[str, int | None]]:
    """Counts under SMALL_COUNT hidden; with `partition` (the counts add up to the total shown),
    a lone hidden count takes the next smallest with it."""
    hidden = {index for index, (_label, count) in enumerate(counts) if count < SMALL_COUNT}
    if partition and len(hidden) == 1 and len(counts) > 1:
        hidden.add(
            min(
                (index for index in range(len(counts)) if index not in hidden),
                key=lambda index: counts[index][1],
            )
        )
    return [
        (label, None if index in hidden else count) for index, (label, count) in enumerate(counts)
    ]


def _counted_rows(
    model: type[Any], owner: str, petition: Any, cutoff: Cutoff, only: Q
) -> Iterator[tuple[int, str, str, int]]:
    """(snapshot id, question key, answer, signers), over confirmed, unheld signatures; each
    choice of a several-choice answer counted on its own, yes and no as "true" and "false"."""
    connection = connections[router.db_for_read(model)]
    confirmed = model.objects.filter(
        **{owner: petition},
        status=Signature.Status.CONFIRMED,
        held=False,
        question_set__isnull=False,
    ).filter(_until(cutoff), only)
    if connection.vendor == "postgresql":
        # Which signatures count, as Django writes it (the opt-ins' join among it).
        chosen, chosen_params = confirmed.values("pk").query.sql_with_params()
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(f"{owner}_id")
        # Only the model's own table and column names are interpolated; values are parameters.
        statement = (
            "SELECT s.question_set_id, a.key, e.value, COUNT(*) "  # noqa: S608
            f"FROM {table} s, jsonb_each(s.answers) a(key, answer), "
            "LATERAL jsonb_array_elements_text(CASE jsonb_typeof(a.answer) WHEN 'array' "
            "THEN a.answer ELSE jsonb_build_array(a.answer) END) e(value) "
            f"WHERE s.{column} = %s AND s.status = %s AND NOT s.held "
            f"AND s.id IN ({chosen}) GROUP BY 1, 2, 3"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, [petition.pk, Signature.Status.CONFIRMED, *chosen_params])
            for set_id, key, value, count in cursor.fetchall():
                yield int(set_id), str(key), str(value), int(count)
        return
    # Elsewhere (SQLite, in development): the same, counted here.
    counted: Counter[tuple[int, str, str]] = Counter()
    for set_id, answers in confirmed.values_list("question_set_id", "answers").iterator():
        for key, answer in (answers or {}).items():
            for value in answer if isinstance(answer, list) else [answer]:
                text = ("true" if value else "false") if isinstance(value, bool) else str(value)
                counted[(set_id, key, text)] += 1
    for (set_id, key, value), count in counted.items():
        yield set_id, key, value, count


def question_tallies(*, petition: Petition, organization: Any) -> list[QuestionTally]:
    """For each choice or yes-or-no question anyone answered or the form asks now: the
    confirmed signers who gave each answer, among those who opted in to `organization`, the
    sponsor reading its dashboard. Those signers chose to be its supporters, and their answers
    already reach it one by one (the OSDI API); counting others would let a sponsor that also
    signs a few times itself single out a stranger's answer (outside review)."""
    return campaign_question_tallies(
        model=Signature,
        owner="petition",
        campaign=petition,
        only=Q(sponsor_opt_ins__organization=organization),
    )


def campaign_question_tallies(
    *, model: type[Any], owner: str, campaign: Any, only: Q | None = None
) -> list[QuestionTally]:
    """The same for any campaign's signatures (`model`, with the foreign key `owner` to the
    campaign, a `status`, `held`, `question_set` and `answers`), of those `only` chooses: a
    letter's individual signers too (letters.dashboard)."""
    petition = campaign
    only = only or Q()
    cutoff = _cutoff(model, owner, petition, only)
    rows = list(_counted_rows(model, owner, petition, cutoff, only)) if cutoff else []
    set_ids = {set_id for set_id, _key, _value, _count in rows}
    if petition.question_set_id is not None:
        set_ids.add(petition.question_set_id)
    if not set_ids:
        return []
    sets = {qs.pk: qs for qs in QuestionSet.objects.filter(pk__in=set_ids)}
    ordered = sorted(sets.values(), key=lambda qs: (qs.pk != petition.question_set_id, -qs.pk))
    questions = [q for q in answered_questions(ordered) if q.kind in TALLIED_KINDS]
    by_set = {pk: {q.key: q for q in questions_of(qs)} for pk, qs in sets.items()}
    counts: dict[str, Counter[str]] = {q.key: Counter() for q in questions}
    answered: Counter[str] = Counter()
    for set_id, key, value, count in rows:
        asked = by_set.get(set_id, {}).get(key)
        if asked is None or key not in counts:
            continue
        if asked.kind == QuestionKind.YES_NO:
            shown = gettext("yes") if value == "true" else gettext("no")
        else:
            shown = asked.choice_in(value)
        counts[key][shown] += count
        if asked.kind != QuestionKind.MULTIPLE:
            answered[key] += count
    tallies = []
    for question in questions:
        if question.kind == QuestionKind.YES_NO:
            offered = [gettext("yes"), gettext("no")]
        else:
            offered = [question.choice_in(key) for key in question.choice_keys()]
        labels = offered + sorted(set(counts[question.key]) - set(offered))
        series = bar_series(counts=counts[question.key], periods=labels, label=str)
        tallies.append(
            QuestionTally(
                key=question.key,
                question=question.label_in(),
                series=series,
                answered=answered[question.key]
                if question.kind != QuestionKind.MULTIPLE
                else _multiple_answered(model, owner, petition, question.key, cutoff, only),
                rows=_rows_shown(series.periods, partition=question.kind != QuestionKind.MULTIPLE),
            )
        )
    return tallies


def _multiple_answered(
    model: type[Any], owner: str, petition: Any, key: str, cutoff: Cutoff | None, only: Q
) -> int:
    """Signers who ticked at least one choice of a several-choice question."""
    if cutoff is None:
        return 0
    return (
        model.objects.filter(_until(cutoff), only)
        .filter(
            **{owner: petition},
            status=Signature.Status.CONFIRMED,
            held=False,
            answers__has_key=key,
        )
        .count()
    )
