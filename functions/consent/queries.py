"""Query-string and path inputs of the consent API, validated like bodies."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from core import problems
from core.problems import FieldError
from functions.consent.models import PurposeId, SubjectId, VisitorId

_subject = TypeAdapter(SubjectId)
_purpose = TypeAdapter(PurposeId)


@dataclass(frozen=True)
class ServerCheckQuery:
    subject_id: str
    purpose: str

    @classmethod
    def parse(cls, subject: str | None, purpose: str | None) -> ServerCheckQuery:
        errors = []
        for name, value, adapter in (("subject", subject, _subject), ("purpose", purpose, _purpose)):
            if value is None:
                errors.append(FieldError(f"query/{name}", "is required"))
                continue
            try:
                adapter.validate_python(value)
            except ValidationError:
                errors.append(FieldError(f"query/{name}", "has an invalid format"))
        if errors:
            raise problems.validation_failed(errors)
        assert subject is not None
        assert purpose is not None
        return cls(subject, purpose)


_visitor = TypeAdapter(VisitorId)


def visitor_subject(visitor_id: str) -> str:
    """The ledger subject of a visitor id taken from a path; 422 when it is not a visitor id."""
    try:
        _visitor.validate_python(visitor_id)
    except ValidationError:
        raise problems.validation_failed(
            [FieldError("path/visitorId", "must be 16-64 characters of A-Z a-z 0-9 _ -")]
        ) from None
    return f"visitor:{visitor_id}"
