"""Requests and responses as the fake's routes see them."""

from __future__ import annotations

import dataclasses
import json
from typing import Any


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """A request as it reached the fake.

    ``path`` is the raw (percent-encoded) path without the query; ``query`` maps each
    parameter to its values; ``headers`` has lower-case names; ``body`` is the decoded body.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


@dataclasses.dataclass
class Response:
    """What a route answers: a JSON value (None: empty body), status and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False).encode()
