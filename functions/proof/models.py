"""Response bodies of public proof: receipts, the published key set, seals and inclusion proofs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from core.models import View


class PrivacyNoticeView(View):
    version: str
    text_sha256: str = Field(description="SHA-256 of the notice text the person was shown.")


class ReceiptPurposeView(View):
    purpose_id: str
    granted: bool
    consent_status: Literal["given", "refused"]
    source: str
    overrides_gpc: bool


class LedgerPlaceView(View):
    seq: int
    event_hash: str
    prev_hash: str


class ReceiptClaimsView(View):
    """The receipt's fields as signed (ISO/IEC TS 27560 names where one fits)."""

    document_type: Literal["consent-receipt"]
    iss: str
    iat: int = Field(description="When it was signed, in seconds since 1970 (JWT NumericDate).")
    schema_version: str
    record_id: str
    pii_principal_id: str = Field(description="The subject as the API names it: user:<sub> or visitor:<id>.")
    consent_timestamp: str = Field(description="When the decision was recorded, exactly as the ledger holds it.")
    collection_method: str
    jurisdiction: str | None
    privacy_notice: PrivacyNoticeView
    purposes: list[ReceiptPurposeView]
    event_type: str
    linked_subject: str | None
    ledger: LedgerPlaceView


class ConsentReceiptView(View):
    jws: str = Field(description="Compact JWS (ES256) of the claims; verify it against GET /api/proof/jwks.json.")
    claims: ReceiptClaimsView


class JwkView(View):
    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str
    y: str
    kid: str
    alg: Literal["ES256"]
    use: Literal["sig"]


class JwksView(View):
    keys: list[JwkView]


class SealClaimsView(View):
    document_type: Literal["consent-ledger-seal"]
    iss: str
    iat: int
    number: int
    previous_seal: str | None = Field(description="SHA-256 (hex) of the previous seal's JWS; null for the first.")
    merkle_root: str = Field(description="RFC 6962 Merkle tree hash (hex) of the chain heads changed in the window.")
    tree_size: int
    leaf_format: str
    leaves_blob: str | None
    leaves_sha256: str | None
    window_start: int = Field(description="Chain heads changed at or after this time (seconds since 1970) ...")
    window_end: int = Field(description="... and before this one.")
    sealed_at: str


class SealView(View):
    number: int
    jws: str
    claims: SealClaimsView


class SealedHeadView(View):
    seq: int
    hash: str


class SealInclusionView(View):
    """The subject's chain head at ``sealedHead`` is leaf ``leafIndex`` of the seal's Merkle tree; every
    event up to it is covered through the chain's hashes."""

    seal: SealView
    sealed_head: SealedHeadView
    leaf_hash: str
    leaf_index: int
    tree_size: int
    audit_path: list[str] = Field(description="RFC 9162 inclusion proof, leaf side first (hex).")


SealNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}$")]


class SealsView(View):
    latest: SealView | None = Field(description="The newest seal; null before the first.")
