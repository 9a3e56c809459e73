"""Path, header and caller inputs of the consent and cookie APIs, validated like bodies (422 by path)."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from core import problems
from core.errors import FieldError
from core.http import RequestContext
from core.openapi import Header
from core.pseudonyms import truncate_ip
from functions.consent.decisions import Caller
from functions.consent.models import IDEMPOTENCY_PATTERN, IdempotencyKey, SubjectId, VisitorId

IDEMPOTENCY_HEADER = Header(
    "Idempotency-Key",
    "Retry-safe key: the same key never records twice.",
    {"type": "string", "pattern": IDEMPOTENCY_PATTERN},
)


@cache
def _adapter(kind: str) -> TypeAdapter[Any]:
    """Built on first use: schema building at import would slow every cold start."""
    return TypeAdapter({"subject": SubjectId, "visitor": VisitorId, "idempotency": IdempotencyKey}[kind])


def _valid(kind: str, value: str, path: str, message: str) -> str:
    try:
        return str(_adapter(kind).validate_python(value))
    except ValidationError:
        raise problems.validation_failed([FieldError(path, message)]) from None


def visitor_subject(visitor_id: str) -> str:
    """The ledger subject of a visitor id taken from a path; 422 when it is not a visitor id."""
    return "visitor:" + _valid("visitor", visitor_id, "path/visitorId", "must be 16-64 characters of A-Z a-z 0-9 _ -")


def subject_from_path(subject_id: str) -> str:
    return _valid("subject", subject_id, "path/subjectId", "must be user:<sub> or visitor:<id>")


def idempotency_key(ctx: RequestContext) -> str:
    """The caller's retry key, or a fresh one (then a retry records again: the caller chose so)."""
    supplied = ctx.header("idempotency-key")
    if supplied is None:
        return uuid.uuid4().hex
    return _valid("idempotency", supplied, "header/Idempotency-Key", "must be 8-128 characters of A-Z a-z 0-9 _ . : -")


def caller_of(ctx: RequestContext, jurisdiction: str | None) -> Caller:
    """What proof of consent keeps of the caller: the IP's network (never the address), the agent."""
    return Caller(truncate_ip(ctx.client_ip()), ctx.header("user-agent"), jurisdiction)
