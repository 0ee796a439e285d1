"""Calendar bridge: a booking system that keeps external calendars in two-way sync."""

__version__ = "0.1.0"
