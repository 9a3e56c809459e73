"""The three kinds of pydantic models, each declared once with camelCase names on the wire.

- :class:`Body`: what a caller sends. Strict: ``"yes"`` is not a boolean and ``0`` is not ``false``;
  unknown fields are refused; names are the camelCase ones the OpenAPI document shows.
- :class:`View`: what the API answers; built from domain objects by attribute name.
- :class:`StoredDocument`: a document as it lives in Cosmos DB.

Schemas are built on first use (``defer_build``): building them at import would slow every cold start.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PrivateAttr,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


def _in_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a time must carry its offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is in year 10000 in UTC, which no datetime holds
        raise ValueError("a time must fall between the years 1 and 9999 in UTC") from None


# Stored times are UTC, so their ISO text ("...Z") sorts like time in queries. A ValueError here is a
# 422 at the edge, for any field of this type: the whole range of input is answered, never a 500.
UtcDateTime = Annotated[datetime, AfterValidator(_in_utc)]


# An address as the mail service takes it, written as the one pattern the OpenAPI document carries,
# so the document and the check are one: an ASCII dot-atom local part of at most 64 characters, "@",
# and a host name of at least two labels of letters, digits and single hyphens (so never an "xn--"
# label), each at most 63 characters, ending in a top-level domain of letters that is not a
# special-use name (RFC 6761, 6762, 7686). At most 254 characters in all.
#
# Lengths are counted in the pattern itself: each repetition takes one character, a dot (or a
# hyphen) only where the next character is not one. One pattern, not one per length rule, and
# bounded repetitions: a generator that follows the document, as an API fuzzer does, then writes
# addresses that fit, where nested unbounded repetitions and separate length patterns make it
# throw most of its drafts away (too many for a list of addresses).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL_PART = rf"{_ATEXT}(?:{_ATEXT}|\.(?={_ATEXT})){{0,63}}"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,62}"
_SPECIAL_USE_DOMAINS = "arpa|invalid|local|localhost|onion|test"
# 254 characters hold at most 125 labels before the top-level domain (each with its dot).
_ADDRESS = rf"{_LOCAL_PART}@(?:{_LABEL}\.){{1,125}}(?!(?:{_SPECIAL_USE_DOMAINS})$)[A-Za-z]{{2,63}}"
EMAIL_MAX_LENGTH = 254
EMAIL_SCHEMA: dict[str, Any] = {
    "type": "string",
    "maxLength": EMAIL_MAX_LENGTH,
    "pattern": f"^{_ADDRESS}$",
    "description": "An ASCII address the mail service delivers to.",
}


def _deliverable_address(value: object) -> str:
    """Syntax only, no DNS: the pattern above (read the same way by Python and by ECMAScript: ASCII
    classes, ``$`` only after a full match), then the address as email_validator normalizes it."""
    from email_validator import EmailNotValidError, validate_email  # deferred: only callers that send mail

    if not (isinstance(value, str) and len(value) <= EMAIL_MAX_LENGTH and re.fullmatch(_ADDRESS, value)):
        raise ValueError("is not an address mail can be delivered to")
    try:
        return validate_email(value, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError:
        raise ValueError("is not an address mail can be delivered to") from None


EmailAddress = Annotated[str, BeforeValidator(_deliverable_address), WithJsonSchema(EMAIL_SCHEMA)]


# A time in a query: RFC 3339 (the JSON Schema "date-time" format), offset included. A bound beyond
# what a datetime holds once in UTC (year 9999 west of Greenwich) is the end of time, or its start.
_RFC3339 = r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})"


def _rfc3339_in_utc(value: object) -> datetime:
    if not isinstance(value, str) or not re.fullmatch(_RFC3339, value):
        raise ValueError("must be an RFC 3339 date-time with its offset, such as 2026-01-31T09:00:00Z")
    try:
        moment = datetime.fromisoformat(value.upper())
    except ValueError:
        raise ValueError("is not a date and time that exist") from None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return (datetime.max if moment.year == datetime.max.year else datetime.min).replace(tzinfo=UTC)


QueryTime = Annotated[
    datetime, BeforeValidator(_rfc3339_in_utc), WithJsonSchema({"type": "string", "format": "date-time"})
]


def utc_text(moment: datetime) -> str:
    """A time as stored documents hold it (pydantic's JSON form of a UTC datetime)."""
    text = _in_utc(moment).replace(tzinfo=None).isoformat()
    return f"{text}Z"


def readable_title(name: str, *_: object) -> str:
    """A field name as the OpenAPI document titles it: ``policy_version`` → "Policy version"."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").split()
    return " ".join([words[0].capitalize(), *(w.lower() for w in words[1:])]) if words else name


def readable_model_title(model: type) -> str:
    """``CookieChoiceRequest`` → "Cookie choice request"."""
    return readable_title(model.__name__)


class Body(BaseModel):
    model_config = ConfigDict(
        field_title_generator=readable_title,
        model_title_generator=readable_model_title,
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        defer_build=True,
    )


class View(BaseModel):
    model_config = ConfigDict(
        field_title_generator=readable_title,
        model_title_generator=readable_model_title,
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


def _whole(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The largest integer every JSON reader holds exactly, and Cosmos DB (whose numbers are doubles).
MAX_SAFE_INTEGER = 2**53 - 1

# A count, as JSON Schema has an integer: a number without a fraction, however written (2, 2.0,
# 2e0), where a strict model would refuse 2.0 for an int; still never a string or a boolean, and
# never more than a stored document keeps exactly. (The bounds go before the validator, so that the
# document says "minimum" and "maximum".)
Count = Annotated[int, Field(ge=0, le=MAX_SAFE_INTEGER), BeforeValidator(_whole)]


class OneOf:
    """Annotates a string that must be one of a set the app declares (the data inventory's
    categories, say), read on first use rather than at import: the document lists the set as an
    ``enum``, the check refuses anything else with ``message``."""

    def __init__(self, values: Callable[[], Iterable[str]], message: str) -> None:
        self._values = cache(lambda: frozenset(values()))
        self._message = message

    def _check(self, value: str) -> str:
        if value not in self._values():
            raise ValueError(self._message)
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["enum"] = sorted(self._values())
        return json_schema


# The characters Python's str.strip() removes, spelt out: ``\s`` is another set in ECMAScript (which
# the OpenAPI document's patterns are), in Python and in the Rust engine pydantic checks them with.
_WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = f"[^{_WHITESPACE}]"  # somewhere in the text, a character that is not whitespace


def _stripped(value: str) -> str:
    return value.strip()


# Free text a person writes: at most so many characters as sent, at least one of them not
# whitespace (the pattern says so), kept without the whitespace around it.
Title = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK), AfterValidator(_stripped)]
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK), AfterValidator(_stripped)
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000, pattern=NOT_BLANK), AfterValidator(_stripped)]

# A link shown to people (in a notice or a mail): HTTPS only, no whitespace or markup characters.
HttpsLink = Annotated[str, StringConstraints(pattern=f'^https://[^{_WHITESPACE}<>"]{{1,2000}}$')]
