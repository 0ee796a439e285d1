"""Typed settings: defaults, then a TOML file, then ``BRIDGE_*`` environment variables.

The file is ``$BRIDGE_CONFIG`` if set, else ``config/bridge.toml`` in the working directory if it
exists. ``config/bridge.example.toml`` lists every option with its default. Command-line flags
(``bridge serve --port``) override all three. A bad value raises :class:`ConfigError` naming the
option and where the value came from.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bridge.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("config/bridge.toml")
MIN_SECRET_KEY_LENGTH = 32
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


@dataclasses.dataclass(frozen=True)
class SecretKeys:
    """The application's secret keys, newest first; ``repr`` and ``str`` never show them.

    The first key encrypts; every key decrypts (see :mod:`bridge.keys`).
    """

    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("at least one secret key is needed")

    def __repr__(self) -> str:
        return f"SecretKeys(<{len(self.keys)} hidden>)"

    __str__ = __repr__


def _to_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {value!r}")


def _to_port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be 0-65535, got {port}")
    return port


def _to_public_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"expected an absolute http(s) URL, got {value!r}")
    return value.rstrip("/")


def _to_log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError(f"expected DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return level


def _to_secret_keys(value: str) -> SecretKeys:
    # The messages never quote the value: it is a secret.
    keys = tuple(part.strip() for part in value.split(","))
    if any(not key for key in keys):
        raise ValueError("expected keys separated by commas, newest first; an entry is empty")
    for position, key in enumerate(keys, start=1):
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"key {position} has {len(key)} characters; each key needs at least "
                f"{MIN_SECRET_KEY_LENGTH} (make one with: python -c "
                "'import secrets; print(secrets.token_urlsafe(32))')"
            )
    return SecretKeys(keys)


@dataclasses.dataclass(frozen=True)
class Secret:
    """A secret setting (an OAuth client secret); ``repr`` and ``str`` never show it."""

    value: str

    def __repr__(self) -> str:
        return "Secret(<hidden>)"

    __str__ = __repr__


def _to_secret(value: str) -> Secret:
    return Secret(value.strip())


def _to_seconds(value: str) -> float:
    seconds = float(value)
    if not seconds > 0:
        raise ValueError(f"expected a positive number of seconds, got {value!r}")
    return seconds


def _to_positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"expected a whole number of at least 1, got {value!r}")
    return number


def _to_share(value: str) -> float:
    share = float(value)
    if not 0 < share <= 1:
        raise ValueError(f"expected a share above 0 and at most 1 (e.g. 0.5), got {value!r}")
    return share


def _one_of(*choices: str) -> Callable[[str], str]:
    def convert(value: str) -> str:
        choice = value.strip().lower()
        if choice not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
        return choice

    return convert


def _to_endpoint(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"expected an absolute http(s) URL, got {value!r}")
    return value


def _optional(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda value: None if value == "" else convert(value)


@dataclasses.dataclass(frozen=True)
class Option:
    name: str
    convert: Callable[[str], Any]
    help: str


OPTIONS: tuple[Option, ...] = (
    Option("data_dir", Path, "Directory for the embedded SQLite database and key files."),
    Option(
        "database_url",
        _optional(str),
        "SQLAlchemy URL; empty means SQLite at <data_dir>/bridge.sqlite3. "
        "PostgreSQL: postgresql+psycopg://user:password@host/dbname",
    ),
    Option(
        "public_url",
        _optional(_to_public_url),
        "Base URL users reach the server at; every absolute link is built from it. "
        "Empty means the address `bridge serve` binds.",
    ),
    Option("host", str, "Address `bridge serve` binds."),
    Option("port", _to_port, "Port `bridge serve` binds (0 picks a free one)."),
    Option("log_level", _to_log_level, "DEBUG, INFO, WARNING or ERROR."),
    Option(
        "secret_key",
        _optional(_to_secret_keys),
        "The application secret (at least 32 characters; several, comma-separated, newest "
        "first, while rotating). Empty means <data_dir>/secret.key, created on first use, on "
        "the embedded default; required with database_url.",
    ),
    Option(
        "google_client_id",
        _optional(str),
        "OAuth client id of your Google Cloud project (a web application client). Empty: "
        "Google Calendar cannot be connected.",
    ),
    Option(
        "google_client_secret",
        _optional(_to_secret),
        "OAuth client secret that goes with google_client_id.",
    ),
    Option(
        "google_api_endpoint",
        _to_endpoint,
        "Base URL of the Google Calendar API, service path included (change only for a "
        "gateway or a test server).",
    ),
    Option("google_auth_uri", _to_endpoint, "Google's OAuth authorisation endpoint."),
    Option("google_token_uri", _to_endpoint, "Google's OAuth token endpoint."),
    Option("google_revoke_uri", _to_endpoint, "Google's OAuth token revocation endpoint."),
    Option(
        "sync_poll_interval",
        _to_seconds,
        "Seconds between pulls of each connected calendar (push notifications come between).",
    ),
    Option(
        "sync_retry_interval",
        _to_seconds,
        "Seconds between scans for calendar writes that are due for a retry.",
    ),
    Option(
        "sync_max_backoff",
        _to_seconds,
        "Longest wait, in seconds, between two retries of a failing calendar write or pull.",
    ),
    Option(
        "sync_stale_after",
        _to_seconds,
        "A conflict calendar not synced for this many seconds counts as stale (see "
        "stale_calendar_policy).",
    ),
    Option(
        "stale_calendar_policy",
        _one_of("hide", "warn"),
        "What the booking page does when a conflict calendar is stale or needs "
        "re-authorisation: hide the slots it could affect, or offer them with a warning.",
    ),
    Option(
        "unanswered_invitations",
        _one_of("busy", "free"),
        "Whether invitations the provider has not answered block slots (declined ones never do).",
    ),
    Option(
        "free_busy_timeout",
        _to_seconds,
        "Seconds the live free/busy check at booking time may take before the stale rule applies.",
    ),
    Option(
        "connector_timeout",
        _to_seconds,
        "Seconds an HTTP request to an external calendar may take.",
    ),
    Option(
        "push_channel_ttl",
        _to_seconds,
        "Lifetime, in seconds, asked for push notification channels.",
    ),
    Option(
        "push_renew_margin",
        _to_seconds,
        "A push channel is replaced this many seconds before it expires.",
    ),
    Option(
        "breaker_max_cancellations",
        _to_positive_int,
        "A pull that would cancel more bookings than this is held for the provider to confirm.",
    ),
    Option(
        "breaker_max_share",
        _to_share,
        "A pull that would cancel more than this share of a provider's upcoming bookings (and at "
        "least 3) is held for the provider to confirm.",
    ),
    Option(
        "recurrence_horizon_days",
        _to_positive_int,
        "How far ahead, in days, recurring external events are expanded into busy time.",
    ),
)


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str | None = None
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    secret_key: SecretKeys | None = None
    google_client_id: str | None = None
    google_client_secret: Secret | None = None
    google_api_endpoint: str = "https://www.googleapis.com/calendar/v3/"
    google_auth_uri: str = "https://accounts.google.com/o/oauth2/auth"
    google_token_uri: str = "https://oauth2.googleapis.com/token"
    google_revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    sync_poll_interval: float = 300.0
    sync_retry_interval: float = 10.0
    sync_max_backoff: float = 3600.0
    sync_stale_after: float = 1800.0
    stale_calendar_policy: str = "hide"
    unanswered_invitations: str = "busy"
    free_busy_timeout: float = 2.0
    connector_timeout: float = 20.0
    push_channel_ttl: float = 604800.0
    push_renew_margin: float = 86400.0
    breaker_max_cancellations: int = 5
    breaker_max_share: float = 0.5
    recurrence_horizon_days: int = 400

    @property
    def google_enabled(self) -> bool:
        """Whether Google Calendar can be connected (its OAuth client is configured)."""
        return bool(self.google_client_id and self.google_client_secret)

    @property
    def is_embedded(self) -> bool:
        """True when running on the embedded SQLite default."""
        return self.database_url is None

    @property
    def effective_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'bridge.sqlite3').resolve()}"

    @property
    def effective_public_url(self) -> str:
        """``public_url``, else ``http://<host>:<port>`` (a wildcard host as loopback)."""
        if self.public_url is not None:
            return self.public_url
        host = _WILDCARD_HOSTS.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with the non-``None`` values of ``changes`` applied."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _apply(values: dict[str, Any], option: Option, raw: object, source: str) -> None:
    try:
        values[option.name] = option.convert(str(raw))
    except (ValueError, TypeError) as exc:
        raise ConfigError(option.name, source, str(exc)) from exc


def load_settings(
    environ: Mapping[str, str] | None = None, config_file: Path | None = None
) -> Settings:
    """Build :class:`Settings` from defaults, the config file and the environment.

    Raises:
        ConfigError: a value does not convert, or the file names an unknown option.
    """
    env = os.environ if environ is None else environ
    if config_file is None:
        explicit = env.get("BRIDGE_CONFIG")
        config_file = Path(explicit) if explicit else DEFAULT_CONFIG_FILE
        if not explicit and not config_file.exists():
            config_file = None
    values: dict[str, Any] = {}
    by_name = {option.name: option for option in OPTIONS}
    if config_file is not None:
        try:
            document = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError("BRIDGE_CONFIG", str(config_file), f"cannot read: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("BRIDGE_CONFIG", str(config_file), f"invalid TOML: {exc}") from exc
        section = document.get("bridge", {})
        for key, raw in section.items():
            if key not in by_name:
                raise ConfigError(key, f"{config_file} [bridge]", "unknown option")
            _apply(values, by_name[key], raw, f"{config_file} [bridge]")
    for option in OPTIONS:
        env_name = f"BRIDGE_{option.name.upper()}"
        if env_name in env:
            _apply(values, option, env[env_name], f"environment variable {env_name}")
    return Settings(**values)
