"""The stored form of a Google connection's OAuth tokens, and google-auth credentials from it.

The connection row keeps this JSON (encrypted by the caller)::

    {"refresh_token": "1//0g…", "access_token": "ya29.…" | null,
     "expiry": "2026-06-01T07:00:00Z" | null, "scopes": ["https://www.googleapis.com/auth/calendar"]}

``expiry`` is the access token's, in UTC. The refresh token is what matters: the access token
is a cache that google-auth renews when it is missing or about to expire.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from google.oauth2.credentials import Credentials

from bridge.connectors.errors import NeedsReauth
from bridge.settings import Settings


@dataclasses.dataclass(frozen=True, repr=False)
class GoogleTokens:
    """A connection's tokens; ``repr`` never shows them.

    Attributes:
        refresh_token: the long-lived grant.
        access_token: the current access token, if one was issued.
        expiry: when ``access_token`` expires (aware UTC), if known.
        scopes: the scopes granted.
    """

    refresh_token: str
    access_token: str | None
    expiry: dt.datetime | None
    scopes: tuple[str, ...]

    def __repr__(self) -> str:
        return f"GoogleTokens(<hidden>, expiry={self.expiry!r}, scopes={self.scopes!r})"

    def to_json(self) -> str:
        expiry = None
        if self.expiry is not None:
            expiry = self.expiry.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.dumps(
            {
                "refresh_token": self.refresh_token,
                "access_token": self.access_token,
                "expiry": expiry,
                "scopes": list(self.scopes),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> GoogleTokens:
        """Parse the stored JSON.

        Raises:
            NeedsReauth: it is not what :meth:`to_json` writes (nothing to connect with).
        """
        try:
            data = json.loads(text)
            refresh_token = data["refresh_token"]
            access_token = data.get("access_token")
            scopes = data.get("scopes") or []
            if not isinstance(refresh_token, str) or not refresh_token:
                raise ValueError("no refresh token")
            if access_token is not None and not isinstance(access_token, str):
                raise ValueError("access_token is not a string")
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                raise ValueError("scopes is not a list of strings")
            expiry = _parse_expiry(data.get("expiry"))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NeedsReauth(f"the stored Google credentials are unusable ({exc})") from None
        return cls(refresh_token, access_token, expiry, tuple(scopes))

    @classmethod
    def from_google(cls, credentials: Credentials) -> GoogleTokens:
        """The tokens google-auth holds now.

        Raises:
            NeedsReauth: the credentials carry no refresh token.
        """
        refresh_token = credentials.refresh_token
        if not refresh_token:
            raise NeedsReauth("the Google credentials carry no refresh token")
        expiry: dt.datetime | None = credentials.expiry
        if expiry is not None:
            # google-auth keeps expiry as naive UTC.
            expiry = expiry.replace(tzinfo=dt.UTC)
        return cls(refresh_token, credentials.token, expiry, tuple(credentials.scopes or ()))

    def to_google(self, settings: Settings) -> Credentials:
        """google-auth credentials that renew themselves at ``settings.google_token_uri``."""
        secret = settings.google_client_secret
        expiry = None
        if self.expiry is not None:
            expiry = self.expiry.astimezone(dt.UTC).replace(tzinfo=None)
        return Credentials(  # type: ignore[no-untyped-call]
            token=self.access_token,
            refresh_token=self.refresh_token,
            token_uri=settings.google_token_uri,
            client_id=settings.google_client_id,
            client_secret=secret.value if secret is not None else None,
            scopes=list(self.scopes) or None,
            expiry=expiry,
        )


def _parse_expiry(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("expiry is not a string")
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
