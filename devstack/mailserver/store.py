"""Accepted mails: kept in memory, optionally appended to ``<data_dir>/mails.jsonl``."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from aiohttp import web

from devstack.mailserver.suppressions import UNSUBSCRIBED_ADDRESS
from devstack.mailserver.validation import asm_group_id, iter_recipients

log = logging.getLogger("devstack.mailserver")

MAILS_FILE = "mails.jsonl"


@dataclass(frozen=True)
class StoredMail:
    id: str
    received_at: str
    request: dict[str, Any]
    # Recipients SendGrid accepts the send for but drops, each (as sent) with SendGrid's reason
    # ("Unsubscribed Address", "Spam Reporting Address"), decided when the mail was accepted.
    drops: dict[str, str] = field(default_factory=dict)

    @property
    def suppressed(self) -> list[str]:
        return list(self.drops)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "received_at": self.received_at,
            "request": self.request,
            "suppressed": self.suppressed,
            "drops": self.drops,
        }

    @classmethod
    def from_json(cls, data: object) -> StoredMail:
        if not isinstance(data, dict):
            raise ValueError("stored mail is not an object")
        mail_id, received_at, request = data.get("id"), data.get("received_at"), data.get("request")
        suppressed = data.get("suppressed", [])
        drops = data.get("drops")
        if not (
            isinstance(mail_id, str)
            and isinstance(received_at, str)
            and isinstance(request, dict)
            and isinstance(suppressed, list)
            and isinstance(drops, dict | None)
        ):
            raise ValueError("stored mail lacks id, received_at or request")
        if drops is None:  # kept before drops had reasons, when only global unsubscribes dropped
            drops = dict.fromkeys(suppressed, UNSUBSCRIBED_ADDRESS)
        return cls(
            id=mail_id, received_at=received_at, request=request, drops={str(k): str(v) for k, v in drops.items()}
        )

    def recipients(self, kind: str) -> list[str]:
        return [address for k, address in iter_recipients(self.request) if k == kind]

    def group_id(self) -> int | None:
        return asm_group_id(self.request)

    def subject(self) -> str | None:
        """The message-level subject, else the first personalization's (what most readers want)."""
        subject = self.request.get("subject")
        if isinstance(subject, str):
            return subject
        for personalization in self.request.get("personalizations") or []:
            if isinstance(personalization, dict) and isinstance(personalization.get("subject"), str):
                return str(personalization["subject"])
        return None

    def sender(self) -> str | None:
        sender = self.request.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("email"), str):
            return str(sender["email"])
        return None

    def content(self) -> list[dict[str, str]]:
        return [
            {"type": str(item.get("type")), "value": str(item.get("value"))}
            for item in self.request.get("content") or []
            if isinstance(item, dict)
        ]

    def content_of_type(self, mime: str) -> str | None:
        for item in self.content():
            if item["type"].lower() == mime:
                return item["value"]
        return None

    def summary(self) -> dict[str, Any]:
        """The flattened view served by ``GET /_mails``."""
        return {
            "id": self.id,
            "received_at": self.received_at,
            "from": self.sender(),
            "subject": self.subject(),
            "to": self.recipients("to"),
            "cc": self.recipients("cc"),
            "bcc": self.recipients("bcc"),
            "personalizations": self.request.get("personalizations", []),
            "content": self.content(),
            "categories": self.request.get("categories", []),
            "custom_args": self.request.get("custom_args", {}),
            "template_id": self.request.get("template_id"),
            "suppressed": self.suppressed,
            "drops": self.drops,
            "request": self.request,
        }


class MailStore:
    """Insertion-ordered mails; file writes are serialised so lines never interleave."""

    def __init__(self, data_dir: Path | None) -> None:
        self._mails: dict[str, StoredMail] = {}
        self._path = data_dir / MAILS_FILE if data_dir is not None else None
        self._lock = asyncio.Lock()
        if data_dir is not None:
            # Mails hold personal data: keep the folder and file private to the user.
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)

    @property
    def path(self) -> Path | None:
        return self._path

    def load(self) -> int:
        """Read mails written by an earlier run; returns how many were loaded."""
        if self._path is None or not self._path.exists():
            return 0
        raw = self._path.read_bytes()
        if raw and not raw.endswith(b"\n"):
            # A crash mid-write left a partial line; terminate it so the next append starts a
            # fresh line instead of corrupting a second record.
            with self._open_append() as handle:
                handle.write(b"\n")
        skipped = 0
        for line in raw.splitlines():
            if not line.strip():
                continue
            try:
                mail = StoredMail.from_json(json.loads(line))
            except ValueError:
                skipped += 1
                continue
            self._mails[mail.id] = mail
        if skipped:
            log.warning("skipped %d unreadable line(s) in the mail file", skipped)
        return len(self._mails)

    def _open_append(self) -> BinaryIO:
        assert self._path is not None
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(fd, "ab")

    def _append_line(self, line: bytes) -> None:
        with self._open_append() as handle:
            handle.write(line)

    def _truncate(self) -> None:
        assert self._path is not None
        fd = os.open(self._path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o600)
        os.close(fd)

    async def add(self, mail: StoredMail) -> None:
        async with self._lock:
            if self._path is not None:
                line = json.dumps(mail.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n"
                # Bodies can be tens of MB; keep the event loop responsive while writing.
                await asyncio.to_thread(self._append_line, line.encode("utf-8"))
            self._mails[mail.id] = mail

    async def clear(self) -> int:
        async with self._lock:
            count = len(self._mails)
            if self._path is not None:
                await asyncio.to_thread(self._truncate)
            self._mails.clear()
            return count

    def all(self) -> list[StoredMail]:
        return list(self._mails.values())

    def get(self, mail_id: str) -> StoredMail | None:
        return self._mails.get(mail_id)

    def __len__(self) -> int:
        return len(self._mails)


STORE_KEY = web.AppKey("store", MailStore)
