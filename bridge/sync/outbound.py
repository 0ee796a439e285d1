"""A booking as it is written to an external calendar.

The summary names the service and the client, the description carries the client's contact
details and where the booking is managed; the event is in the provider's time zone and never
has attendees, so no calendar system sends the client an invitation.
"""

from __future__ import annotations

from bridge.connectors.base import OutboundEvent
from bridge.store.models import Booking, Provider


def manage_url(base_url: str, provider: Provider, booking: Booking) -> str:
    """Where the provider manages ``booking`` (the API resource until the dashboard exists)."""
    return f"{base_url.rstrip('/')}/api/v1/providers/{provider.slug}/bookings/{booking.id}"


def outbound_event(booking: Booking, provider: Provider, base_url: str) -> OutboundEvent:
    """The event of ``booking`` for an external calendar.

    Args:
        booking: the booking (its service is loaded through the relationship).
        provider: its provider (time zone, slug).
        base_url: the public base URL of the bridge.
    """
    lines = [f"Client: {booking.client_name}", f"E-mail: {booking.client_email}"]
    if booking.client_phone:
        lines.append(f"Phone: {booking.client_phone}")
    if booking.client_notes:
        lines += ["", "Notes:", booking.client_notes]
    lines += [
        "",
        f"Booked through Calendar Bridge (booking {booking.id}).",
        f"Manage this booking: {manage_url(base_url, provider, booking)}",
        "Moving this event reschedules the booking; deleting it cancels the booking.",
    ]
    return OutboundEvent(
        booking_uid=booking.uid,
        summary=f"{booking.service.name}: {booking.client_name}",
        description="\n".join(lines),
        start=booking.start_at,
        end=booking.end_at,
        time_zone=provider.time_zone,
    )
