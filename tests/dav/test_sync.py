"""RFC 6578 sync-collection from the change log: what changed, deletions included, nothing else."""

from __future__ import annotations

import re

import pytest

from bridge.booking import bookings
from tests.dav.conftest import (
    DavUser,
    book,
    event,
    local,
    propfind,
    put_ics,
    report,
    working_day,
)
from tests.dav.test_user_calendars import new_calendar

SYNC_TOKEN_PROP = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>"""


def sync_body(token: str = "") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token>
<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"""


def sync(http, url: str, token: str = "") -> tuple[str, dict[str, int]]:
    """The new token and {href: status} of what changed since ``token``."""
    response = report(http, url, sync_body(token))
    assert response.status_code == 207, response.text
    new_token = re.search(r"<sync-token>([^<]+)</sync-token>", response.text)
    assert new_token is not None
    changed = {}
    for block in re.findall(r"<response>(.*?)</response>", response.text, re.S):
        href = re.search(r"<href>([^<]+)</href>", block)
        status = re.search(r"HTTP/1.1 (\d+)", block)
        assert href is not None and status is not None
        changed[href.group(1)] = int(status.group(1))
    return new_token.group(1), changed


def lunch(uid: str, summary: str = "Lunch") -> str:
    return event(uid, ":20300601T120000Z", ":20300601T130000Z", summary)


def test_an_initial_sync_lists_every_item_with_a_token(user: DavUser, http):
    url = new_calendar(user, http)
    put_ics(http, f"{url}a.ics", lunch("a"))
    put_ics(http, f"{url}b.ics", lunch("b"))
    token, changed = sync(http, url)
    assert token.startswith("http://calendar-bridge/sync/")
    assert changed == {f"{url}a.ics": 200, f"{url}b.ics": 200}


def test_an_incremental_sync_lists_changes_and_deletions_only(user: DavUser, http):
    url = new_calendar(user, http)
    for uid in ("a", "b", "c"):
        put_ics(http, f"{url}{uid}.ics", lunch(uid))
    token, _ = sync(http, url)
    put_ics(http, f"{url}a.ics", lunch("a", "Brunch"))
    put_ics(http, f"{url}d.ics", lunch("d"))
    http.delete(f"{url}b.ics")
    new_token, changed = sync(http, url, token)
    assert changed == {f"{url}a.ics": 200, f"{url}d.ics": 200, f"{url}b.ics": 404}
    assert new_token != token
    assert sync(http, url, new_token) == (new_token, {})


def test_rewriting_an_item_unchanged_is_not_a_change(user: DavUser, http):
    url = new_calendar(user, http)
    put_ics(http, f"{url}a.ics", lunch("a"))
    token, _ = sync(http, url)
    put_ics(http, f"{url}a.ics", lunch("a"))
    assert sync(http, url, token) == (token, {})


def test_the_sync_token_property_is_the_current_token(user: DavUser, http):
    url = new_calendar(user, http)
    put_ics(http, f"{url}a.ics", lunch("a"))
    token, _ = sync(http, url)
    response = propfind(http, url, SYNC_TOKEN_PROP)
    assert f"<sync-token>{token}</sync-token>" in response.text


@pytest.mark.parametrize(
    "bad_token",
    [
        "http://radicale.org/ns/sync/abc",
        "http://calendar-bridge/sync/0123456789abcdef0123456789abcdef/1",
        "http://calendar-bridge/sync/garbage",
        "not a token at all",
    ],
)
def test_a_foreign_or_malformed_token_gets_valid_sync_token(user: DavUser, http, bad_token):
    url = new_calendar(user, http)
    response = report(http, url, sync_body(bad_token))
    assert response.status_code == 403
    assert "valid-sync-token" in response.text


def test_a_token_of_another_calendar_gets_valid_sync_token(user: DavUser, http):
    work = new_calendar(user, http, "work")
    home = new_calendar(user, http, "home")
    token, _ = sync(http, work)
    response = report(http, home, sync_body(token))
    assert response.status_code == 403 and "valid-sync-token" in response.text


def test_a_token_from_the_future_gets_valid_sync_token(user: DavUser, http):
    url = new_calendar(user, http)
    token, _ = sync(http, url)
    key, revision = token.rsplit("/", 1)
    response = report(http, url, sync_body(f"{key}/{int(revision) + 5}"))
    assert response.status_code == 403 and "valid-sync-token" in response.text


def test_a_token_of_a_deleted_and_remade_calendar_gets_valid_sync_token(user: DavUser, http):
    url = new_calendar(user, http)
    token, _ = sync(http, url)
    assert http.delete(url).status_code == 200
    new_calendar(user, http)
    response = report(http, url, sync_body(token))
    assert response.status_code == 403 and "valid-sync-token" in response.text


def test_the_caldav_library_syncs_changes_and_deletions(user: DavUser, http):
    url = new_calendar(user, http)
    put_ics(http, f"{url}a.ics", lunch("a"))
    put_ics(http, f"{url}b.ics", lunch("b"))
    with user.caldav() as client:
        calendar = client.calendar(url=f"{user.base_url}{url}")
        objects = calendar.objects_by_sync_token(load_objects=True)
        assert {str(o.icalendar_component["uid"]) for o in objects} == {"a", "b"}
        put_ics(http, f"{url}a.ics", lunch("a", "Brunch"))
        http.delete(f"{url}b.ics")
        updated, deleted = objects.sync()
        assert [str(o.icalendar_component["summary"]) for o in updated] == ["Brunch"]
        assert [str(o.url.path) for o in deleted] == [f"{url}b.ics"]


def test_booking_changes_made_elsewhere_reach_an_incremental_sync(store, user: DavUser, http):
    url = user.url("bookings/")
    token, _ = sync(http, url)
    day = working_day()
    new = book(store, user, local(user, day, 10))
    href = f"{url}booking-{new.booking.id}.ics"
    token, changed = sync(http, url, token)
    assert changed == {href: 200}
    bookings.cancel(store, user.slug, new.booking.id, actor=bookings.Actor("provider"))
    assert sync(http, url, token)[1] == {href: 404}
