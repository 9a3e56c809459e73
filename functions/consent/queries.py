"""Query-string, path and caller inputs of the consent API, validated like bodies."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pydantic import TypeAdapter, ValidationError

from core import problems
from core.http import RequestContext
from core.problems import FieldError
from core.pseudonyms import truncate_ip
from functions.consent.decisions import Caller
from functions.consent.models import PurposeId, SubjectId, VisitorId


@cache
def _adapter(kind: str) -> TypeAdapter[str]:
    """Built on first use: schema building at import would slow every cold start."""
    return TypeAdapter({"subject": SubjectId, "purpose": PurposeId, "visitor": VisitorId}[kind])


@dataclass(frozen=True)
class ServerCheckQuery:
    subject_id: str
    purpose: str

    @classmethod
    def parse(cls, subject: str | None, purpose: str | None) -> ServerCheckQuery:
        errors = []
        for name, value in (("subject", subject), ("purpose", purpose)):
            if value is None:
                errors.append(FieldError(f"query/{name}", "is required"))
                continue
            try:
                _adapter(name).validate_python(value)
            except ValidationError:
                errors.append(FieldError(f"query/{name}", "has an invalid format"))
        if errors:
            raise problems.validation_failed(errors)
        assert subject is not None
        assert purpose is not None
        return cls(subject, purpose)


def visitor_subject(visitor_id: str) -> str:
    """The ledger subject of a visitor id taken from a path; 422 when it is not a visitor id."""
    try:
        _adapter("visitor").validate_python(visitor_id)
    except ValidationError:
        raise problems.validation_failed(
            [FieldError("path/visitorId", "must be 16-64 characters of A-Z a-z 0-9 _ -")]
        ) from None
    return f"visitor:{visitor_id}"


def caller_of(ctx: RequestContext, jurisdiction: str | None) -> Caller:
    """What proof of consent keeps of the caller: the IP's network (never the address), the agent."""
    return Caller(truncate_ip(ctx.client_ip()), ctx.header("user-agent"), jurisdiction)
