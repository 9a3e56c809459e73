"""In-memory fakes of the ports, for unit tests of logic only (integration tests use the real stand-ins).

The document store honours what the app relies on in Cosmos DB: etags change on every write, a
replace with a stale etag raises DocumentChanged, a create of an existing id raises
DocumentConflict, and queries understand exactly the SQL shapes the app sends (anything else
raises, so a new query shape is noticed here first).
"""

from __future__ import annotations

import itertools
import json
import operator
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.ports import (
    Confirmation,
    Document,
    DocumentChanged,
    DocumentConflict,
    InvalidContinuation,
    MailRejected,
    MailUnavailable,
    Page,
    Versioned,
)

_QUERY = re.compile(
    r"^SELECT (?:TOP (?P<top>\d+) )?(?P<fields>.+?) FROM c(?: WHERE (?P<where>.+?))?"
    r"(?: ORDER BY (?P<order>c\.\w+(?:\['[^']+'\])?)(?P<desc> DESC)?)?$"
)
_PATH = r"c\.\w+(?:\['[^']+'\])?(?:\.\w+)*"  # c.name, c.name['key'], c.name['key'].field
_COMPARE = re.compile(rf"^({_PATH}|LOWER\({_PATH}\)) (=|!=|<=|>=|<|>) (@\w+|true|false|'[^']*'|{_PATH})$")
_IN = re.compile(r"^(NOT \()?c\.(\w+) IN \(([^)]*)\)\)?$")
_FUNCTION = re.compile(rf"^(NOT )?(IS_STRING|IS_DEFINED)\(({_PATH})\)$")
_ARRAY_CONTAINS = re.compile(rf"^(NOT )?ARRAY_CONTAINS\((@\w+), ({_PATH})\)$")
_CONTAINED = re.compile(rf"^ARRAY_CONTAINS\(({_PATH}), (@\w+)\)$")
_STARTSWITH = re.compile(rf"^STARTSWITH\(({_PATH}), '([^']*)'\)$")
_AGGREGATE = re.compile(rf"^VALUE (COUNT\(1\)|MIN\(({_PATH})\))$")
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_MISSING = object()


def _value(doc: Document, path: str) -> Any:
    """The value at ``c.name``, ``c.name['key']`` or ``c.name['key'].field``; _MISSING when undefined
    (as Cosmos' undefined)."""
    match = re.fullmatch(r"c\.(\w+)(?:\['([^']+)'\])?((?:\.\w+)*)", path)
    assert match, path
    value: Any = doc
    for key in [match.group(1), match.group(2), *match.group(3).split(".")[1:]]:
        if key is not None:
            value = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
    return value


def _literal(token: str, parameters: Mapping[str, Any]) -> Any:
    if token.startswith("@"):
        return parameters[token]
    if token in ("true", "false"):
        return token == "true"
    return token.strip("'")


def _split(text: str, word: str) -> list[str]:
    """``text`` split at ``word`` (" AND ", " OR ") where it stands outside parentheses and quotes."""
    parts, depth, quoted, start, at = [], 0, False, 0, 0
    while at < len(text):
        char = text[at]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and text.startswith(word, at):
            parts.append(text[start:at])
            at = start = at + len(word)
            continue
        at += 1
    assert depth == 0, f"unbalanced parentheses: {text}"
    assert not quoted, f"unbalanced quotes: {text}"
    return [*parts, text[start:]]


def _enclosed(text: str) -> bool:
    """Whether the whole of ``text`` is one parenthesized group: ``(a OR b)``, not ``(a) AND (b)``."""
    if not text.startswith("("):
        return False
    depth = 0
    for at, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0:
            return at == len(text) - 1
    return False


def _where(text: str, parameters: Mapping[str, Any]) -> Callable[[Document], bool]:
    """A WHERE clause as Cosmos reads it: OR of ANDs (AND binds tighter), parentheses grouping."""
    text = text.strip()
    if _enclosed(text):
        return _where(text[1:-1], parameters)
    alternatives = _split(text, " OR ")
    if len(alternatives) > 1:
        checks = [_where(part, parameters) for part in alternatives]
        return lambda doc: any(check(doc) for check in checks)
    conditions = _split(text, " AND ")
    if len(conditions) > 1:
        checks = [_where(part, parameters) for part in conditions]
        return lambda doc: all(check(doc) for check in checks)
    return _condition(text, parameters)


def _condition(text: str, parameters: Mapping[str, Any]) -> Callable[[Document], bool]:
    text = text.strip()
    if text == "1 = 1":
        return lambda doc: True
    if match := _COMPARE.match(text):
        path, op, token = match.groups()
        other, compare = token.startswith("c."), _OPERATORS[op]  # another field of the same item
        value = None if other else _literal(token, parameters)
        lowered = path.startswith("LOWER(")
        path = path.removeprefix("LOWER(").removesuffix(")")

        def compared(doc: Document) -> bool:
            found, wanted = _value(doc, path), _value(doc, token) if other else value
            if lowered:  # LOWER of anything but a string is undefined
                found = found.lower() if isinstance(found, str) else _MISSING
            # Cosmos compares only values of one type; undefined and null match no comparison.
            return (
                found not in (None, _MISSING)
                and wanted not in (None, _MISSING)
                and type(found) is type(wanted)
                and compare(found, wanted)
            )

        return compared
    if match := _IN.match(text):
        negated, name, listed = match.groups()
        values = {_literal(v.strip(), parameters) for v in listed.split(",")}
        return lambda doc: (doc.get(name) in values) != bool(negated)
    if match := _FUNCTION.match(text):
        negated, function, path = match.groups()

        def holds(doc: Document) -> bool:
            found = _value(doc, path)
            return isinstance(found, str) if function == "IS_STRING" else found is not _MISSING

        return lambda doc: holds(doc) != bool(negated)
    if match := _ARRAY_CONTAINS.match(text):
        negated, parameter, path = match.groups()
        listed = list(parameters[parameter])

        def contained(doc: Document) -> bool:
            found = _value(doc, path)
            # Cosmos: ARRAY_CONTAINS of an undefined value is undefined, and so is NOT of it: the row is
            # dropped either way (a held-clause on a field an item may lack must guard with IS_DEFINED).
            return found is not _MISSING and (found in listed) != bool(negated)

        return contained
    if match := _CONTAINED.match(text):
        path, parameter = match.groups()
        wanted = parameters[parameter]
        return lambda doc: isinstance(found := _value(doc, path), list) and wanted in found
    if match := _STARTSWITH.match(text):
        path, prefix = match.groups()
        return lambda doc: isinstance(found := _value(doc, path), str) and found.startswith(prefix)
    raise NotImplementedError(f"the fake store does not understand this condition: {text}")


def _run(documents: Iterable[Document], sql: str, parameters: Mapping[str, Any]) -> list[Any]:
    match = _QUERY.match(" ".join(sql.split()))
    if match is None:
        raise NotImplementedError(f"the fake store does not understand this query: {sql}")
    where = _where(match["where"] or "1 = 1", parameters)
    found = [dict(d) for d in documents if where(d)]
    if match["order"]:
        order = match["order"]

        def key(doc: Document) -> tuple[bool, Any]:
            value = _value(doc, order)
            return value in (None, _MISSING), None if value is _MISSING else value

        found.sort(key=key, reverse=bool(match["desc"]))
    if match["top"]:
        found = found[: int(match["top"])]
    fields = match["fields"].strip()
    if aggregate := _AGGREGATE.match(fields):
        if aggregate.group(2) is None:
            return [len(found)]
        values = [v for d in found if (v := _value(d, aggregate.group(2))) not in (None, _MISSING)]
        return [min(values)] if values else []
    if fields != "*":
        names = [f.strip().removeprefix("c.") for f in fields.split(",")]
        found = [{name: d.get(name) for name in names} for d in found]
    return found


class InMemoryDocumentStore:
    def __init__(self, partition_keys: Mapping[str, str]) -> None:
        self._keys = dict(partition_keys)  # container → partition key field
        self._items: dict[str, dict[tuple[str, str], tuple[Document, str]]] = {c: {} for c in partition_keys}
        self._etags = itertools.count(1)
        self.requests = 0

    def _partition(self, container: str, body: Mapping[str, Any]) -> str:
        return str(body[self._keys[container]])

    def _stored(self, container: str, body: Document) -> Versioned:
        etag = f'"{next(self._etags)}"'
        copy = json.loads(json.dumps(body))  # stored as JSON, like the real store
        self._items[container][(self._partition(container, body), str(body["id"]))] = (copy, etag)
        return Versioned(json.loads(json.dumps(copy)), etag)

    def read(self, container: str, doc_id: str, partition_key: str) -> Versioned | None:
        self.requests += 1
        found = self._items[container].get((partition_key, doc_id))
        return Versioned(json.loads(json.dumps(found[0])), found[1]) if found else None

    def create(self, container: str, body: Document) -> Versioned:
        self.requests += 1
        if (self._partition(container, body), str(body["id"])) in self._items[container]:
            raise DocumentConflict(container)
        return self._stored(container, body)

    def create_all(self, container: str, partition_key: str, bodies: Sequence[Document]) -> list[bool]:
        self.requests += 2 * -(-len(bodies) // 100)  # a query and a batch per 100, as the adapter
        created = []
        for body in bodies:
            assert self._partition(container, body) == partition_key
            fresh = (partition_key, str(body["id"])) not in self._items[container]
            if fresh:
                self._stored(container, body)
            created.append(fresh)
        return created

    def replace(self, container: str, body: Document, etag: str) -> Versioned:
        self.requests += 1
        found = self._items[container].get((self._partition(container, body), str(body["id"])))
        if found is None or found[1] != etag:
            raise DocumentChanged(container)
        return self._stored(container, body)

    def upsert(self, container: str, body: Document) -> Versioned:
        self.requests += 1
        return self._stored(container, body)

    def delete(self, container: str, doc_id: str, partition_key: str, etag: str | None = None) -> bool:
        self.requests += 1
        found = self._items[container].get((partition_key, doc_id))
        if found is not None and etag is not None and found[1] != etag:
            raise DocumentChanged(container)
        return self._items[container].pop((partition_key, doc_id), None) is not None

    def query_value(self, container: str, sql: str, parameters: Mapping[str, Any]) -> Any:
        self.requests += 1
        found = _run((body for body, _ in self._items[container].values()), sql, parameters)
        return found[0] if found else None

    def query(self, container: str, partition_key: str, sql: str, parameters: Mapping[str, Any]) -> Iterator[Document]:
        self.requests += 1
        in_partition = (body for (pk, _), (body, _) in self._items[container].items() if pk == partition_key)
        return iter(_run(in_partition, sql, parameters))

    def query_across_partitions(self, container: str, sql: str, parameters: Mapping[str, Any]) -> Iterator[Document]:
        self.requests += 1
        return iter(_run((body for body, _ in self._items[container].values()), sql, parameters))

    def query_page(
        self, container: str, sql: str, parameters: Mapping[str, Any], page_size: int, continuation: str | None
    ) -> Page:
        self.requests += 1
        try:
            start = int(continuation or "0")
        except ValueError:
            raise InvalidContinuation() from None
        found = _run((body for body, _ in self._items[container].values()), sql, parameters)
        end = start + page_size
        return Page(found[start:end], str(end) if end < len(found) else None)

    def ping(self) -> None:
        return None

    def all(self, container: str) -> list[Document]:
        return [json.loads(json.dumps(body)) for body, _ in self._items[container].values()]


@dataclass
class QueuedMessage:
    id: str
    body: dict[str, Any]
    dequeue_count: int = 0
    delay: timedelta | None = None


class InMemoryWorkQueue:
    def __init__(self) -> None:
        self.queues: dict[str, list[QueuedMessage]] = {}

    def send(self, queue: str, message: Mapping[str, Any], delay: timedelta | None = None) -> None:
        self.queues.setdefault(queue, []).append(QueuedMessage(uuid.uuid4().hex, dict(message), delay=delay))

    def peek_poison(self, queue: str, limit: int) -> list[Document]:
        return [{"messageId": m.id, "message": m.body} for m in self.queues.get(f"{queue}-poison", [])[:limit]]

    def ping(self) -> None:
        return None

    def take(self, queue: str) -> QueuedMessage | None:
        """Hands out the oldest message, as a dequeue does (it counts one more delivery)."""
        waiting = self.queues.get(queue, [])
        if not waiting:
            return None
        message = waiting.pop(0)
        message.dequeue_count += 1
        return message

    def put_back(self, queue: str, message: QueuedMessage) -> None:
        """A failed or crashed invocation: the same message (same id) is delivered again later."""
        self.queues.setdefault(queue, []).append(message)


@dataclass
class SentMail:
    to: str
    subject: str
    text: str
    category: str
    message_id: str


class RecordingMailer:
    """Keeps what it sends; ``unavailable`` makes the next sends fail as a mail service outage does."""

    def __init__(self) -> None:
        self.sent: list[SentMail] = []
        self.unavailable = 0
        self.refused: set[str] = set()

    def send(self, to: str, subject: str, text: str, category: str) -> str:
        if self.unavailable > 0:
            self.unavailable -= 1
            raise MailUnavailable()
        if to in self.refused:
            raise MailRejected()
        message_id = uuid.uuid4().hex
        self.sent.append(SentMail(to, subject, text, category, message_id))
        return message_id

    def to(self, address: str, subject_part: str = "") -> list[SentMail]:
        return [m for m in self.sent if m.to == address and subject_part in m.subject]


@dataclass
class FakePayments:
    customers: dict[str, str] = field(default_factory=dict)  # id → email
    deletes: list[tuple[str, str]] = field(default_factory=list)  # (customer id, idempotency key)

    def find_customer_ids(self, email: str) -> list[str]:
        return [cid for cid, address in self.customers.items() if address.lower() == email.lower()]

    def export_customer(self, customer_id: str) -> dict[str, Any]:
        return {"customer": {"id": customer_id, "email": self.customers.get(customer_id)}, "charges": []}

    def delete_customer(self, customer_id: str, idempotency_key: str) -> Confirmation:
        if customer_id in self.customers:
            self.deletes.append((customer_id, idempotency_key))
            del self.customers[customer_id]
        return Confirmation("stripe", "customer.deleted", customer_id)


@dataclass
class FakeContacts:
    """``asynchronous``: as at SendGrid, a deleted contact is still found (and may be deleted again)
    until ``settle()``, its deletion job's end; ``deletes`` has one entry per deletion call."""

    contacts: dict[str, str] = field(default_factory=dict)  # email → contact id
    suppressed: set[str] = field(default_factory=set)
    deletes: list[str] = field(default_factory=list)
    asynchronous: bool = False
    deleting: set[str] = field(default_factory=set)  # emails whose deletion job has not ended

    def settle(self) -> None:
        for email in self.deleting:
            self.contacts.pop(email, None)
        self.deleting.clear()

    def holds(self, email: str) -> bool:
        """Whether the contact is there and no deletion of it is under way."""
        return email in self.contacts and email not in self.deleting

    def export_contact(self, email: str) -> dict[str, Any]:
        contact = {"id": self.contacts[email], "email": email} if email in self.contacts else None
        suppression = {"recipient_email": email} if email in self.suppressed else None
        return {"contact": contact, "globalSuppression": suppression, "unsubscribes": []}

    def delete_contact(self, email: str) -> Confirmation | None:
        contact_id = self.contacts.get(email)
        if contact_id is None:
            return None
        self.deletes.append(contact_id)
        self.deleting.add(email)
        if not self.asynchronous:
            self.settle()
        return Confirmation("sendgrid", "contact.deleted", f"job-{contact_id}")

    def suppress(self, email: str) -> Confirmation:
        self.suppressed.add(email)
        return Confirmation("sendgrid", "suppression.added", "asm-global")


class InMemoryArchiveWriter:
    def __init__(self, store: InMemoryArchives, name: str) -> None:
        self._store, self._name = store, name
        self.files: dict[str, str] = {}

    def add_json_array(self, name: str, items: Iterable[Mapping[str, Any]]) -> int:
        rows = [dict(item) for item in items]
        self.files[name] = json.dumps(rows, default=str)
        return len(rows)

    def add_json(self, name: str, document: Mapping[str, Any]) -> None:
        self.files[name] = json.dumps(dict(document), default=str)

    def add_text(self, name: str, text: str) -> None:
        self.files[name] = text

    def close(self) -> str:
        self._store.archives[self._name] = dict(self.files)
        return self._name


class InMemoryArchives:
    def __init__(self) -> None:
        self.archives: dict[str, dict[str, str]] = {}
        self.held: set[str] = set()  # archives tagged held (the lifecycle rule leaves them)

    def open_archive(self, subject_key: str, request_id: str, held: bool = False) -> InMemoryArchiveWriter:
        name = f"{subject_key}/{request_id}.zip"
        self.mark_held(name, held)
        return InMemoryArchiveWriter(self, name)

    def archive_names(self, subject_key: str) -> list[str]:
        return [n for n in self.archives if n.startswith(f"{subject_key}/")]

    def mark_held(self, blob_name: str, held: bool) -> None:
        if held:
            self.held.add(blob_name)
        else:
            self.held.discard(blob_name)

    def share_link(self, blob_name: str, valid_for: timedelta) -> str:
        return f"https://archives.invalid/{blob_name}?expires={(datetime.now(UTC) + valid_for).isoformat()}"

    def delete_archive(self, blob_name: str) -> Confirmation:
        self.archives.pop(blob_name, None)
        return Confirmation("blob", "archive.deleted", blob_name)

    def delete_archives(self, subject_key: str, keep: frozenset[str] = frozenset()) -> list[Confirmation]:
        names = [n for n in self.archive_names(subject_key) if n.split("/")[-1].removesuffix(".zip") not in keep]
        return [self.delete_archive(name) for name in names]


@dataclass
class MovableClock:
    moment: datetime

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


class RecordingBulkMailer:
    """Keeps each batch request; ``fail_next`` makes the next sends raise (throttling, outages, crashes)."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.fail_next: list[BaseException] = []
        self.crash_after_send = False  # the request goes out, then the worker dies before recording it

    def send_batch(self, mail: Any) -> str:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.requests.append(mail)
        if self.crash_after_send:
            self.crash_after_send = False
            raise SystemExit("worker killed after the request left")
        return f"msg-{len(self.requests)}"


class FakeSuppressionGroups:
    """SendGrid unsubscribe groups in memory; ``requests`` counts calls, ``fail_next`` makes them raise."""

    def __init__(self) -> None:
        self.groups: dict[int, set[str]] = {}
        self.requests = 0
        self.fail_next: list[BaseException] = []

    def add(self, group_id: int, emails: list[str]) -> None:
        self._call()
        assert len(emails) <= 1000, "SendGrid takes at most 1,000 addresses per request"
        self.groups.setdefault(group_id, set()).update(e.lower() for e in emails)

    def remove(self, group_id: int, email: str) -> None:
        self._call()
        self.groups.setdefault(group_id, set()).discard(email.lower())

    def _call(self) -> None:
        self.requests += 1
        if self.fail_next:
            raise self.fail_next.pop(0)


class MemoryRootKey:
    """The proof key's port in memory: versions that rotate and can be disabled, and counted vault calls."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self._ec = ec
        self._versions: list[tuple[Any, Any, bool]] = []  # (RootKeyVersion, private key, enabled)
        self.calls = 0
        self.rotate()

    def rotate(self) -> str:
        from core.jws import public_jwk
        from functions.proof.ports import RootKeyVersion

        key = self._ec.generate_private_key(self._ec.SECP256R1())
        version = RootKeyVersion(uuid.uuid4().hex, public_jwk(key.public_key()), datetime.now(UTC))
        self._versions.append((version, key, True))
        return version.kid

    def disable(self, kid: str) -> None:
        self._versions = [(v, k, enabled and v.kid != kid) for v, k, enabled in self._versions]

    def signing_version(self) -> Any:
        self.calls += 1
        return next(v for v, _, enabled in reversed(self._versions) if enabled)

    def published_versions(self) -> list[Any]:
        self.calls += 1
        return [v for v, _, enabled in self._versions if enabled]

    def sign_digest(self, version: Any, digest: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

        self.calls += 1
        key = next(k for v, k, enabled in self._versions if v.kid == version.kid and enabled)
        r, s = decode_dss_signature(key.sign(digest, self._ec.ECDSA(Prehashed(hashes.SHA256()))))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
