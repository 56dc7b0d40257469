"""A person's browser without the browser, for tests against real app servers (tests/services.py
`app_server`): it keeps cookies, sends the CSRF token the page gave, and follows no redirect.

One browser may talk to several servers of a test: they all answer on 127.0.0.1, and cookies
are kept per host, not per port, so it carries its cookies from one to the other as a browser
does between the hosts behind one load balancer.
"""

from __future__ import annotations

import html
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import Message


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    headers: Message

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Browser:
    def __init__(self, *, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect
        )

    def get(self, url: str) -> Answer:
        return self._open(urllib.request.Request(url))  # noqa: S310 (the test's own servers)

    def post(self, url: str, data: Mapping[str, str | Sequence[str]]) -> Answer:
        """Post `data` as a form; a list value posts the field once per item (a multiple select)."""
        body = urllib.parse.urlencode(data, doseq=True).encode()
        request = urllib.request.Request(url, data=body)  # noqa: S310 (the test's own servers)
        request.add_header("Referer", url)
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> Answer:
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return Answer(response.status, response.read().decode(), response.headers)
        except urllib.error.HTTPError as error:
            # Every answer but a 2xx, redirects included (none is followed).
            return Answer(error.code, error.read().decode(), error.headers)


def hidden_fields(page: str, *, action: str) -> dict[str, str]:
    """The hidden fields of the page's form posting to `action`: its CSRF token, the time it was
    shown."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', page, re.S)
    assert form, f"no form posting to {action}"
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)
        )
    }
