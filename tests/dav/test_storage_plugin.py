"""The storage plugin against Radicale's contract: pre-filters, atomic writes, snapshots."""

from __future__ import annotations

import contextlib
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
import radicale.item
import radicale.item.filter as radicale_filter
import vobject
from radicale.storage import BaseCollection

from bridge.store import Store
from bridge.web.dav_mount import radicale_configuration
from radicale_plugins.storage import Collection, Storage, registry, scope
from tests.dav.conftest import DavUser, event, new_dav_user

ITEMS = {
    "early.ics": event("early", ":20300601T080000Z", ":20300601T090000Z"),
    "noon.ics": event("noon", ":20300601T120000Z", ":20300601T130000Z"),
    "late.ics": event("late", ":20300602T200000Z", ":20300603T010000Z"),
    "weekly.ics": event(
        "weekly", ":20300520T100000Z", ":20300520T110000Z", extra="RRULE:FREQ=WEEKLY;COUNT=30\n"
    ),
    "forever.ics": event(
        "forever", ":20300521T100000Z", ":20300521T110000Z", extra="RRULE:FREQ=WEEKLY\n"
    ),
    "allday.ics": (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:allday\n"
        "DTSTAMP:20300101T000000Z\nDTSTART;VALUE=DATE:20300601\nEND:VEVENT\nEND:VCALENDAR\n"
    ),
    "task.ics": event("task", ":20300601T100000Z", ":20300601T110000Z", component="VTODO"),
}

C = "urn:ietf:params:xml:ns:caldav"


def time_range_filter(component: str, start: str | None, end: str | None) -> ET.Element:
    attributes = "".join(
        f' {name}="{value}"' for name, value in (("start", start), ("end", end)) if value
    )
    return ET.fromstring(
        f'<C:filter xmlns:C="{C}"><C:comp-filter name="VCALENDAR">'
        f'<C:comp-filter name="{component}"><C:time-range{attributes}/></C:comp-filter>'
        "</C:comp-filter></C:filter>"
    )


FILTERS = {
    "events on June 1": [time_range_filter("VEVENT", "20300601T000000Z", "20300602T000000Z")],
    "events in one hour": [time_range_filter("VEVENT", "20300601T083000Z", "20300601T123000Z")],
    "tasks on June 1": [time_range_filter("VTODO", "20300601T000000Z", "20300602T000000Z")],
    "events from 2031": [time_range_filter("VEVENT", "20310101T000000Z", None)],
    "events until May": [time_range_filter("VEVENT", None, "20300531T000000Z")],
    "any event": [
        ET.fromstring(
            f'<C:filter xmlns:C="{C}"><C:comp-filter name="VCALENDAR">'
            '<C:comp-filter name="VEVENT"/></C:comp-filter></C:filter>'
        )
    ],
    "summary match (not simple)": [
        ET.fromstring(
            f'<C:filter xmlns:C="{C}"><C:comp-filter name="VCALENDAR">'
            '<C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">'
            "<C:text-match>Lunch</C:text-match></C:prop-filter></C:comp-filter>"
            "</C:comp-filter></C:filter>"
        )
    ],
    "no filter": [],
}


@pytest.fixture(scope="module")
def storage(store: Store) -> Iterator[Storage]:
    key = registry.register(store)
    yield Storage(radicale_configuration(key))
    registry.unregister(key)


def path(user: DavUser, *parts: str) -> str:
    """A path as Radicale hands it to the storage (relative to /dav)."""
    return "/" + "/".join([user.slug, *parts])


def fresh(item: radicale.item.Item) -> radicale.item.Item:
    """The item as Radicale's filter would see it: parsed from its text."""
    return radicale.item.Item(collection_path="x/y", text=item.serialize())


def prepared(text: str) -> radicale.item.Item:
    item = radicale.item.Item(
        collection_path="x/y", vobject_item=vobject.readOne(text.replace("\n", "\r\n"))
    )
    item.prepare()
    return item


def calendar(storage: Storage, user: DavUser, name: str) -> Collection:
    """The calendar, discovered under the lock held now, or under a read lock of its own."""
    held = scope.current() is not None
    with contextlib.nullcontext() if held else storage.acquire_lock("r", user.slug):
        found = next(iter(storage.discover(path(user, f"{name}/"))))
    assert isinstance(found, Collection)
    return found


@pytest.fixture
def filled(storage: Storage, store: Store, base_url: str) -> Collection:
    user = new_dav_user(store, base_url)
    items = [prepared(text) for text in ITEMS.values()]
    with storage.acquire_lock("w", user.slug, path=path(user, "cal/")):
        storage.create_collection(path(user, "cal/"), items=None, props={"tag": "VCALENDAR"})
    with storage.acquire_lock("w", user.slug, path=path(user, "cal/")):
        target = calendar(storage, user, "cal")
        for href, item in zip(ITEMS, items, strict=True):
            target.upload(href, item)
    return calendar(storage, user, "cal")


def full_match(item: radicale.item.Item, filters: list[ET.Element]) -> bool:
    """Radicale's own verdict, as its REPORT applies it to an item not pre-matched."""
    return all(radicale_filter.comp_match(item, f[0]) for f in filters if len(f))


@pytest.mark.parametrize("name", list(FILTERS))
def test_get_filtered_finds_what_radicales_default_finds(storage, filled, name):
    filters = FILTERS[name]
    with storage.acquire_lock("r"):
        ours = list(filled.get_filtered(filters))
        default = list(BaseCollection.get_filtered(filled, filters))

    def found(pairs):
        return sorted(item.href for item, exact in pairs if exact or full_match(item, filters))

    assert found(ours) == found(default)


@pytest.mark.parametrize("name", list(FILTERS))
def test_get_filtered_calls_an_item_exact_only_if_it_matches(storage, filled, name):
    filters = FILTERS[name]
    with storage.acquire_lock("r"):
        exact = [item for item, matched in filled.get_filtered(filters) if matched]
    assert all(full_match(fresh(item), filters) for item in exact)


def test_a_weekly_series_crossing_a_range_is_decided_without_radicales_filter(storage, filled):
    """The one-week query of a large calendar: no candidate is left for vobject to parse."""
    monday = [time_range_filter("VEVENT", "20300610T000000Z", "20300611T000000Z")]
    tuesday = [time_range_filter("VEVENT", "20300611T000000Z", "20300612T000000Z")]
    thursday = [time_range_filter("VEVENT", "20300613T000000Z", "20300614T000000Z")]
    with storage.acquire_lock("r"):
        on_monday = {item.href: exact for item, exact in filled.get_filtered(monday)}
        on_tuesday = {item.href: exact for item, exact in filled.get_filtered(tuesday)}
        on_thursday = {item.href: exact for item, exact in filled.get_filtered(thursday)}
    assert on_monday == {"weekly.ics": True}  # weekly's Monday occurrence; forever's is Tuesdays
    assert on_tuesday == {"forever.ics": True}
    assert on_thursday == {}  # both series span it, but no occurrence falls on it


def test_a_range_beyond_the_expanded_horizon_is_left_to_radicale(storage, filled):
    far = [time_range_filter("VEVENT", "20600101T000000Z", "20600201T000000Z")]
    with storage.acquire_lock("r"):
        found = {item.href: exact for item, exact in filled.get_filtered(far)}
    assert found == {"forever.ics": False}


def test_items_need_no_parsing_and_no_database_after_the_lock(storage, filled):
    with storage.acquire_lock("r"):
        items = list(filled.get_all())
    for item in items:
        assert item._vobject_item is None  # nothing parsed
        assert item.etag and item.uid and item.last_modified and item.component_name
        assert item.time_range
    assert {item.href for item in items} == set(ITEMS)
    assert filled.has_uid("noon") and not filled.has_uid("nope")


def test_get_multi_answers_every_href_in_one_go(storage, filled):
    with storage.acquire_lock("r"):
        answers = dict(filled.get_multi(["noon.ics", "missing.ics", "noon.ics", "task.ics"]))
    assert set(answers) == {"noon.ics", "missing.ics", "task.ics"}
    assert answers["missing.ics"] is None
    assert answers["task.ics"] is not None and answers["task.ics"].component_name == "VTODO"


def test_a_write_holds_off_other_writers_until_it_commits(storage, store, base_url):
    """Radicale checks, then writes: a second writer must see the first one's result."""
    user = new_dav_user(store, base_url)
    with storage.acquire_lock("w", user.slug, path=path(user, "cal/")):
        storage.create_collection(path(user, "cal/"), props={"tag": "VCALENDAR"})
    attempting, acquired = threading.Event(), threading.Event()
    seen: list[bool] = []

    def second_writer() -> None:
        attempting.set()
        with storage.acquire_lock("w", user.slug, path=path(user, "cal", "a.ics")):
            acquired.set()
            seen.append(next(iter(storage.discover(path(user, "cal", "a.ics"))), None) is not None)

    with storage.acquire_lock("w", user.slug, path=path(user, "cal", "a.ics")):
        assert next(iter(storage.discover(path(user, "cal", "a.ics"))), None) is None
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert attempting.wait(10)
        # The seam: the first writer pauses between its check and its write. A lock that
        # let the second writer in now would let it check before the write.
        assert not acquired.wait(0.5)
        calendar(storage, user, "cal").upload("a.ics", prepared(ITEMS["noon.ics"]))
    thread.join(30)
    assert seen == [True]


def test_a_refused_write_rolls_back_what_the_request_wrote_before(storage, store, base_url):
    user = new_dav_user(store, base_url)
    with storage.acquire_lock("w", user.slug, path=path(user, "cal/")):
        storage.create_collection(path(user, "cal/"), props={"tag": "VCALENDAR"})
    with storage.acquire_lock("w", user.slug, path=path(user, "bookings/")):
        calendar(storage, user, "cal").upload("a.ics", prepared(ITEMS["noon.ics"]))
        bookings = calendar(storage, user, "bookings")
        with pytest.raises(ValueError, match="VEVENT"):
            bookings.upload("t.ics", prepared(ITEMS["task.ics"]))
    with storage.acquire_lock("r"):
        assert dict(calendar(storage, user, "cal").get_multi(["a.ics"]))["a.ics"] is None


def test_collection_properties_are_a_snapshot_and_sync_reads_the_change_log(
    storage, store, base_url
):
    user = new_dav_user(store, base_url)
    with storage.acquire_lock("w", user.slug, path=path(user, "cal/")):
        storage.create_collection(path(user, "cal/"), props={"tag": "VCALENDAR"})
    before = calendar(storage, user, "cal")
    with storage.acquire_lock("w", user.slug, path=path(user, "cal/")):
        calendar(storage, user, "cal").upload("a.ics", prepared(ITEMS["noon.ics"]))
    after = calendar(storage, user, "cal")
    assert before.etag != after.etag  # each shows what it saw under its lock
    token, hrefs = before.sync()  # Radicale calls this after releasing the lock
    assert token == after.sync()[0] and list(hrefs) == ["a.ics"]
