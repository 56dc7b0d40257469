"""A person's way through the site, for the bench: sign with the proof of work solved and the
fill time waited out, confirm through the real confirmation page, read the public count; and,
during the fault run, people signing an open letter and registering organizations."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench import infra
from bench.config import (
    FILL_WAIT_SECONDS,
    JOIN_PATH,
    LETTER_PATH,
    LETTER_SIGN_PATH,
    PAGE_PATH,
    SIDE_DOMAIN,
    SIDE_PACE_SECONDS,
    SIGN_PATH,
    letters,
)


def sign_as_a_person(port: int, n: int) -> str:
    address = f"probe.{n}@probe-{n}.test"
    headers = {"X-Forwarded-For": f"2001:db8:ffff:{n:x}::1"}
    page = infra.fetch(port, "GET", PAGE_PATH, headers=headers)
    shown = time.monotonic()
    challenge = infra.fetch(port, "GET", "/abuse/challenge", headers=headers)
    proof = _proof_solve(challenge.body)
    time.sleep(max(0.0, shown + FILL_WAIT_SECONDS - time.monotonic()))
    fields = {"altcha": proof, "name": f"Probe {letters(n)}", "email": address}
    reply = _sign_from(port, page, headers, fields)
    if reply.status != 302:
        raise RuntimeError(f"probe signature refused: {reply.status}")
    return address


def _proof_solve(challenge_json: str) -> str:
    """The form's proof-of-work field for a challenge from `GET /abuse/challenge`, solved
    honestly at the configured difficulty, as static/js/proof-of-work.js does."""
    import altcha

    challenge = json.loads(challenge_json)
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], "SHA-256", challenge["maxNumber"]
    )
    if solution is None:
        raise RuntimeError("the proof-of-work challenge has no solution")
    fields = {k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")}
    return base64.b64encode(json.dumps({**fields, "number": solution.number}).encode()).decode()


def confirm(port: int, url: str, n: int) -> float:
    """The real confirmation: GET the page with the button, POST it. Returns when it
    answered."""
    path = urlsplit(url).path
    page = infra.fetch(port, "GET", path)
    body = urlencode(
        {
            "csrfmiddlewaretoken": infra.hidden_input(page.body, "csrfmiddlewaretoken"),
            "name": f"Confirmer {letters(n)}",
            "display": "short",
        }
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={page.cookies['csrftoken']}",
    }
    reply = infra.fetch(port, "POST", path, body=body, headers=headers)
    if reply.status != 200:
        raise RuntimeError(f"confirmation refused: {reply.status}")
    return time.time()


def public_count(port: int) -> int:
    page = infra.fetch(port, "GET", PAGE_PATH)
    match = re.search(r'id="signature-count">([\d,]+)<', page.body)
    if match is None:
        raise RuntimeError("no count on the petition page")
    return int(match.group(1).replace(",", ""))


def _sign_from(
    port: int, page: infra.Response, headers: dict[str, str], fields: dict[str, str]
) -> infra.Response:
    """Post the sign form shown on `page` (its CSRF cookie and token, its start time)."""
    fields = {
        "form_started": infra.hidden_input(page.body, "form_started"),
        "display": "short",
        **fields,
    }
    return _post_from(port, page, SIGN_PATH, headers, fields)


def _post_from(
    port: int, page: infra.Response, path: str, headers: dict[str, str], fields: dict[str, str]
) -> infra.Response:
    """Post to `path` the form shown on `page` (its CSRF cookie and token), the honeypot empty."""
    body = urlencode(
        {
            "csrfmiddlewaretoken": infra.hidden_input(page.body, "csrfmiddlewaretoken"),
            "ref_code": "",
            **fields,
        }
    )
    return infra.fetch(
        port,
        "POST",
        path,
        body=body,
        headers={
            **headers,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={page.cookies['csrftoken']}",
        },
    )


def outage_probe(port: int, stop: threading.Event) -> dict[str, int]:
    """While Redis is down: a reader and a signer, one request at a time, until `stop`. Counts
    what a person would have seen go wrong: a page that is not 200, a signature not answered
    with the redirect to check-your-inbox, or no answer at all."""
    counts = {"page": 0, "page_errors": 0, "sign": 0, "sign_errors": 0}
    n = 0
    while not stop.is_set():
        n += 1
        headers = {"X-Forwarded-For": f"2001:db8:eeee:{n:x}::1"}
        counts["page"] += 1
        try:
            page = infra.fetch(port, "GET", PAGE_PATH, headers=headers)
        except OSError:
            counts["page_errors"] += 1
            continue
        if page.status != 200:
            counts["page_errors"] += 1
            continue
        fields = {"name": f"Outage {letters(n)}", "email": f"outage.{n}@outage-{n}.test"}
        counts["sign"] += 1
        try:
            reply = _sign_from(port, page, headers, fields)
        except OSError:
            counts["sign_errors"] += 1
            continue
        if reply.status != 302:
            counts["sign_errors"] += 1
    return counts


# --- The fault run's side streams -------------------------------------------------------------


@dataclass
class Stream:
    """What the people of one side stream were answered. `accepted` are the addresses sent to
    check their inbox; `refused` got a page saying no (a rate limit, a closed form), which is
    allowed; `errors` got a 5xx or no answer at all, at any step of their way, which is not."""

    attempts: int = 0
    accepted: list[str] = field(default_factory=list)
    refused: int = 0
    errors: int = 0
    # "<step> <status>" -> how many, for reading what went wrong ("post 429", "page none").
    answers: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, *, address: str, step: str, status: int | None, accepted: bool) -> None:
        with self.lock:
            self.attempts += 1
            self.answers[f"{step} {status or 'none'}"] += 1
            if accepted:
                self.accepted.append(address)
            elif status is None or status >= 500:
                self.errors += 1
            else:
                self.refused += 1

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "attempts": self.attempts,
                "accepted": list(self.accepted),
                "refused": self.refused,
                "errors": self.errors,
                "answers": dict(self.answers),
            }


def side_streams(port: int, stop: threading.Event) -> dict[str, dict[str, Any]]:
    """Until `stop`, every SIDE_PACE_SECONDS one more person signs the open letter and one more
    registers an organization, each through the real form and in a thread of their own (a
    signer takes a few seconds to fill in the form, as people do, and several overlap). Returns
    each stream's answers once every person set off has finished."""
    streams = {"letter_signers": Stream(), "organizations": Stream()}
    people: list[threading.Thread] = []
    n = 0
    while not stop.is_set():
        n += 1
        for target, stream in (
            (_letter_sign_as_a_person, streams["letter_signers"]),
            (_organization_join_as_a_person, streams["organizations"]),
        ):
            person = threading.Thread(target=target, args=(port, n, stream), daemon=True)
            person.start()
            people.append(person)
        stop.wait(SIDE_PACE_SECONDS)
    for person in people:
        person.join()
    return {name: stream.as_dict() for name, stream in streams.items()}


def _letter_sign_as_a_person(port: int, n: int, stream: Stream) -> None:
    """Read the letter, let the browser solve the proof of work, take the fill time, sign."""
    address = f"letter.{n}@letter-{n}.{SIDE_DOMAIN}"
    # One /64 per person (the unit ip_hash keys on), unlike the load's and the probes'.
    headers = {"X-Forwarded-For": f"2001:db8:dddd:{n:x}::1"}
    step = "page"
    try:
        page = infra.fetch(port, "GET", LETTER_PATH, headers=headers)
        if page.status != 200:
            stream.record(address=address, step=step, status=page.status, accepted=False)
            return
        shown = time.monotonic()
        step = "challenge"
        challenge = infra.fetch(port, "GET", "/abuse/challenge", headers=headers)
        if challenge.status != 200:
            stream.record(address=address, step=step, status=challenge.status, accepted=False)
            return
        proof = _proof_solve(challenge.body)
        time.sleep(max(0.0, shown + FILL_WAIT_SECONDS - time.monotonic()))
        step = "post"
        fields = {
            "form_started": infra.hidden_input(page.body, "form_started"),
            "altcha": proof,
            # Letters, not digits, and a surname of its own: no near-duplicate signal fires.
            "name": f"Letter {letters(n)} {letters(n + 7919)}",
            "email": address,
        }
        reply = _post_from(port, page, LETTER_SIGN_PATH, headers, fields)
    except OSError:
        stream.record(address=address, step=step, status=None, accepted=False)
        return
    stream.record(address=address, step=step, status=reply.status, accepted=_sent_to_inbox(reply))


def _organization_join_as_a_person(port: int, n: int, stream: Stream) -> None:
    """Open the join form and register an organization at a domain of its own."""
    domain = f"org-{n}.{SIDE_DOMAIN}"
    address = f"press@{domain}"
    headers = {"X-Forwarded-For": f"2001:db8:cccc:{n:x}::1"}
    step = "page"
    try:
        page = infra.fetch(port, "GET", JOIN_PATH, headers=headers)
        if page.status != 200:
            stream.record(address=address, step=step, status=page.status, accepted=False)
            return
        step = "post"
        fields = {
            "name": f"Bench Organization {letters(n)}",
            "website": f"https://{domain}/",
            "contact_name": f"Contact {letters(n)}",
            "contact_email": address,
        }
        reply = _post_from(port, page, JOIN_PATH, headers, fields)
    except OSError:
        stream.record(address=address, step=step, status=None, accepted=False)
        return
    stream.record(address=address, step=step, status=reply.status, accepted=_sent_to_inbox(reply))


def _sent_to_inbox(reply: infra.Response) -> bool:
    return reply.status == 302 and "check-your-inbox" in reply.headers.get("location", "")
