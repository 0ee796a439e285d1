"""Exact answers to the simple time-range filter, so Radicale need not parse the candidates.

The index on ``(collection, start_ts, end_ts)`` finds the items whose *span* overlaps a
``calendar-query`` range. Radicale's default then calls an item an exact match only if its span
starts or ends inside the range; every other candidate (a weekly series crossing the range, a
long event covering it) is parsed with vobject and expanded to decide, which is what a one-week
query of a large calendar spends its time on.

Here a VEVENT's occurrences decide instead, visited with Radicale's own
:func:`radicale.item.filter.visit_time_ranges`, so the answer is the one Radicale's full filter
would give:

- an item with one VEVENT and no RRULE/RDATE/RECURRENCE-ID has one occurrence, its span;
- a recurring item's occurrences are computed once per content (ETag) and process, from the
  parsed object Radicale already has at upload, or by parsing it on the first query that needs
  them: all of them, or for an unbounded (or huge) series those starting in the next
  :data:`HORIZON_SECONDS` (at most :data:`MAX_OCCURRENCES`); a range reaching past what is
  known is left to Radicale, as is anything that does not parse.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import threading
import time
from datetime import datetime

import radicale.item
import vobject
from radicale.item import filter as radicale_filter

MAX_OCCURRENCES = 2000
HORIZON_SECONDS = 10 * 366 * 86400  # unbounded series: occurrences starting within ~10 years
CACHE_ITEMS = 20_000
_RECURRENCE = ("\nRRULE", "\nRDATE", "\nRECURRENCE-ID")


@dataclasses.dataclass(frozen=True)
class Occurrences:
    """Every occurrence of an item that starts before ``known_until`` (POSIX seconds)."""

    spans: tuple[tuple[int, int], ...]
    known_until: int = radicale_filter.TIMESTAMP_MAX

    def decide(self, start: int, end: int) -> bool | None:
        """Whether an occurrence overlaps ``[start, end)`` (Radicale's rule); None: unknown."""
        if end > self.known_until:
            return None
        return any(s < end and start < e for s, e in self.spans)


class _Cache:
    """ETag -> occurrences (or None: leave it to Radicale), least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: collections.OrderedDict[str, Occurrences | None] = collections.OrderedDict()

    def get(self, etag: str) -> tuple[bool, Occurrences | None]:
        with self._lock:
            if etag not in self._entries:
                return False, None
            self._entries.move_to_end(etag)
            return True, self._entries[etag]

    def put(self, etag: str, found: Occurrences | None) -> None:
        with self._lock:
            self._entries[etag] = found
            self._entries.move_to_end(etag)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


_cache = _Cache(CACHE_ITEMS)


def _visit(vobject_item: vobject.base.Component) -> Occurrences | None:
    """Occurrences as Radicale's filter visits them: overrides first, then the series in order."""
    horizon = int(time.time()) + HORIZON_SECONDS
    found: list[tuple[int, int]] = []
    known_until = radicale_filter.TIMESTAMP_MAX

    def range_fn(start: datetime, end: datetime, is_recurrence: bool) -> bool:
        nonlocal known_until
        first = math.floor(start.timestamp())
        if not is_recurrence and (first >= horizon or len(found) >= MAX_OCCURRENCES):
            known_until = first  # every occurrence starting earlier has been seen
            return True
        found.append((first, math.ceil(end.timestamp())))
        return False

    def infinity_fn(start: datetime) -> bool:
        return False  # visit it anyway, up to the horizon

    try:
        radicale_filter.visit_time_ranges(vobject_item, "VEVENT", range_fn, infinity_fn)
    except Exception:  # noqa: BLE001 - whatever vobject makes of it, Radicale decides then
        return None
    return Occurrences(tuple(found), known_until)


def _single(text: str) -> bool:
    """Whether the text holds one VEVENT that does not recur.

    Property names are case-insensitive; folded lines are indented, so a property starts right
    after a line break.
    """
    body = text.upper()
    body = body[body.find("BEGIN:VEVENT") :]
    return body.count("BEGIN:VEVENT") == 1 and not any(mark in body for mark in _RECURRENCE)


def remember(item: radicale.item.Item) -> None:
    """Record a just-uploaded recurring VEVENT's occurrences, from the object Radicale parsed."""
    if item.component_name != "VEVENT" or _single(item.serialize()):
        return
    _cache.put(item.etag, _visit(item.vobject_item))  # parsed already for the PUT


def of(item: radicale.item.Item) -> tuple[Occurrences | None, radicale.item.Item]:
    """The occurrences of a VEVENT item, and the item (with its parsed object if parsed here).

    ``None`` means "unknown": let Radicale's filter decide.
    """
    text = item.serialize()
    if _single(text):
        return Occurrences((item.time_range,)), item
    known, cached = _cache.get(item.etag)
    if known:
        return cached, item
    try:
        parsed = vobject.readOne(text)
    except Exception:  # noqa: BLE001 - Radicale reports broken items itself
        _cache.put(item.etag, None)
        return None, item
    found = _visit(parsed)
    _cache.put(item.etag, found)
    return found, radicale.item.Item(
        collection=item.collection,
        href=item.href,
        last_modified=item.last_modified,
        text=text,
        vobject_item=parsed,
        etag=item.etag,
        uid=item.uid,
        name=item.name,
        component_name=item.component_name,
        time_range=item.time_range,
    )
