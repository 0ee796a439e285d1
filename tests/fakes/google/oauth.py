"""Google's OAuth 2.0 endpoints: consent (``/o/oauth2/auth``), ``/token`` and ``/revoke``.

Behaviour per https://developers.google.com/identity/protocols/oauth2/web-server: the consent
endpoint approves at once for the fake's ``consenting_account``; a refresh token is issued only
with ``access_type=offline`` and only on the account's first consent for this client or with
``prompt=consent``; PKCE (RFC 7636) is checked; a revoked or unknown refresh token answers
400 ``invalid_grant``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
import urllib.parse
from typing import Any

from .accounts import FakeAccount
from .errors import OAuthError, auth_error
from .state import State

logger = logging.getLogger(__name__)

SCOPE_PREFIX = "https://www.googleapis.com/auth/"
_PLAIN_SCOPES = ("openid", "email", "profile")
CODE_LIFETIME = dt.timedelta(minutes=10)
REVOKED_MESSAGE = "Token has been expired or revoked."


@dataclasses.dataclass(eq=False)
class RefreshToken:
    token: str
    account: FakeAccount
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclasses.dataclass(eq=False)
class AccessToken:
    token: str
    account: FakeAccount
    scopes: tuple[str, ...]
    expires_at: dt.datetime
    refresh: RefreshToken | None
    revoked: bool = False


@dataclasses.dataclass(eq=False)
class AuthCode:
    account: FakeAccount
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    method: str
    refresh: bool
    expires_at: dt.datetime
    used: bool = False


@dataclasses.dataclass
class Redirect:
    """The consent endpoint's answer: a 302 to ``location``."""

    location: str


def _scopes(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(text.split()))


def _one(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


class OAuth:
    """Tokens and consents of one fake.

    Args:
        state: the shared state (clock, consenting account).
        client_id: the one registered client.
        client_secret: its secret.
        access_token_lifetime: seconds an access token lives (``expires_in``).
    """

    def __init__(
        self, state: State, client_id: str, client_secret: str, access_token_lifetime: int
    ) -> None:
        self._state = state
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token_lifetime = access_token_lifetime
        # None: any absolute http(s) redirect URI is registered.
        self.redirect_uris: set[str] | None = None
        self._codes: dict[str, AuthCode] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._access: dict[str, AccessToken] = {}
        self._consents: dict[str, set[str]] = {}
        self.consent_requests: list[dict[str, str]] = []

    # -- tokens ----------------------------------------------------------------------------

    def issue_refresh_token(self, account: FakeAccount, scopes: tuple[str, ...]) -> str:
        token = RefreshToken("1//" + secrets.token_urlsafe(32), account, tuple(scopes))
        self._refresh[token.token] = token
        self._consents.setdefault(account.email, set()).update(scopes)
        return token.token

    def issue_access_token(
        self,
        account: FakeAccount,
        scopes: tuple[str, ...],
        refresh: RefreshToken | None = None,
        lifetime: int | None = None,
    ) -> AccessToken:
        seconds = self.access_token_lifetime if lifetime is None else lifetime
        token = AccessToken(
            "ya29." + secrets.token_urlsafe(40),
            account,
            tuple(scopes),
            self._state.now() + dt.timedelta(seconds=seconds),
            refresh,
        )
        self._access[token.token] = token
        return token

    def revoke(self, token: str) -> bool:
        """Revoke a refresh token (and its access tokens) or an access token (and its grant)."""
        access = self._access.get(token)
        refresh = self._refresh.get(token)
        if access is not None:
            if access.revoked and (access.refresh is None or access.refresh.revoked):
                return False
            access.revoked = True
            refresh = access.refresh
            if refresh is None or refresh.revoked:
                return True
        if refresh is None or refresh.revoked:
            return False
        refresh.revoked = True
        for minted in self._access.values():
            if minted.refresh is refresh:
                minted.revoked = True
        email = refresh.account.email
        if not any(r.account.email == email and not r.revoked for r in self._refresh.values()):
            self._consents.pop(email, None)
        return True

    def authenticate(self, header: str | None) -> AccessToken:
        """The access token of an ``Authorization`` header.

        Raises:
            ApiError: 401 missing, unknown, expired or revoked.
        """
        if not header:
            raise auth_error(missing=True)
        scheme, _, value = header.partition(" ")
        token = self._access.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None or token.revoked or token.expires_at <= self._state.now():
            raise auth_error()
        return token

    # -- /o/oauth2/auth --------------------------------------------------------------------

    def authorize(self, query: dict[str, list[str]]) -> Redirect:
        """The consent endpoint.

        Raises:
            OAuthError: what Google shows as an error page (no redirect).
        """
        params = {k: v[0] for k, v in query.items()}
        self.consent_requests.append(params)
        if params.get("client_id") != self.client_id:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        redirect_uri = params.get("redirect_uri", "")
        parts = urllib.parse.urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise OAuthError(400, "invalid_request", "Invalid parameter value for redirect_uri")
        if self.redirect_uris is not None and redirect_uri not in self.redirect_uris:
            raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
        if params.get("response_type") != "code":
            raise OAuthError(400, "unsupported_response_type", "Invalid response_type")
        scopes = _scopes(params.get("scope", ""))
        if not scopes:
            raise OAuthError(400, "invalid_request", "Missing required parameter: scope")
        if any(not s.startswith(SCOPE_PREFIX) and s not in _PLAIN_SCOPES for s in scopes):
            raise OAuthError(400, "invalid_scope", "Some requested scopes were invalid.")
        access_type = params.get("access_type", "online")
        if access_type not in ("online", "offline"):
            raise OAuthError(400, "invalid_request", "Invalid access_type")
        prompt = set(params.get("prompt", "").split())
        if not prompt <= {"none", "consent", "select_account"} or (
            "none" in prompt and len(prompt) > 1
        ):
            raise OAuthError(400, "invalid_request", "Invalid prompt")
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method", "plain")
        if challenge is not None and method not in ("S256", "plain"):
            raise OAuthError(400, "invalid_request", "Invalid code_challenge_method")

        def back(**answer: str) -> Redirect:
            if "state" in params:
                answer["state"] = params["state"]
            separator = "&" if parts.query else "?"
            return Redirect(redirect_uri + separator + urllib.parse.urlencode(answer))

        account = self._state.consenting_account
        if account is None:
            return back(error="access_denied")
        granted = self._consents.get(account.email)
        if "none" in prompt and (granted is None or not set(scopes) <= granted):
            return back(error="consent_required")
        if params.get("include_granted_scopes") == "true" and granted:
            scopes = tuple(dict.fromkeys([*scopes, *sorted(granted)]))
        refresh = access_type == "offline" and (granted is None or "consent" in prompt)
        self._consents.setdefault(account.email, set()).update(scopes)
        code = "4/0" + secrets.token_urlsafe(32)
        self._codes[code] = AuthCode(
            account,
            redirect_uri,
            scopes,
            challenge,
            method,
            refresh,
            self._state.now() + CODE_LIFETIME,
        )
        return back(code=code, scope=" ".join(scopes))

    # -- /token ----------------------------------------------------------------------------

    def token(self, form: dict[str, list[str]], authorization: str | None) -> dict[str, Any]:
        """The token endpoint (authorization_code and refresh_token grants).

        Raises:
            OAuthError: 400/401 with Google's ``error`` codes.
        """
        self._check_client(form, authorization)
        grant_type = _one(form, "grant_type")
        if grant_type == "authorization_code":
            return self._exchange(form)
        if grant_type == "refresh_token":
            return self._refresh_grant(form)
        if grant_type is None:
            raise OAuthError(400, "invalid_request", "Missing required parameter: grant_type")
        raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _check_client(self, form: dict[str, list[str]], authorization: str | None) -> None:
        client_id, secret = _one(form, "client_id"), _one(form, "client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except ValueError:
                raise OAuthError(401, "invalid_client", "Unauthorized") from None
            user, _, password = decoded.partition(":")
            client_id, secret = urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password)
        if client_id is None:
            raise OAuthError(400, "invalid_request", "Could not determine client ID from request.")
        if client_id != self.client_id:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if secret != self.client_secret:
            raise OAuthError(401, "invalid_client", "Unauthorized")

    def _exchange(self, form: dict[str, list[str]]) -> dict[str, Any]:
        code = self._codes.get(_one(form, "code") or "")
        if code is None or code.used or code.expires_at <= self._state.now():
            raise OAuthError(400, "invalid_grant", "Malformed auth code.")
        if _one(form, "redirect_uri") != code.redirect_uri:
            raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
        verifier = _one(form, "code_verifier")
        if code.challenge is None:
            if verifier is not None:
                raise OAuthError(400, "invalid_request", "code_verifier or verifier is not needed.")
        elif verifier is None:
            raise OAuthError(400, "invalid_grant", "Missing code verifier.")
        else:
            expected = verifier
            if code.method == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if not secrets.compare_digest(expected, code.challenge):
                raise OAuthError(400, "invalid_grant", "Invalid code verifier.")
        code.used = True
        refresh = None
        if code.refresh:
            refresh = RefreshToken("1//" + secrets.token_urlsafe(32), code.account, code.scopes)
            self._refresh[refresh.token] = refresh
        access = self.issue_access_token(code.account, code.scopes, refresh)
        answer = self._access_answer(access)
        if refresh is not None:
            answer["refresh_token"] = refresh.token
        logger.info("fake Google: consent code exchanged for %s", code.account.email)
        return answer

    def _refresh_grant(self, form: dict[str, list[str]]) -> dict[str, Any]:
        refresh = self._refresh.get(_one(form, "refresh_token") or "")
        if refresh is None or refresh.revoked:
            raise OAuthError(400, "invalid_grant", REVOKED_MESSAGE)
        scopes = refresh.scopes
        requested = _one(form, "scope")
        if requested:
            if not set(_scopes(requested)) <= set(refresh.scopes):
                raise OAuthError(400, "invalid_scope", "Bad Request")
            scopes = _scopes(requested)
        return self._access_answer(self.issue_access_token(refresh.account, scopes, refresh))

    def _access_answer(self, access: AccessToken) -> dict[str, Any]:
        return {
            "access_token": access.token,
            "expires_in": self.access_token_lifetime,
            "scope": " ".join(access.scopes),
            "token_type": "Bearer",
        }

    # -- /revoke ---------------------------------------------------------------------------

    def revoke_endpoint(self, form: dict[str, list[str]]) -> dict[str, Any]:
        """POST /revoke with ``token=``.

        Raises:
            OAuthError: 400 ``invalid_token`` for an unknown or already revoked token.
        """
        token = _one(form, "token")
        if not token or not self.revoke(token):
            raise OAuthError(400, "invalid_token", "Token expired or revoked")
        return {}
