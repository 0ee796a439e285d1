"""Connecting a Google account: the OAuth 2.0 consent flow for web server apps, with PKCE.

https://developers.google.com/identity/protocols/oauth2/web-server. The caller keeps the
``state`` and the code verifier of :func:`new_code_verifier` between :func:`consent_url` and
:func:`exchange_code` (Google refuses the exchange without the verifier that made the
challenge). The consent page always asks again (``prompt=consent``): Google sends a refresh
token only on a first consent otherwise, and a reconnect needs a new one.

oauthlib refuses plain-http endpoints; only tests set ``OAUTHLIB_INSECURE_TRANSPORT=1``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import urllib.parse
from collections.abc import Mapping
from typing import Any

import httplib2
import requests
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from bridge import clock
from bridge.connectors.errors import (
    ConnectorError,
    RateLimited,
    RemoteRejected,
    Transient,
)
from bridge.connectors.google_errors import TRANSLATED, retry_after, translate
from bridge.connectors.google_tokens import GoogleTokens
from bridge.errors import ConfigError
from bridge.settings import Settings

logger = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/calendar",)

NO_REFRESH_TOKEN = (
    "Google sent no refresh token; remove the app's access at "
    "myaccount.google.com/permissions and connect again"
)
SCOPE_NOT_GRANTED = (
    "Google did not grant access to the calendars; connect again and allow the bridge to "
    "see and edit your calendars"
)


def new_code_verifier() -> str:
    """A fresh PKCE code verifier: 86 characters of RFC 7636's unreserved alphabet."""
    return secrets.token_urlsafe(64)


def consent_url(settings: Settings, *, redirect_uri: str, state: str, code_verifier: str) -> str:
    """Google's consent page for this flow (offline access, asked again, S256 challenge).

    Args:
        settings: the OAuth client and ``google_auth_uri``.
        redirect_uri: where Google sends the browser back (registered with the client).
        state: the caller's value binding the callback to this flow.
        code_verifier: from :func:`new_code_verifier`; the URL carries its S256 challenge.

    Raises:
        ConfigError: the OAuth client is not configured, or an endpoint is not https.
    """
    flow = _flow(settings, redirect_uri, code_verifier)
    try:
        url, _ = flow.authorization_url(
            access_type="offline",
            prompt="consent",
            include_granted_scopes="true",
            state=state,
        )
    except oauth_errors.InsecureTransportError:
        raise _insecure("google_auth_uri") from None
    return str(url)


def exchange_code(settings: Settings, *, redirect_uri: str, code: str, code_verifier: str) -> str:
    """Trade the callback's authorisation code for the connection's tokens.

    Args:
        settings: the OAuth client, ``google_token_uri`` and ``connector_timeout``.
        redirect_uri: the one :func:`consent_url` was given.
        code: the callback's ``code``.
        code_verifier: the one :func:`consent_url` was given.

    Returns:
        The credentials JSON that :func:`bridge.connectors.google.from_credentials` takes.

    Raises:
        RemoteRejected: Google refused the code (used, expired, another verifier), sent no
            refresh token, or did not grant the calendar scope.
        Transient: Google's token endpoint failed or could not be reached.
        ConfigError: the OAuth client is not configured, or the endpoint is not https.
    """
    flow = _flow(settings, redirect_uri, code_verifier)
    answer: dict[str, Any] = {}

    def keep_answer(response: requests.Response) -> requests.Response:
        answer["status"] = response.status_code
        answer["headers"] = {k.lower(): v for k, v in response.headers.items()}
        return response

    flow.oauth2session.register_compliance_hook("access_token_response", keep_answer)
    outcome = "ok"
    try:
        try:
            token = flow.fetch_token(code=code, timeout=settings.connector_timeout)
        except Warning as changed:
            # oauthlib raises (not warns) when the granted scopes differ from the requested
            # ones; with include_granted_scopes Google adds earlier grants. What matters is
            # that ours are among them.
            token = getattr(changed, "token", None)
            if token is None:
                raise
        except requests.Timeout:
            raise Transient("Google's token endpoint did not answer in time") from None
        except requests.RequestException as exc:
            raise Transient(f"could not reach Google ({type(exc).__name__})") from None
        except oauth_errors.InsecureTransportError:
            raise _insecure("google_token_uri") from None
        except oauth_errors.OAuth2Error as exc:
            raise _token_error(exc, answer) from None
        return _credentials(token)
    except ConnectorError as exc:
        outcome = type(exc).__name__
        raise
    finally:
        flow.oauth2session.close()
        logger.info("Google authorisation code exchange -> %s", outcome)


def revoke(settings: Settings, credentials: str) -> None:
    """Ask Google to revoke the connection's grant; best effort, failures are only logged.

    Args:
        settings: ``google_revoke_uri`` and ``connector_timeout``.
        credentials: the connection's credentials JSON.
    """
    try:
        tokens = GoogleTokens.from_json(credentials)
    except ConnectorError as exc:
        logger.warning("Google token revocation skipped: %s", exc)
        return
    http = httplib2.Http(timeout=settings.connector_timeout)
    body = urllib.parse.urlencode({"token": tokens.refresh_token})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        response, _ = http.request(
            settings.google_revoke_uri, method="POST", body=body, headers=headers
        )
    except TRANSLATED as exc:
        logger.warning("Google token revocation failed: %s", translate(exc))
        return
    finally:
        http.close()
    if response.status == 200:
        logger.info("Google token revocation -> ok")
    else:
        # 400 invalid_token: already revoked or expired, which is what we wanted.
        logger.warning("Google token revocation -> %s", response.status)


def _flow(settings: Settings, redirect_uri: str, code_verifier: str) -> Any:
    secret = settings.google_client_secret
    if not settings.google_client_id or secret is None:
        raise ConfigError("google_client_id", "settings", "Google's OAuth client is not configured")
    config = {
        "web": {
            "client_id": settings.google_client_id,
            "client_secret": secret.value,
            "auth_uri": settings.google_auth_uri,
            "token_uri": settings.google_token_uri,
        }
    }
    return Flow.from_client_config(
        config,
        scopes=list(SCOPES),
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
        autogenerate_code_verifier=False,
    )


def _credentials(token: Mapping[str, Any]) -> str:
    refresh_token = token.get("refresh_token")
    access_token = token.get("access_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise RemoteRejected(NO_REFRESH_TOKEN)
    scope = token.get("scope") or list(SCOPES)
    granted = scope.split() if isinstance(scope, str) else [str(s) for s in scope]
    if not set(SCOPES).issubset(granted):
        raise RemoteRejected(SCOPE_NOT_GRANTED)
    expiry = None
    expires_in = token.get("expires_in")
    if isinstance(expires_in, int | float):
        expiry = clock.now() + dt.timedelta(seconds=expires_in)
    tokens = GoogleTokens(
        refresh_token=refresh_token,
        access_token=access_token if isinstance(access_token, str) else None,
        expiry=expiry,
        scopes=tuple(granted),
    )
    return tokens.to_json()


def _token_error(exc: Any, answer: Mapping[str, Any]) -> ConnectorError:
    status = answer.get("status")
    error = getattr(exc, "error", None) or type(exc).__name__
    if status == 429:
        return RateLimited(
            f"Google's token endpoint answered 429 ({error})",
            retry_after=retry_after(answer.get("headers", {})),
        )
    if isinstance(status, int) and status >= 500:
        return Transient(f"Google's token endpoint answered {status} ({error})")
    return RemoteRejected(f"Google refused the authorisation ({error}); connect again")


def _insecure(option: str) -> ConfigError:
    return ConfigError(
        option,
        "settings",
        "must be an https:// address (oauthlib refuses plain http outside tests)",
    )
