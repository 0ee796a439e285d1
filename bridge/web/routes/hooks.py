"""``POST /hooks/google``: Google's push notifications for the calendars we watch.

A notification says only that something changed (its body is empty): the answer is a pull of
that calendar. The channel id and its secret token (stored hashed) must match a live channel,
otherwise the answer is a bare 404, the same as an unknown path. A ``sync`` message (sent when a
channel starts) needs nothing; ``exists`` and ``not_exists`` record that the calendar wants a
pull (``pull_requested_at``, which the next pull clears) and wake this process's pull of it. The
answer comes at once; the pull runs in the background, and a burst of messages gives one or two
pulls, not one per message.

See https://developers.google.com/workspace/calendar/api/guides/push.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Response
from starlette.exceptions import HTTPException

from bridge.web.sync_deps import EngineDep, SchedulerDep, ask_for_pull

logger = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"], include_in_schema=False)  # for Google, not API clients

_CHANGED = frozenset({"exists", "not_exists"})


@router.post(
    "/hooks/google",
    status_code=200,
    response_class=Response,
    responses={200: {"description": "Taken"}, 404: {"description": "Unknown channel"}},
)
def google_notification(
    engine: EngineDep,
    scheduler: SchedulerDep,
    x_goog_channel_id: Annotated[str | None, Header()] = None,
    x_goog_channel_token: Annotated[str | None, Header()] = None,
    x_goog_resource_state: Annotated[str | None, Header()] = None,
    x_goog_message_number: Annotated[str | None, Header()] = None,
) -> Response:
    """A Google Calendar push notification (headers only; the body is empty)."""
    if not x_goog_channel_id:
        raise HTTPException(404)
    calendar_id = engine.check_channel(x_goog_channel_id, x_goog_channel_token)
    if calendar_id is None:
        logger.debug("Push notification for an unknown channel refused")
        raise HTTPException(404)
    logger.debug(
        "Push notification %s (%s) for calendar %s",
        x_goog_message_number,
        x_goog_resource_state,
        calendar_id,
    )
    if x_goog_resource_state in _CHANGED:
        ask_for_pull(engine, scheduler, calendar_id)
    return Response(status_code=200)
