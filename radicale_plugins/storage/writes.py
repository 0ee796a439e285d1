"""Storage writes, all inside the request's write transaction (:func:`scope.writing`).

``user`` calendars are stored as Radicale prepared them, exactly as stock Radicale would keep
them. The ``bookings`` calendar's writes mean booking changes and blocked times
(:mod:`bridge.dav.edits`); ``busy`` is read-only. Refusals are
:class:`~bridge.dav.errors.DavRefused`, which the callers turn into Radicale's errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import radicale.item
from radicale import pathutils
from radicale.storage import ComponentNotFoundError
from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.booking.bookings import Actor
from bridge.dav import edits, items
from bridge.dav.errors import InvalidCalendarData, WriteForbidden, bridge
from bridge.dav.items import ItemFacts
from bridge.dav.projection import BOOKINGS_PROPS
from bridge.store.models import DAV_BOOKINGS, DAV_BUSY, DAV_USER, DavCollection, DavItem, Provider
from radicale_plugins import context
from radicale_plugins.storage import occurrences, rows, scope

if TYPE_CHECKING:
    from radicale_plugins.storage.collection import Collection

RESERVED_NAMES = frozenset({DAV_BOOKINGS, DAV_BUSY})
MAX_UID_LENGTH = 1024  # DavItem.uid
MAX_COMPONENT_LENGTH = 16  # DavItem.component


def _read_only() -> WriteForbidden:
    return WriteForbidden(
        bridge("read-only-calendar"),
        "the busy calendar shows your other calendars' busy time and is read-only",
    )


def _actor(user: str) -> Actor:
    return Actor("caldav", context.credential_label(user))


def _calendar(session: Session, collection: Collection) -> DavCollection:
    if collection.row is None:
        raise WriteForbidden(
            bridge("not-a-calendar"), "items live in calendars, not in the principal collection"
        )
    found = session.get(DavCollection, collection.row.id)
    if found is None:
        raise WriteForbidden(bridge("calendar-gone"), "this calendar was deleted meanwhile")
    return found


def _check_name(name: str, what: str) -> None:
    if len(name) > rows.MAX_NAME_LENGTH:
        raise WriteForbidden(
            bridge("name-too-long"), f"{what} may be at most {rows.MAX_NAME_LENGTH} characters"
        )


def _check_facts(facts: ItemFacts) -> None:
    if len(facts.uid) > MAX_UID_LENGTH:
        raise InvalidCalendarData(f"the UID may be at most {MAX_UID_LENGTH} characters")
    if len(facts.component) > MAX_COMPONENT_LENGTH:
        raise InvalidCalendarData(f"unsupported component {facts.component[:40]!r}")


def item_row(row: DavItem) -> tuple[Any, ...]:
    return (
        row.href,
        row.text,
        row.etag,
        row.uid,
        row.component,
        row.start_ts,
        row.end_ts,
        row.last_modified,
    )


def _current(
    session: Session, collection: Collection, calendar: DavCollection, href: str
) -> radicale.item.Item | None:
    found = items.get_item(session, calendar, href)
    return rows.make_item(collection, item_row(found)) if found is not None else None


def upload(
    collection: Collection, href: str, item: radicale.item.Item
) -> tuple[radicale.item.Item, radicale.item.Item | None]:
    """Create or replace ``href``; return the stored item and the one it replaced."""
    session = scope.writing().session
    calendar = _calendar(session, collection)
    _check_name(href, "an item's name")
    old = _current(session, collection, calendar, href)
    facts = ItemFacts.of(item)
    _check_facts(facts)
    if calendar.kind == DAV_BUSY:
        raise _read_only()
    if calendar.kind == DAV_BOOKINGS:
        provider = session.get(Provider, calendar.provider_id)
        assert provider is not None
        stored = edits.put(session, provider, calendar, href, facts, _actor(scope.writing().user))
        if stored.rewritten:
            context.state().rewritten = True
        else:
            occurrences.remember(item)
        return rows.make_item(collection, item_row(stored.item)), old
    stored_row, _ = items.put_item(session, calendar, href, facts)
    occurrences.remember(item)
    return rows.make_item(collection, item_row(stored_row)), old


def delete(collection: Collection, href: str | None) -> None:
    """Delete item ``href``, or the collection itself when ``href`` is None.

    Raises:
        ComponentNotFoundError: no such item.
    """
    session = scope.writing().session
    calendar = _calendar(session, collection)
    if calendar.kind == DAV_BUSY:
        raise _read_only()
    if href is None:
        if calendar.kind != DAV_USER:
            raise WriteForbidden(
                bridge("calendar-is-permanent"),
                "the bookings calendar cannot be deleted; cancel bookings one by one",
            )
        session.execute(sql_delete(DavCollection).where(DavCollection.id == calendar.id))
        return
    if calendar.kind == DAV_BOOKINGS:
        provider = session.get(Provider, calendar.provider_id)
        assert provider is not None
        existed = edits.delete(session, provider, calendar, href, _actor(scope.writing().user))
    else:
        existed = items.delete_item(session, calendar, href)
    if not existed:
        raise ComponentNotFoundError(href)


def move(item: radicale.item.Item, to_collection: Collection, to_href: str) -> None:
    """Move an item between (or within) calendars; nothing leaves ``bookings``."""
    session = scope.writing().session
    source_collection: Collection = item.collection  # type: ignore[assignment]
    source = _calendar(session, source_collection)
    target = _calendar(session, to_collection)
    assert item.href is not None
    if source.kind == DAV_BOOKINGS:
        raise WriteForbidden(
            bridge("bookings-items-stay"),
            "events in the bookings calendar cannot be moved or renamed: delete a booking's "
            "event to cancel the booking, or copy the event to another calendar",
        )
    if DAV_BUSY in (source.kind, target.kind):
        raise _read_only()
    _check_name(to_href, "an item's name")
    facts = ItemFacts.of(item)
    _check_facts(facts)
    if target.kind == DAV_BOOKINGS:
        provider = session.get(Provider, target.provider_id)
        assert provider is not None
        edits.put(session, provider, target, to_href, facts, _actor(scope.writing().user))
    else:
        items.put_item(session, target, to_href, facts)
    if (source.id, item.href) != (target.id, to_href):
        items.delete_item(session, source, item.href)


def set_meta(collection: Collection, props: Mapping[str, str]) -> None:
    """Replace a calendar's properties (PROPPATCH sends the merged set)."""
    session = scope.writing().session
    if collection.row is None:
        raise WriteForbidden(
            bridge("principal-is-fixed"), "the principal collection's properties cannot be changed"
        )
    calendar = _calendar(session, collection)
    if calendar.kind == DAV_BUSY:
        raise _read_only()
    sanitized = dict(radicale.item.check_and_sanitize_props(dict(props)))
    if calendar.kind == DAV_BOOKINGS:
        # Clients may rename and recolour it, but it stays an event calendar.
        for key in ("tag", "C:supported-calendar-component-set"):
            sanitized[key] = BOOKINGS_PROPS[key]
    calendar.props = sanitized
    items.bump_revision(session, calendar)


def _href_for(item: radicale.item.Item, taken: set[str]) -> str:
    suffix = ".vcf" if item.name in ("VCARD", "VLIST") else ".ics"
    href = f"{item.uid}{suffix}"
    if (
        not item.uid
        or not pathutils.is_safe_filesystem_path_component(href)
        or len(href) > rows.MAX_NAME_LENGTH
        or href in taken
    ):
        href = f"{uuid.uuid4()}{suffix}"
    taken.add(href)
    return href


def create_calendar(
    parts: tuple[str, ...],
    new_items: Iterable[radicale.item.Item],
    props: Mapping[str, str],
) -> tuple[rows.ProviderRow, rows.CollectionRow, list[tuple[Any, ...]], list[str]]:
    """MKCALENDAR/MKCOL of ``/<slug>/<name>/``, or a PUT replacing a whole calendar.

    Returns:
        The provider, the calendar's snapshot, the rows of the items it replaced, and the hrefs
        of the new items.
    """
    session = scope.writing().session
    if len(parts) != 2:
        raise WriteForbidden(
            bridge("calendars-only-under-the-principal"),
            "calendars live directly under your principal (/dav/<user>/<calendar>/); "
            "nested collections are not supported",
        )
    owner, name = parts
    if not props.get("tag"):
        raise WriteForbidden(
            bridge("calendars-only"),
            "only calendars and address books can be made here, not plain collections",
        )
    if name in RESERVED_NAMES:
        raise WriteForbidden(
            bridge("reserved-name"), f"the name {name!r} is reserved for the bridge's calendar"
        )
    _check_name(name, "a calendar's name")
    provider = rows.load_provider(session, owner)
    if provider is None:
        raise WriteForbidden(bridge("no-such-principal"), "there is no such principal")
    calendar = session.scalar(
        select(DavCollection).where(
            DavCollection.provider_id == provider.id, DavCollection.name == name
        )
    )
    sanitized = dict(radicale.item.check_and_sanitize_props(dict(props)))
    replaced: list[tuple[Any, ...]] = []
    if calendar is None:
        calendar = items.new_collection(session, provider.id, name, DAV_USER, sanitized)
    else:
        for old in session.scalars(select(DavItem).where(DavItem.collection_id == calendar.id)):
            replaced.append(item_row(old))
        for old_row in replaced:
            items.delete_item(session, calendar, old_row[0])
        calendar.props = sanitized
        items.bump_revision(session, calendar)
    taken: set[str] = set()
    new_hrefs = []
    for item in new_items:
        href = _href_for(item, taken)
        facts = ItemFacts.of(item)
        _check_facts(facts)
        items.put_item(session, calendar, href, facts)
        new_hrefs.append(href)
    session.flush()
    return provider, rows.CollectionRow.of(calendar), replaced, new_hrefs
