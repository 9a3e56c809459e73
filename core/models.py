"""The three kinds of pydantic models, each declared once with camelCase names on the wire.

- :class:`Body`: what a caller sends. Strict: ``"yes"`` is not a boolean and ``0`` is not ``false``;
  unknown fields are refused; names are the camelCase ones the OpenAPI document shows.
- :class:`View`: what the API answers; built from domain objects by attribute name.
- :class:`StoredDocument`: a document as it lives in Cosmos DB.

Schemas are built on first use (``defer_build``): building them at import would slow every cold start.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, PrivateAttr, StringConstraints
from pydantic.alias_generators import to_camel


def _in_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a time must carry its offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is in year 10000 in UTC, which no datetime holds
        raise ValueError("a time must fall between the years 1 and 9999 in UTC") from None


def _naive_is_utc(moment: datetime) -> datetime:
    return _in_utc(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))


# Stored times are UTC, so their ISO text ("...Z") sorts like time in queries. A ValueError here is a
# 422 at the edge, for any field of this type: the whole range of input is answered, never a 500.
UtcDateTime = Annotated[datetime, AfterValidator(_in_utc)]
# For query filters, where a time without an offset means UTC.
UtcAssumedDateTime = Annotated[datetime, AfterValidator(_naive_is_utc)]


def _deliverable_address(value: str) -> str:
    """Syntax only, no DNS: the address as the mail service will take it (no numeric top-level
    domain, labels of at most 63 characters, no control characters, an ASCII local part)."""
    from email_validator import EmailNotValidError, validate_email  # deferred: only callers that send mail

    try:
        return validate_email(value, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError:
        raise ValueError("is not an address mail can be delivered to") from None


EmailAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_deliverable_address)
]


def utc_text(moment: datetime) -> str:
    """A time as stored documents hold it (pydantic's JSON form of a UTC datetime)."""
    text = _in_utc(moment).replace(tzinfo=None).isoformat()
    return f"{text}Z"


class Body(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        defer_build=True,
    )


class View(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        from_attributes=True,
        defer_build=True,
    )


class StoredDocument(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        extra="ignore",
        validate_assignment=True,
        defer_build=True,
    )

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class VersionedDocument(StoredDocument):
    """A stored document read with its etag, so that saving it again is guarded by that etag."""

    _etag: str | None = PrivateAttr(default=None)

    @classmethod
    def from_document(cls, document: dict[str, Any], etag: str | None) -> Self:
        loaded = cls.model_validate(document)
        loaded._etag = etag
        return loaded

    @property
    def etag(self) -> str | None:
        return self._etag


class LogEntry(StoredDocument):
    """One line of a record's own history: when, who, what (never personal data in ``detail``)."""

    at: UtcDateTime
    actor: str
    action: str
    detail: str = ""


# A link shown to people (in a notice or a mail): HTTPS only, no spaces or markup characters.
HttpsLink = Annotated[str, StringConstraints(pattern=r"^https://[^\s<>\"]{1,2000}$")]
