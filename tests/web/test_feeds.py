"""ICS feeds over HTTP: ``/feeds/<token>.ics`` with its validators and 304s, and the API that
shows, rotates and revokes the links.

The clock is pinned to Monday 2026-06-01 08:00 in Berlin (see ``tests/conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import email.utils

import icalendar
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bridge import clock
from bridge.booking import bookings
from bridge.settings import SecretKeys, Settings
from bridge.store import Store
from bridge.web import create_app
from tests.booking.helpers import PROVIDER, TUESDAY, local
from tests.conftest import MONDAY, ProviderRef, new_provider
from tests.feeds.conftest import CLIENT, PRIVATE_WORDS
from tests.web.conftest import bearer, issue_token, provider_url

pytestmark = pytest.mark.usefixtures("frozen_now")

PUBLIC_URL = "https://book.example.org"
KEY = "web-feed-test-key-" + "w" * 32


@pytest.fixture(scope="module")
def app(store: Store) -> FastAPI:
    """The app with a public URL and a secret key of its own."""
    return create_app(Settings(public_url=PUBLIC_URL, secret_key=SecretKeys((KEY,))), store)


@pytest.fixture
def provider(store: Store, frozen_now: dt.datetime) -> ProviderRef:
    return new_provider(store)


@pytest.fixture
def booking(store, provider):
    return bookings.book(
        store, provider.slug, provider.service_id, local(provider, TUESDAY, 9), CLIENT, source="t"
    ).booking


def links(client: TestClient, provider: ProviderRef, auth: dict[str, str]) -> dict[str, dict]:
    response = client.get(provider_url(provider, "feeds"), headers=auth)
    assert response.status_code == 200, response.text
    return {feed["kind"]: feed for feed in response.json()["feeds"]}


def path_of(url: str) -> str:
    assert url.startswith(PUBLIC_URL)
    return url.removeprefix(PUBLIC_URL)


@pytest.fixture
def feed_path(client, provider, provider_auth) -> str:
    """The path of ``provider``'s full feed."""
    return path_of(links(client, provider, provider_auth)["full"]["url"])


# -- the feed -----------------------------------------------------------------------------------


def test_the_feed_is_a_calendar_with_validators_and_private_headers(client, feed_path, booking):
    response = client.get(feed_path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["etag"].startswith('"')
    last_modified = email.utils.parsedate_to_datetime(response.headers["last-modified"])
    assert last_modified == MONDAY
    assert response.headers["cache-control"].startswith("private")
    assert response.headers["referrer-policy"] == "no-referrer"
    calendar = icalendar.Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert event["UID"] == booking.uid and event["SUMMARY"] == "Appointment – Ada"
    assert b"Lovelace" not in response.content and b"ada@example.org" not in response.content


def test_head_answers_the_headers_without_a_body(client, feed_path, booking):
    full = client.get(feed_path)

    response = client.head(feed_path)

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["etag"] == full.headers["etag"]
    assert response.headers["content-length"] == str(len(full.content))


@pytest.mark.parametrize("template", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_a_matching_if_none_match_gets_304(client, feed_path, booking, template):
    etag = client.get(feed_path).headers["etag"]

    response = client.get(feed_path, headers={"If-None-Match": template.format(etag=etag)})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "last-modified" in response.headers


def test_if_modified_since_gets_304_when_nothing_changed_since(client, feed_path, booking):
    last_modified = client.get(feed_path).headers["last-modified"]
    earlier = email.utils.format_datetime(MONDAY - dt.timedelta(seconds=1), usegmt=True)

    assert client.get(feed_path, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(feed_path, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(feed_path, headers={"If-Modified-Since": "yesterday"}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client, feed_path, booking):
    last_modified = client.get(feed_path).headers["last-modified"]

    response = client.get(
        feed_path, headers={"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    )

    assert response.status_code == 200


def test_a_booking_change_changes_the_etag_and_last_modified(
    client, store, provider, feed_path, booking
):
    before = client.get(feed_path)

    with clock.frozen(MONDAY + dt.timedelta(minutes=5)):
        bookings.reschedule(
            store, provider.slug, booking.id, local(provider, TUESDAY, 11), actor=PROVIDER
        )
    conditional = client.get(feed_path, headers={"If-None-Match": before.headers["etag"]})
    since = client.get(feed_path, headers={"If-Modified-Since": before.headers["last-modified"]})

    assert conditional.status_code == 200 and since.status_code == 200
    assert conditional.headers["etag"] != before.headers["etag"]
    assert email.utils.parsedate_to_datetime(
        conditional.headers["last-modified"]
    ) == MONDAY + dt.timedelta(minutes=5)
    [event] = icalendar.Calendar.from_ical(conditional.content).walk("VEVENT")
    assert event.decoded("DTSTART") == local(provider, TUESDAY, 11)


def test_the_busy_feed_shows_no_client_data(client, provider, provider_auth, booking):
    busy = path_of(links(client, provider, provider_auth)["busy"]["url"])

    response = client.get(busy)

    assert response.status_code == 200
    for private in PRIVATE_WORDS:
        assert private.encode() not in response.content
    [event] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert event["SUMMARY"] == "Busy" and event.decoded("DTSTART") == booking.start_at


def test_an_unknown_token_gets_the_404_of_any_unknown_path(client):
    unknown_path = client.get("/no/such/path")

    response = client.get("/feeds/" + "x" * 43 + ".ics")

    assert response.status_code == 404
    assert response.content == unknown_path.content
    assert response.headers["content-type"] == unknown_path.headers["content-type"]
    assert "referrer-policy" not in response.headers
    assert client.head("/feeds/nothing.ics").status_code == 404


def test_rotating_through_the_api_kills_the_old_url(client, provider, provider_auth, feed_path):
    response = client.post(provider_url(provider, "feeds", "full", "rotate"), headers=provider_auth)

    assert response.status_code == 200, response.text
    new_path = path_of(response.json()["url"])
    assert new_path != feed_path
    assert client.get(feed_path).status_code == 404
    assert client.get(new_path).status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_revoking_through_the_api_gives_404_and_a_new_link_on_request(
    client, provider, provider_auth, feed_path
):
    busy_path = path_of(links(client, provider, provider_auth)["busy"]["url"])

    response = client.delete(provider_url(provider, "feeds", "full"), headers=provider_auth)

    assert response.status_code == 204
    assert client.get(feed_path).status_code == 404
    assert client.get(busy_path).status_code == 200
    fresh = path_of(links(client, provider, provider_auth)["full"]["url"])
    assert fresh != feed_path and client.get(fresh).status_code == 200


# -- the API ------------------------------------------------------------------------------------


def test_the_api_shows_both_links_in_https_and_webcal_form(client, provider, provider_auth):
    response = client.get(provider_url(provider, "feeds"), headers=provider_auth)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    feeds = {feed["kind"]: feed for feed in response.json()["feeds"]}
    assert set(feeds) == {"full", "busy"}
    for feed in feeds.values():
        assert feed["url"].startswith(f"{PUBLIC_URL}/feeds/") and feed["url"].endswith(".ics")
        assert feed["webcal_url"] == feed["url"].replace("https://", "webcal://", 1)
        assert feed["problem"] is None and feed["created_at"]
    assert feeds["full"]["url"] != feeds["busy"]["url"]
    assert "first name" in feeds["full"]["shows"] and "no client data" in feeds["busy"]["shows"]
    assert links(client, provider, provider_auth) == feeds  # shown again, not re-created


def test_an_admin_may_manage_any_providers_feeds(client, provider, admin_auth):
    response = client.post(provider_url(provider, "feeds", "busy", "rotate"), headers=admin_auth)

    assert response.status_code == 200 and response.json()["kind"] == "busy"


@pytest.mark.parametrize(
    ("method", "parts"),
    [("GET", ("feeds",)), ("POST", ("feeds", "full", "rotate")), ("DELETE", ("feeds", "busy"))],
)
def test_feed_endpoints_need_the_providers_token(
    client, store, provider, provider_auth, method, parts
):
    other = new_provider(store)

    anonymous = client.request(method, provider_url(provider, *parts))
    foreign = client.request(method, provider_url(other, *parts), headers=provider_auth)

    assert anonymous.status_code == 401
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"


def test_a_booking_manage_token_cannot_see_feed_links(client, store, provider):
    manage = bookings.book(
        store, provider.slug, provider.service_id, local(provider, TUESDAY, 9), CLIENT, source="t"
    ).manage_token

    response = client.get(provider_url(provider, "feeds"), headers=bearer(manage))

    assert response.status_code == 403


def test_an_unknown_kind_is_a_validation_error(client, provider, provider_auth):
    response = client.post(
        provider_url(provider, "feeds", "public", "rotate"), headers=provider_auth
    )

    assert response.status_code == 422
    assert "kind" in response.json()["error"]["fields"]


def test_with_a_replaced_key_links_cannot_be_shown_but_keep_working(
    client, store, provider, provider_auth
):
    old_path = path_of(links(client, provider, provider_auth)["full"]["url"])
    replaced = create_app(
        Settings(public_url=PUBLIC_URL, secret_key=SecretKeys(("another-key-" + "a" * 32,))),
        store,
    )

    with TestClient(replaced) as other_client:
        feeds = links(other_client, provider, provider_auth)
        assert other_client.get(old_path).status_code == 200

    assert feeds["full"]["url"] is None and feeds["full"]["webcal_url"] is None
    assert "cannot be shown again" in feeds["full"]["problem"]


def test_without_a_secret_key_on_an_external_database_the_api_says_so(
    store, provider, provider_auth
):
    settings = Settings(database_url="postgresql+psycopg://u@db/bridge", public_url=PUBLIC_URL)

    with TestClient(create_app(settings, store)) as no_key_client:
        response = no_key_client.get(provider_url(provider, "feeds"), headers=provider_auth)

    assert response.status_code == 503
    assert "BRIDGE_SECRET_KEY" in response.json()["error"]["message"]


def test_the_links_use_the_bound_address_without_a_public_url(store, provider):
    settings = Settings(host="0.0.0.0", port=8123, secret_key=SecretKeys((KEY,)))
    auth = bearer(issue_token(store, provider))

    with TestClient(create_app(settings, store)) as bound_client:
        feeds = links(bound_client, provider, auth)

    assert feeds["full"]["url"].startswith("http://127.0.0.1:8123/feeds/")
    assert feeds["full"]["webcal_url"].startswith("webcal://127.0.0.1:8123/feeds/")
