"""The one error shape, whatever went wrong; and the OpenAPI document."""

from __future__ import annotations

import logging

import pytest

from bridge.settings import Settings
from bridge.web import create_app
from bridge.web.deps import get_store
from tests.web.conftest import API, TestClient, booking_body, provider_url


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_malformed_json_is_422_naming_the_body(client, provider):
    response = client.post(
        provider_url(provider, "bookings"),
        content=b'{"service": 1, "start": ',
        headers={"Content-Type": "application/json"},
    )

    error = assert_error_shape(response, 422, "validation_error")
    assert "not valid JSON" in error["fields"]["body"]


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"[1, 2]", {"Content-Type": "application/json"}),
        (b'{"service": 1}', {}),
        (b"service=1", {"Content-Type": "application/x-www-form-urlencoded"}),
    ],
)
def test_body_that_is_not_a_json_object_is_422(client, provider, content, headers):
    response = client.post(provider_url(provider, "bookings"), content=content, headers=headers)

    error = assert_error_shape(response, 422, "validation_error")
    assert "JSON object" in error["fields"]["body"]


def test_missing_body_is_422(client, provider):
    response = client.post(provider_url(provider, "bookings"))

    error = assert_error_shape(response, 422, "validation_error")
    assert error["fields"] == {"body": "required"}


def test_nested_list_fields_are_named_with_their_position(client, provider, provider_auth):
    response = client.put(
        provider_url(provider, "hours"),
        json={"hours": [{"weekday": "monday", "start": "09:00", "end": "17:00"}, {}]},
        headers=provider_auth,
    )

    error = assert_error_shape(response, 422, "validation_error")
    assert set(error["fields"]) == {"hours[1].weekday", "hours[1].start", "hours[1].end"}


def test_unknown_route_is_404_in_the_error_shape(client):
    assert_error_shape(client.get(f"{API}/no-such-thing"), 404, "not_found")
    assert_error_shape(client.get("/"), 404, "not_found")


def test_wrong_method_is_405_in_the_error_shape(client, provider):
    response = client.delete(provider_url(provider, "slots"))

    assert_error_shape(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


def test_not_found_names_the_missing_thing(client, provider, provider_auth):
    response = client.get(provider_url(provider, "bookings", 987654321), headers=provider_auth)

    error = assert_error_shape(response, 404, "not_found")
    assert "987654321" in error["message"]


def test_unexpected_error_is_500_without_a_traceback(store, provider, caplog):
    app = create_app(Settings(), store)

    def broken_store():
        raise RuntimeError("secret detail of the failure")

    app.dependency_overrides[get_store] = broken_store
    with TestClient(app) as client, caplog.at_level(logging.ERROR, logger="bridge.web.errors"):
        response = client.post(
            provider_url(provider, "bookings"),
            json=booking_body(provider.service_id, "2026-06-01T10:00:00+02:00"),
        )

    error = assert_error_shape(response, 500, "internal_error")
    assert error["fields"] == {}
    for leak in ("Traceback", "RuntimeError", "secret detail"):
        assert leak not in response.text
    # Logged once, on the server, with the traceback.
    (record,) = [r for r in caplog.records if r.name == "bridge.web.errors"]
    assert record.exc_info is not None
    assert "POST" in record.getMessage()


def test_openapi_document_lists_the_paths(client):
    response = client.get(f"{API}/openapi.json")

    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    for path, method in [
        ("/api/v1/providers", "post"),
        ("/api/v1/providers/{slug}", "patch"),
        ("/api/v1/providers/{slug}/services/{service_id}", "delete"),
        ("/api/v1/providers/{slug}/hours", "put"),
        ("/api/v1/providers/{slug}/overrides/{override_id}", "delete"),
        ("/api/v1/providers/{slug}/blocked-times", "post"),
        ("/api/v1/providers/{slug}/slots", "get"),
        ("/api/v1/providers/{slug}/bookings", "post"),
        ("/api/v1/providers/{slug}/bookings/{booking_id}/reschedule", "post"),
        ("/api/v1/providers/{slug}/bookings/{booking_id}/history", "get"),
        ("/api/v1/tokens/{token_id}", "delete"),
    ]:
        assert method in paths[path], (path, method)
    # Errors are documented in their real shape, not FastAPI's default one.
    booking_errors = paths["/api/v1/providers/{slug}/bookings"]["post"]["responses"]
    assert booking_errors["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert "HTTPBearer" in document["components"]["securitySchemes"]


def test_no_docs_pages_that_load_from_a_cdn(client):
    for path in ("/docs", "/redoc", f"{API}/docs", f"{API}/redoc"):
        assert client.get(path).status_code == 404, path
