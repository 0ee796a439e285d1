"""Who gets in: the provider's password or a live app password; nobody reaches another provider."""

from __future__ import annotations

import httpx

from bridge.booking import providers
from bridge.store.models import AppPassword, Provider
from radicale_plugins import auth
from tests.dav.conftest import (
    DavUser,
    event,
    issue_app_password,
    new_dav_user,
    propfind,
    put_ics,
    revoke_app_password,
)

DISPLAYNAME = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/><D:getetag/></D:prop></D:propfind>"""


def test_a_request_without_credentials_is_asked_to_authenticate(user: DavUser):
    with httpx.Client(base_url=user.base_url) as client:
        response = propfind(client, user.url("bookings/"), DISPLAYNAME)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert "Bookings" not in response.text


def test_a_wrong_password_is_refused(user: DavUser):
    with user.http(password="not the password") as client:
        response = propfind(client, user.url("bookings/"), DISPLAYNAME)
    assert response.status_code == 401


def test_an_unknown_user_is_refused_like_a_wrong_password(base_url):
    with httpx.Client(base_url=base_url, auth=("nobody-here", "whatever pass")) as client:
        response = propfind(client, "/dav/nobody-here/", DISPLAYNAME)
    assert response.status_code == 401


def test_the_user_name_is_not_case_sensitive(user: DavUser):
    with httpx.Client(base_url=user.base_url, auth=(user.slug.upper(), user.password)) as client:
        response = propfind(client, user.url("bookings/"), DISPLAYNAME)
    assert response.status_code == 207


def test_an_app_password_logs_in_and_records_its_use(store, user: DavUser):
    app_password_id, secret = issue_app_password(store, user, "iPhone")
    with user.http(password=secret) as client:
        assert propfind(client, user.url("bookings/"), DISPLAYNAME).status_code == 207
    with store.read() as session:
        used = session.get(AppPassword, app_password_id)
        assert used is not None and used.last_used_at is not None


def test_a_revoked_app_password_stops_working_at_once(store, user: DavUser):
    app_password_id, secret = issue_app_password(store, user, "old laptop")
    with user.http(password=secret) as client:
        assert propfind(client, user.url("bookings/"), DISPLAYNAME).status_code == 207
        revoke_app_password(store, user, app_password_id)
        assert propfind(client, user.url("bookings/"), DISPLAYNAME).status_code == 401


def test_another_providers_app_password_does_not_log_in(store, user: DavUser):
    other = new_dav_user(store, user.base_url)
    _, secret = issue_app_password(store, other, "their phone")
    with user.http(password=secret) as client:
        assert propfind(client, user.url("bookings/"), DISPLAYNAME).status_code == 401


def test_a_changed_password_ends_the_cached_login(store, user: DavUser):
    with user.http() as client:
        assert propfind(client, user.url("bookings/"), DISPLAYNAME).status_code == 207
        with store.write() as session:
            provider = session.get(Provider, user.ref.id)
            assert provider is not None
            providers.set_password(session, provider, "a brand new password")
        assert propfind(client, user.url("bookings/"), DISPLAYNAME).status_code == 401
    with user.http(password="a brand new password") as client:
        assert propfind(client, user.url("bookings/"), DISPLAYNAME).status_code == 207


def test_the_login_cache_forgets_after_its_time_and_is_keyed_per_process():
    cache = auth.SuccessCache(ttl=60)
    cache.remember("alice", "secret", "hash-1")
    assert cache.hit("alice", "secret", "hash-1")
    assert not cache.hit("alice", "secret", "hash-2")  # the password was changed
    assert not cache.hit("alice", "other", "hash-1")
    assert not auth.SuccessCache(ttl=60).hit("alice", "secret", "hash-1")  # another key
    expired = auth.SuccessCache(ttl=0)
    expired.remember("alice", "secret", "hash-1")
    assert not expired.hit("alice", "secret", "hash-1")


def test_a_failed_login_is_not_remembered(store, user: DavUser):
    assert auth.check(store, user.slug, "wrong password") is None
    assert auth.check(store, user.slug, user.password) == "password"
    assert auth.check(store, user.slug, "wrong password") is None


def test_another_providers_calendar_is_forbidden_and_reveals_nothing(store, user: DavUser, http):
    other = new_dav_user(store, user.base_url)
    for path in (other.principal, other.url("bookings/"), other.url("busy/")):
        response = propfind(http, path, DISPLAYNAME, depth="1")
        assert response.status_code == 403
        assert "Bookings" not in response.text and other.slug not in response.text
    missing = propfind(http, "/dav/no-such-provider/", DISPLAYNAME)
    assert missing.status_code == 403  # the same answer whether or not the provider exists


def test_another_providers_calendar_cannot_be_written(store, user: DavUser, http):
    other = new_dav_user(store, user.base_url)
    text = event("intruder", ":20300101T100000Z", ":20300101T110000Z")
    assert put_ics(http, other.url("bookings", "x.ics"), text).status_code == 403
    assert http.request("MKCALENDAR", other.url("mine/")).status_code == 403
    assert http.delete(other.url("bookings/")).status_code == 403


def test_proxy_headers_from_the_client_are_ignored(user: DavUser, http):
    response = propfind(
        http,
        user.url("bookings/"),
        DISPLAYNAME,
        depth="0",
    )
    spoofed = http.request(
        "PROPFIND",
        user.url("bookings/"),
        content=DISPLAYNAME,
        headers={
            "Depth": "0",
            "X-Script-Name": "/evil",
            "X-Forwarded-For": "10.0.0.1",
            "X-Forwarded-Host": "evil.example",
            "X-Remote-User": "admin",
        },
    )
    assert spoofed.status_code == 207
    assert "/evil" not in spoofed.text
    assert spoofed.text == response.text
