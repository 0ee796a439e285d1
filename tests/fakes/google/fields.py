"""Partial responses: the ``fields`` parameter (``items(id,status),nextSyncToken``).

Syntax per https://developers.google.com/workspace/calendar/api/guides/performance#partial-response:
comma-separated selectors, ``a/b`` for a sub-field, ``a(b,c)`` for several, ``*`` for all.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid_parameter

Selection = dict[str, "Selection | None"]  # None: the whole value


def parse(text: str) -> Selection:
    """Parse a ``fields`` value.

    Raises:
        ApiError: 400 for a malformed value.
    """
    selection, rest = _parse_list(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")) or not selection:
        raise invalid_parameter("fields", f"Invalid field selection {text}")
    return selection


def _parse_list(text: str, pos: int) -> tuple[Selection, int]:
    selection: Selection = {}
    while True:
        start = pos
        while pos < len(text) and text[pos] not in ",()":
            pos += 1
        path = text[start:pos]
        if not path:
            raise invalid_parameter("fields", f"Invalid field selection {text}")
        sub: Selection | None = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse_list(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise invalid_parameter("fields", f"Invalid field selection {text}")
            pos += 1
        _add(selection, path.split("/"), sub)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        return selection, pos


def _add(selection: Selection, parts: list[str], sub: Selection | None) -> None:
    head, rest = parts[0], parts[1:]
    if not head:
        raise invalid_parameter("fields", "Invalid field selection")
    if not rest:
        existing = selection.get(head)
        if head in selection and existing is None:
            return  # the whole value is selected already
        if sub is None or existing is None:
            selection[head] = sub
        else:
            existing.update(sub)
        return
    child = selection.get(head)
    if head in selection and child is None:
        return
    if child is None:
        child = {}
        selection[head] = child
    _add(child, rest, sub)


def apply(value: Any, selection: Selection | None) -> Any:
    """Keep only the selected parts of a JSON value."""
    if selection is None or "*" in selection and len(selection) == 1:
        return value
    if isinstance(value, list):
        return [apply(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in selection:
        return {k: apply(v, selection.get(k)) for k, v in value.items()}
    return {k: apply(value[k], sub) for k, sub in selection.items() if k in value}
