"""A person's way through the site, for the bench: sign with the proof of work solved and the
fill time waited out, confirm through the real confirmation page, read the public count."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from urllib.parse import urlencode, urlsplit

from bench import infra
from bench.config import FILL_WAIT_SECONDS, PAGE_PATH, SIGN_PATH, letters


def sign_as_a_person(port: int, n: int) -> str:
    address = f"probe.{n}@probe-{n}.test"
    headers = {"X-Forwarded-For": f"2001:db8:ffff:{n:x}::1"}
    page = infra.fetch(port, "GET", PAGE_PATH, headers=headers)
    shown = time.monotonic()
    challenge = json.loads(infra.fetch(port, "GET", "/abuse/challenge").body)
    import altcha

    # Solved honestly at the configured difficulty, as static/js/proof-of-work.js does.
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], "SHA-256", challenge["maxNumber"]
    )
    if solution is None:
        raise RuntimeError("the proof-of-work challenge has no solution")
    fields = {k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")}
    proof = base64.b64encode(json.dumps({**fields, "number": solution.number}).encode())
    time.sleep(max(0.0, shown + FILL_WAIT_SECONDS - time.monotonic()))
    fields = {"altcha": proof.decode(), "name": f"Probe {letters(n)}", "email": address}
    reply = _sign_from(port, page, headers, fields)
    if reply.status != 302:
        raise RuntimeError(f"probe signature refused: {reply.status}")
    return address


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
    body = urlencode(
        {
            "csrfmiddlewaretoken": infra.hidden_input(page.body, "csrfmiddlewaretoken"),
            "form_started": infra.hidden_input(page.body, "form_started"),
            "display": "short",
            "ref_code": "",
            **fields,
        }
    )
    return infra.fetch(
        port,
        "POST",
        SIGN_PATH,
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
