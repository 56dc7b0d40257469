"""The conclusions of `make scale` (bench/scale_report.py): a lost signature, an email sent
twice or a count unlike its recount fails the run; failures are counted per failover."""

from __future__ import annotations

from typing import Any

from bench.scale_report import (
    Event,
    Mail,
    Request,
    emails_twice,
    failover_windows,
    signatures_lost,
    table,
    verdict,
)


def _results(**overrides: Any) -> dict[str, Any]:
    results: dict[str, Any] = {
        "network": "two network namespaces",
        "windows": [],
        "lost": signatures_lost(accepted=["a@x.test"], stored=["a@x.test"], mailed=["a@x.test"]),
        "twice": emails_twice([Mail("a@x.test", "<1@cosign>", "Confirm your signature")]),
        "count": {"public": 3, "stored": 3, "recount": 3, "ok": True},
        "beat_takeover_s": 2.1,
        "throughput": [
            {
                "hosts": 2,
                "reads_per_s": 700,
                "read_cpu_ms": 1.5,
                "signs_per_s": 60,
                "sign_cpu_ms": 9,
            }
        ],
    }
    return results | overrides


def test_a_clean_run_passes_and_says_why_two_hosts_are_not_faster() -> None:
    results = _results()
    assert verdict(results) == []
    printed = table(results)
    assert "INTEGRITY: ok" in printed
    assert "flat CPU cost per request" in printed


def test_a_signature_accepted_but_not_stored_fails_the_run() -> None:
    lost = signatures_lost(
        accepted=["a@x.test", "B@x.test"], stored=["a@x.test"], mailed=["a@x.test"]
    )
    assert (lost["not_stored"], lost["not_mailed"], lost["lost"]) == (1, 0, 1)
    assert lost["examples"] == ["b@x.test"]
    problems = verdict(_results(lost=lost))
    assert problems and "1 accepted signatures lost" in problems[0]
    assert "INTEGRITY: FAILED" in table(_results(lost=lost, problems=problems))


def test_a_stored_signature_whose_email_never_came_is_lost() -> None:
    lost = signatures_lost(accepted=["a@x.test"], stored=["a@x.test"], mailed=[])
    assert (lost["not_stored"], lost["not_mailed"]) == (0, 1)
    assert verdict(_results(lost=lost))


def test_the_same_message_arriving_twice_fails_the_run() -> None:
    twice = emails_twice(
        [Mail("a@x.test", "<1@cosign>", "Confirm"), Mail("a@x.test", "<1@cosign>", "Confirm")]
    )
    assert twice["same_message_id"] == 1
    assert any("twice" in problem for problem in verdict(_results(twice=twice)))


def test_one_recipient_sent_the_same_kind_twice_fails_the_run() -> None:
    # Two messages (two ids), one signer, one kind: the outbox sent the confirmation twice.
    twice = emails_twice(
        [Mail("a@x.test", "<1@cosign>", "Confirm"), Mail("A@x.test", "<2@cosign>", "Confirm")]
    )
    assert (twice["same_message_id"], twice["same_recipient_and_kind"]) == (0, 1)
    assert verdict(_results(twice=twice))
    # Two kinds to one person are two emails, not one twice.
    assert (
        emails_twice(
            [Mail("a@x.test", "<1@cosign>", "Confirm"), Mail("a@x.test", "<2@cosign>", "Thanks")]
        )["same_recipient_and_kind"]
        == 0
    )


def test_a_count_unlike_its_recount_fails_the_run() -> None:
    count = {"public": 3, "stored": 3, "recount": 4, "ok": False}
    assert any("recount 4" in problem for problem in verdict(_results(count=count)))


def test_a_standby_beat_that_never_took_over_fails_the_run() -> None:
    assert verdict(_results(beat_takeover_s=None)) == ["the standby beat never took over"]


def test_a_run_where_nothing_was_accepted_proves_nothing() -> None:
    lost = signatures_lost(accepted=[], stored=[], mailed=[])
    assert verdict(_results(lost=lost))


def test_failures_are_counted_in_the_window_of_the_failover_they_follow() -> None:
    events = [Event("kill host", 100.0), Event("kill worker", 110.0)]
    requests = [
        Request("read", 99.0, 99.5, failed=False, status=200),  # before any event
        Request("read", 100.1, 100.3, failed=True, status=502),
        Request("sign", 100.2, 101.0, failed=True),  # no answer
        Request("sign", 101.0, 101.2, failed=False, status=302),
        Request("sign", 102.0, 102.1, failed=False, status=429),
        Request("read", 111.0, 111.1, failed=False, status=200),
    ]
    first, second = failover_windows(events, requests, end=120.0)
    assert (first["requests"], first["failed"], first["refused"]) == (4, 2, 1)
    assert first["failed_by_kind"] == {"read": 1, "sign": 1}
    assert first["first_failure_s"] == 0.3
    # From the first failed request's start to the last one's end.
    assert first["failing_for_s"] == 0.9
    assert (second["requests"], second["failed"], second["failing_for_s"]) == (1, 0, 0.0)
