"""One-click unsubscribe links (RFC 8058 §3.1-3.2: an HTTPS URI that a POST without cookies or
authorization acts on): a signed, purpose-bound token naming the subject and the purpose, no
address in the URL, no login, and no expiry — CAN-SPAM (15 U.S.C. 7704(a)(3)(A)(ii)) wants the
mechanism working at least 30 days after the mail; a link in an old mail works for good."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from core.keyring import KeyRing
from core.signed_tokens import seal, unseal
from functions.consent.ledger import Source
from functions.notices.errors import InvalidUnsubscribeLink
from functions.notices.opt_outs import OptedOut, OptOuts

TOKEN_PURPOSE = "marketing-unsubscribe-link"  # noqa: S105 - a purpose label, not a secret


@dataclass(frozen=True)
class Unsubscribe:
    subject_id: str
    purpose: str


class UnsubscribeLinks:
    def __init__(self, ring: KeyRing, public_api_url: str, opt_outs: OptOuts) -> None:
        self._ring = ring
        self._base = public_api_url.rstrip("/")
        self._opt_outs = opt_outs

    def url(self, subject_id: str, purpose: str) -> str:
        token = seal(self._ring, {"s": subject_id, "p": purpose}, TOKEN_PURPOSE)
        return f"{self._base}/unsubscribe?token={quote(token)}"

    def read(self, token: str) -> Unsubscribe:
        claims = unseal(self._ring, token, TOKEN_PURPOSE)
        if claims is None or not isinstance(claims.get("s"), str) or not isinstance(claims.get("p"), str):
            raise InvalidUnsubscribeLink()
        return Unsubscribe(claims["s"], claims["p"])

    def follow(self, token: str) -> tuple[Unsubscribe, OptedOut]:
        """The one-click POST: withdraws the purpose (a second click changes nothing)."""
        link = self.read(token)
        key = "unsubscribe:" + hashlib.sha256(token.encode()).hexdigest()[:32]
        withdrawn = self._opt_outs.withdraw(
            link.subject_id, link.purpose, Source.UNSUBSCRIBE_LINK, key, per_position=True
        )
        return link, withdrawn
