"""Radicale's application as ``bridge serve`` mounts it: refusals are answered with their reason.

Stock Radicale answers a storage ``ValueError`` with a bare 400 (or 403), and a malformed body
with "Bad Request". This subclass answers, for the write methods:

- a refusal of the bridge (:class:`~bridge.dav.errors.DavRefused`, e.g. a task in ``bookings``,
  a booking moved onto another) with its status and a ``DAV:error`` body naming the
  precondition and the reason (``<CB:message>``); nothing was stored (the write transaction
  was rolled back, see :mod:`radicale_plugins.storage.scope`);
- a PUT whose body does not parse with 400, ``CALDAV:valid-calendar-data`` and the parser's
  reason;
- a PUT of an item larger than ``[server] max_resource_size`` with 413, before parsing it
  (stock parses it, then answers 412);
- a PUT the bridge stored in its own rendering (a booking's event) without an ``ETag``, so the
  client fetches the stored event (RFC 4791 §5.3.4).

Plain ``radicale --config config/radicale.conf`` runs the same plugins under the stock
application, with stock answers (a refusal is a 400 or 403 without the reason).
"""

from __future__ import annotations

import io
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from http import client
from typing import Any, cast

import radicale.app
import radicale.item
from radicale import httputils, types

from bridge.dav.errors import BRIDGE_NS, DavRefused, InvalidCalendarData
from radicale_plugins import context
from radicale_plugins.storage.rows import split
from radicale_plugins.storage.scope import Rejected

log = logging.getLogger(__name__)

ET.register_namespace("CB", BRIDGE_NS)

ITEM_DEPTH = 3  # /<slug>/<calendar>/<item>: deeper collections do not exist

Handler = Callable[[types.WSGIEnviron, str, str, str, set[str], dict[str, Any]], types.WSGIResponse]


def refusal_body(refusal: DavRefused) -> ET.Element:
    """``<D:error><precondition/><CB:message>reason</CB:message></D:error>``."""
    root = ET.Element("{DAV:}error")
    ET.SubElement(root, refusal.condition)
    ET.SubElement(root, f"{{{BRIDGE_NS}}}message").text = refusal.message
    return root


class Application(radicale.app.Application):
    """Radicale with the bridge's answers to refused and malformed writes (see module doc)."""

    def __call__(
        self, environ: types.WSGIEnviron, start_response: types.WSGIStartResponse
    ) -> Iterable[bytes]:
        context.reset()
        return super().__call__(environ, start_response)

    def _refused(self, refusal: DavRefused, request_info: dict[str, Any]) -> types.WSGIResponse:
        headers = {"Content-Type": f"text/xml; charset={self._encoding}"}
        body = self._xml_response(refusal_body(refusal), request_info)
        return refusal.status, headers, body, None

    def _guarded(
        self,
        handler: Handler,
        environ: types.WSGIEnviron,
        base_prefix: str,
        path: str,
        user: str,
        user_groups: set[str],
        request_info: dict[str, Any],
    ) -> types.WSGIResponse:
        state = context.state()
        state.refusal, state.rewritten = None, False
        try:
            response = handler(environ, base_prefix, path, user, user_groups, request_info)
        except Rejected as exc:
            return self._refused(exc.refusal, request_info)
        if state.refusal is not None:
            return self._refused(state.refusal, request_info)
        return response

    def do_PUT(
        self,
        environ: types.WSGIEnviron,
        base_prefix: str,
        path: str,
        user: str,
        user_groups: set[str],
        request_info: dict[str, Any],
    ) -> types.WSGIResponse:
        try:
            body = httputils.read_raw_request_body(self.configuration, environ)
        except RuntimeError as exc:
            return httputils.bad_request(str(exc))
        if len(split(path)) == ITEM_DEPTH and len(body) > self._max_resource_size:
            return self._too_large()  # no need to parse it first
        cast(dict[str, Any], environ)["wsgi.input"] = io.BytesIO(body)
        status, headers, answer, xml_request = self._guarded(
            super().do_PUT, environ, base_prefix, path, user, user_groups, request_info
        )
        state = context.state()
        if status == client.PRECONDITION_FAILED and len(body) > self._max_resource_size:
            return self._too_large()  # an item of a whole calendar's PUT
        if status == client.BAD_REQUEST and state.refusal is None:
            problem = InvalidCalendarData(self._parse_problem(environ, body))
            return self._refused(problem, request_info)
        if status in (client.CREATED, client.NO_CONTENT) and state.rewritten:
            headers = {k: v for k, v in dict(headers).items() if k.lower() != "etag"}
        return status, headers, answer, xml_request

    def _too_large(self) -> types.WSGIResponse:
        return (
            client.REQUEST_ENTITY_TOO_LARGE,
            {"Content-Type": "text/plain"},
            f"Request body too large: a calendar object may have at most "
            f"{self._max_resource_size} bytes.",
            None,
        )

    def _parse_problem(self, environ: types.WSGIEnviron, body: bytes) -> str:
        """Why Radicale could not use a PUT body, in the parser's words."""
        try:
            text = httputils.decode_request(self.configuration, environ, body)
        except UnicodeDecodeError as exc:
            return f"the body is not text: {exc}"
        try:
            components = radicale.item.read_components(text)
        except Exception as exc:  # noqa: BLE001 - vobject raises many kinds
            return f"not valid iCalendar: {exc}"
        if not components:
            return "the body is empty: expected one iCalendar object (BEGIN:VCALENDAR)"
        tag = radicale.item.predict_tag_of_whole_collection(components) or ""
        try:
            radicale.item.check_and_sanitize_items(
                components,
                max_vevent_rrule_occurrence=self._max_vevent_rrule_occurrence,
                is_collection=len(components) != 1,
                tag=tag,
            )
            for component in components:
                radicale.item.Item(collection_path="", vobject_item=component).prepare()
        except Exception as exc:  # noqa: BLE001 - as above
            return str(exc)
        return "the body is not a calendar object this collection accepts"

    def do_DELETE(self, *args: Any) -> types.WSGIResponse:
        return self._guarded(super().do_DELETE, *args)

    def do_MOVE(self, *args: Any) -> types.WSGIResponse:
        return self._guarded(super().do_MOVE, *args)

    def do_MKCALENDAR(self, *args: Any) -> types.WSGIResponse:
        return self._guarded(super().do_MKCALENDAR, *args)

    def do_MKCOL(self, *args: Any) -> types.WSGIResponse:
        return self._guarded(super().do_MKCOL, *args)

    def do_PROPPATCH(self, *args: Any) -> types.WSGIResponse:
        return self._guarded(super().do_PROPPATCH, *args)
