"""Issuing the consent receipt of a recorded event (signed in-process, never waiting on the vault)."""

from __future__ import annotations

from functions.consent.ledger import ConsentEvent
from functions.proof.models import ConsentReceiptView, ReceiptClaimsView
from functions.proof.receipts import RECEIPT_TYPE, receipt_claims
from functions.proof.signer import DocumentSigner


class ConsentReceipts:
    def __init__(self, signer: DocumentSigner) -> None:
        self._signer = signer

    def ready(self) -> None:
        """Before recording: a decision is stored only when its receipt can be signed."""
        self._signer.ready()

    def issue(self, event: ConsentEvent) -> ConsentReceiptView:
        token, claims = self._signer.sign(RECEIPT_TYPE, receipt_claims(event.content(), event.hash))
        return ConsentReceiptView(jws=token, claims=ReceiptClaimsView.model_validate(claims))
