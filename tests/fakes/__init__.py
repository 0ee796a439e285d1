"""Loopback fakes of the external services the bridge talks to."""
