"""Clients find the principal and the calendars from the server's address, as real clients do."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete

from bridge.store.models import DavCollection
from tests.dav.conftest import DavUser, book, local, new_dav_user, propfind, working_day

CURRENT_USER_PRINCIPAL = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>"""

HOME_SET = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><C:calendar-home-set/></D:prop></D:propfind>"""


def calendar_paths(client) -> dict[str, str]:
    principal = client.principal()
    return {str(c.url.path): c.get_display_name() for c in principal.calendars()}


def test_the_caldav_library_discovers_the_principal_and_calendars_from_the_root_url(user):
    with user.caldav() as client:
        principal = client.principal()
        assert principal.url.path == user.principal
        assert str(principal.calendar_home_set.url.path) == user.principal
        assert calendar_paths(client) == {
            user.url("bookings/"): "Bookings",
            user.url("busy/"): "Busy (external calendars)",
        }


def test_the_caldav_library_discovers_the_calendars_from_the_well_known_url(user):
    with user.caldav(url=f"{user.base_url}/.well-known/caldav") as client:
        assert client.principal().url.path == user.principal
        assert set(calendar_paths(client)) == {user.url("bookings/"), user.url("busy/")}


def test_the_caldav_library_works_from_the_dav_url_too(user):
    with user.caldav(url=f"{user.base_url}/dav/") as client:
        assert set(calendar_paths(client)) == {user.url("bookings/"), user.url("busy/")}


@pytest.mark.parametrize("method", ["GET", "PROPFIND", "OPTIONS", "REPORT"])
def test_well_known_caldav_redirects_permanently_to_dav_for_every_method(base_url, method):
    response = httpx.request(method, f"{base_url}/.well-known/caldav")
    assert response.status_code == 301
    assert response.headers["location"] == "/dav/"


@pytest.mark.parametrize("method", ["PROPFIND", "REPORT"])
def test_propfind_and_report_on_the_root_redirect_to_dav_keeping_the_method(base_url, method):
    response = httpx.request(method, f"{base_url}/", content=CURRENT_USER_PRINCIPAL)
    assert response.status_code == 308
    assert response.headers["location"] == "/dav/"


def test_get_on_the_root_is_not_redirected_to_dav(base_url):
    response = httpx.get(f"{base_url}/")
    assert response.status_code != 308 and response.headers.get("location") != "/dav/"


def test_propfind_on_dav_names_the_current_user_principal(user: DavUser, http):
    response = propfind(http, "/dav/", CURRENT_USER_PRINCIPAL)
    assert response.status_code == 207
    assert f"<href>{user.principal}</href>" in response.text


def test_the_principal_names_itself_as_calendar_home(user: DavUser, http):
    response = propfind(http, user.principal, HOME_SET)
    assert response.status_code == 207
    assert f"<href>{user.principal}</href>" in response.text


def test_listing_the_root_shows_only_the_users_own_principal(store, user: DavUser, http):
    other = new_dav_user(store, user.base_url)
    response = propfind(http, "/dav/", CURRENT_USER_PRINCIPAL, depth="1")
    assert response.status_code == 207
    assert user.principal in response.text
    assert other.slug not in response.text


def test_the_principal_lists_bookings_and_busy_calendars(user: DavUser, http):
    response = propfind(http, user.principal, CURRENT_USER_PRINCIPAL, depth="1")
    assert response.status_code == 207
    assert user.url("bookings/") in response.text
    assert user.url("busy/") in response.text


def test_a_provider_from_before_caldav_gets_the_calendars_on_first_login(store, base_url):
    user = new_dav_user(store, base_url)
    new = book(store, user, local(user, working_day(), 10))
    with store.write() as session:  # as a database from before the CalDAV migration
        session.execute(delete(DavCollection).where(DavCollection.provider_id == user.ref.id))
    with user.caldav() as client:
        assert set(calendar_paths(client)) == {user.url("bookings/"), user.url("busy/")}
    with user.http() as http:
        assert http.get(user.url("bookings", f"booking-{new.booking.id}.ics")).status_code == 200
