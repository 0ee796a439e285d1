"""Push notifications from the fake: events.watch, the messages, channels.stop, retries."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
from googleapiclient.errors import HttpError

from tests.fakes.google.testing import (  # noqa: F401 - fixtures
    account_fixture,
    calendar_fixture,
    fake_fixture,
    make_service_fixture,
    no_backoff_fixture,
    service_fixture,
    timed,
    webhook_fixture,
)


def _watch(service, address: str, channel_id: str = "chan-1", **extra) -> dict:
    body = {"id": channel_id, "type": "web_hook", "address": address, **extra}
    return service.events().watch(calendarId="primary", body=body).execute()


def test_watch_answers_a_channel_and_sends_sync(fake, service, calendar, webhook):
    channel = _watch(service, webhook.url, token="tenant=7&sig=abc", params={"ttl": "3600"})

    assert channel["kind"] == "api#channel"
    assert channel["id"] == "chan-1"
    assert channel["resourceId"] == calendar.resource_id
    assert channel["token"] == "tenant=7&sig=abc"
    assert channel["resourceUri"].startswith(fake.api_endpoint + "calendars/primary/events")
    expiration = int(channel["expiration"])
    expected = (fake.now() + dt.timedelta(seconds=3600)).timestamp() * 1000
    assert abs(expiration - expected) < 5000
    message = webhook.next()
    assert message["x-goog-resource-state"] == "sync"
    assert message["x-goog-message-number"] == "1"
    assert message["x-goog-channel-id"] == "chan-1"
    assert message["x-goog-channel-token"] == "tenant=7&sig=abc"
    assert message["x-goog-resource-id"] == channel["resourceId"]
    assert message["x-goog-resource-uri"] == channel["resourceUri"]
    assert email.utils.parsedate_to_datetime(message["x-goog-channel-expiration"]).tzinfo
    assert message["body"] == ""


def test_every_change_sends_exists_with_increasing_numbers(fake, service, calendar, webhook):
    _watch(service, webhook.url)
    webhook.next()
    event = service.events().insert(calendarId="primary", body=timed()).execute()
    calendar.patch_event(event["id"], {"summary": "changed in the UI"})
    service.events().delete(calendarId="primary", eventId=event["id"]).execute()

    messages = [webhook.next() for _ in range(3)]

    assert [m["x-goog-resource-state"] for m in messages] == ["exists"] * 3
    assert [int(m["x-goog-message-number"]) for m in messages] == [2, 3, 4]
    assert "x-goog-channel-token" not in messages[0]
    fake.wait_for_notifications()
    assert fake.channels[0].messages_sent == 4


def test_changes_on_other_calendars_are_not_sent(fake, service, account, webhook):
    _watch(service, webhook.url)
    webhook.next()
    account.add_calendar("team@group.calendar.google.com", "Team").create_event(timed())
    fake.wait_for_notifications()
    assert webhook.drain() == []


def test_expired_channel_is_silent(fake, service, calendar, webhook):
    _watch(service, webhook.url)
    webhook.next()
    fake.expire_channel("chan-1")
    calendar.create_event(timed())
    fake.wait_for_notifications()
    assert webhook.drain() == []


def test_channel_expires_with_its_ttl(fake, service, calendar, webhook):
    _watch(service, webhook.url, params={"ttl": "60"})
    webhook.next()
    fake.advance_clock(dt.timedelta(seconds=61))
    calendar.create_event(timed())
    fake.wait_for_notifications()
    assert webhook.drain() == []


def test_stop_channel(fake, service, calendar, webhook):
    channel = _watch(service, webhook.url)
    webhook.next()
    body = {"id": channel["id"], "resourceId": channel["resourceId"]}

    assert service.channels().stop(body=body).execute() == ""

    assert fake.channels[0].stopped
    calendar.create_event(timed())
    fake.wait_for_notifications()
    assert webhook.drain() == []
    with pytest.raises(HttpError) as caught:
        service.channels().stop(body=body).execute()
    assert caught.value.resp.status == 404


def test_notifier_retries_5xx(fake, service, webhook):
    webhook.statuses.extend([503, 500])
    _watch(service, webhook.url)
    attempts = [webhook.next() for _ in range(3)]
    assert [a["answered"] for a in attempts] == ["503", "500", "200"]
    assert {a["x-goog-message-number"] for a in attempts} == {"1"}
    fake.wait_for_notifications()
    assert fake.channels[0].messages_sent == 1


def test_notifier_gives_up_after_three_retries_and_not_on_4xx(fake, service, calendar, webhook):
    webhook.statuses.extend([503] * 4 + [404])
    _watch(service, webhook.url)
    calendar.create_event(timed())
    fake.wait_for_notifications()
    answered = [m["answered"] for m in webhook.drain()]
    assert answered == ["503"] * 4 + ["404"]
    assert fake.channels[0].messages_sent == 0


def test_notifications_can_be_switched_off(fake, service, calendar, webhook):
    fake.notifications_enabled = False
    _watch(service, webhook.url)
    calendar.create_event(timed())
    fake.wait_for_notifications()
    assert webhook.drain() == []


def test_deleted_calendar_sends_not_exists(fake, service, account, webhook):
    team = account.add_calendar("team@group.calendar.google.com", "Team")
    body = {"id": "team-chan", "type": "webhook", "address": webhook.url}
    service.events().watch(calendarId=team.id, body=body).execute()
    webhook.next()
    team.delete_calendar()
    assert webhook.next()["x-goog-resource-state"] == "not_exists"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"type": "web_hook", "address": "https://example.org/hook"}, "required"),
        ({"id": "x" * 65, "type": "web_hook", "address": "https://example.org/h"}, "invalid"),
        ({"id": "c", "type": "email", "address": "https://example.org/h"}, "invalid"),
        (
            {"id": "c", "type": "web_hook", "address": "http://example.org/h"},
            "push.webhookUrlNotHttps",
        ),
        ({"id": "c", "type": "web_hook"}, "required"),
    ],
)
def test_watch_validates_the_channel(service, body, reason):
    with pytest.raises(HttpError) as caught:
        service.events().watch(calendarId="primary", body=body).execute()
    assert caught.value.resp.status == 400
    assert caught.value.error_details[0]["reason"] == reason


def test_duplicate_channel_id_is_refused(service, webhook):
    _watch(service, webhook.url)
    with pytest.raises(HttpError) as caught:
        _watch(service, webhook.url)
    assert caught.value.resp.status == 400
    assert caught.value.error_details[0]["reason"] == "channelIdNotUnique"
