"""Polite HTTP for arXiv: one request at a time, a pause between requests, a User-Agent that
names the tool, and retries with exponential backoff that honour ``Retry-After``.

arXiv asks API and OAI-PMH clients for one request every 3 seconds; ``TAXONOMY_FETCH_DELAY``
changes the pause (tests set it to 0) and ``TAXONOMY_FETCH_RETRIES`` the number of tries.
"""

from __future__ import annotations

import email.utils
import http.client
import os
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import TypeVar

from .. import __version__
from ..errors import TaxonomyError

DELAY_VARIABLE = "TAXONOMY_FETCH_DELAY"
RETRIES_VARIABLE = "TAXONOMY_FETCH_RETRIES"
DELAY_SECONDS = 3.0
TRIES = 5
TIMEOUT_SECONDS = 60.0
MAX_WAIT_SECONDS = 600.0  # the longest Retry-After this client waits for
USER_AGENT = f"efficiency-taxonomy/{__version__} (taxonomy fetch; Python urllib)"
# Statuses worth another try: the server is busy or briefly down.
_RETRY = {429, 500, 502, 503, 504}


class FetchError(TaxonomyError):
    """A server cannot be reached or answers with something that is not what was asked."""


def _setting(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise FetchError(f"{name}={text!r} is not a number") from None
    if value < 0:
        raise FetchError(f"{name}={text!r} must not be negative")
    return value


class Client:
    """GETs URLs one at a time, at least ``delay`` seconds apart, retrying failures."""

    def __init__(self, delay: float | None = None, tries: int | None = None,
                 timeout: float = TIMEOUT_SECONDS,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.delay = _setting(DELAY_VARIABLE, DELAY_SECONDS) if delay is None else delay
        self.tries = max(1, int(_setting(RETRIES_VARIABLE, TRIES) if tries is None else tries))
        self.timeout, self._sleep, self._clock = timeout, sleep, clock
        self._last: float | None = None
        self.requests = 0

    def get(self, url: str, advice: str) -> bytes:
        """The body at ``url``; after the last failed try, a :class:`FetchError` saying what
        went wrong and ``advice`` (what to do)."""
        why = ""
        for attempt in range(self.tries):
            self._pause()
            wait = self.delay * 2 ** attempt
            try:
                request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.read()
            except urllib.error.HTTPError as exc:
                why = f"HTTP {exc.code} {exc.reason}"
                if exc.code not in _RETRY:
                    raise FetchError(f"the server answered {why}; {advice}", url) from None
                wait = max(wait, _retry_after(exc.headers.get("Retry-After")) or 0.0)
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, cut short
                reason = getattr(exc, "reason", exc)
                why = f"{getattr(reason, 'strerror', None) or reason or type(exc).__name__}"
            finally:
                self._last = self._clock()
            if attempt + 1 < self.tries:
                self._sleep(min(wait, MAX_WAIT_SECONDS))
                self._last = None  # the backoff (at least the delay) was the pause
        raise FetchError(f"{why} after {self.tries} tries; {advice}", url)

    def _pause(self) -> None:
        if self._last is not None:
            left = self.delay - (self._clock() - self._last)
            if left > 0:
                self._sleep(left)
        self.requests += 1


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds, or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def xml_root(body: bytes, url: str, tag: str, kind: str, check: str) -> ET.Element:
    """The root element of an answer, which must be ``tag`` (``kind`` in words); else a
    :class:`FetchError` naming ``url`` and what to ``check``."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise FetchError(f"the answer is not XML ({exc}); {check}", url) from None
    if root.tag != tag:
        raise FetchError(f"the answer is not {kind}; {check}", url)
    return root


_E = TypeVar("_E")
_T = TypeVar("_T")


def parse_each(numbered: Iterable[tuple[int, _E]], parse: Callable[[_E], _T],
               kind: str) -> tuple[list[_T], list[str]]:
    """Each numbered element of an answer parsed; one that ``parse`` rejects with a ValueError
    is skipped, with the reason as '<kind> <number>: <why>'."""
    parsed, skipped = [], []
    for number, element in numbered:
        try:
            parsed.append(parse(element))
        except ValueError as exc:
            skipped.append(f"{kind} {number}: {exc}")
    return parsed, skipped
