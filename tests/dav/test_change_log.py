"""Items and their change log: what sync tokens and getctag are made of."""

from __future__ import annotations

import datetime as dt

import pytest

from bridge import clock
from bridge.dav import items
from bridge.dav.items import ItemFacts
from bridge.store.models import DAV_USER
from radicale_plugins.storage import sync

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20260601T000000Z
DTSTART:20260601T090000Z
DTEND:20260601T100000Z
SUMMARY:{summary}
END:VEVENT
END:VCALENDAR
"""


def new_calendar(session, provider, name):
    return items.new_collection(session, provider.id, name, DAV_USER, {"tag": "VCALENDAR"})


def facts(uid: str, summary: str = "Lunch") -> ItemFacts:
    return ItemFacts.parse(EVENT.format(uid=uid, summary=summary).replace("\n", "\r\n"))


def test_facts_carry_uid_component_etag_and_time_range():
    parsed = facts("a")
    assert (parsed.uid, parsed.component) == ("a", "VEVENT")
    assert parsed.etag.startswith('"') and len(parsed.etag) > 10
    assert parsed.end_ts - parsed.start_ts == 3600


def test_every_change_bumps_the_revision_and_is_logged_once_per_href(store, provider):
    with store.write() as session:
        calendar = items.new_collection(
            session, provider.id, "work", DAV_USER, {"tag": "VCALENDAR"}
        )
        start = calendar.revision
        items.put_item(session, calendar, "a.ics", facts("a"))
        items.put_item(session, calendar, "b.ics", facts("b"))
        after_two = calendar.revision
        items.put_item(session, calendar, "a.ics", facts("a", "Dinner"))
        items.delete_item(session, calendar, "b.ics")
        assert after_two == start + 2
        assert calendar.revision == start + 4
        assert items.changed_since(session, calendar, start) == ["a.ics", "b.ics"]
        assert items.changed_since(session, calendar, after_two) == ["a.ics", "b.ics"]
        assert items.changed_since(session, calendar, calendar.revision) == []


def test_writing_identical_content_is_not_a_change(store, provider):
    with store.write() as session:
        calendar = items.new_collection(
            session, provider.id, "home", DAV_USER, {"tag": "VCALENDAR"}
        )
        first, changed = items.put_item(session, calendar, "a.ics", facts("a"))
        revision, etag = calendar.revision, first.etag
        again, changed_again = items.put_item(session, calendar, "a.ics", facts("a"))
    assert changed and not changed_again
    assert (calendar.revision, again.etag) == (revision, etag)


def test_deleting_a_missing_href_changes_nothing(store, provider):
    with store.write() as session:
        calendar = new_calendar(session, provider, "x")
        assert items.delete_item(session, calendar, "nothing.ics") is False
        assert calendar.revision == 0


def test_old_changes_are_pruned_and_tokens_before_them_become_invalid(store, provider):
    start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with store.write() as session:
        calendar = new_calendar(session, provider, "pruned")
        with clock.frozen(start):
            for n in range(3):
                items.put_item(session, calendar, f"{n}.ics", facts(str(n)))
        old_token = sync.token(calendar.sync_key, 1)
        recent_token = sync.token(calendar.sync_key, 3)
        with clock.frozen(start + dt.timedelta(days=40)):
            items.put_item(session, calendar, "new.ics", facts("new"))
            pruned = items.prune_changes(session, calendar, start + dt.timedelta(days=10))
        assert pruned == 3
        with pytest.raises(ValueError, match="pruned"):
            sync.changes(session, calendar.id, old_token)
        _, hrefs = sync.changes(session, calendar.id, recent_token)
        assert hrefs == ["new.ics"]


def test_pruning_runs_by_itself_every_hundred_revisions(store, provider):
    start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with store.write() as session:
        calendar = new_calendar(session, provider, "busy-one")
        with clock.frozen(start):
            items.put_item(session, calendar, "old.ics", facts("old"))
        with clock.frozen(start + items.CHANGE_LOG_RETENTION + dt.timedelta(days=1)):
            for n in range(items.PRUNE_EVERY - 1):
                items.put_item(session, calendar, "a.ics", facts("a", f"v{n}"))
        assert calendar.revision == items.PRUNE_EVERY
        assert calendar.pruned_revision == 1
