"""Signing in-process with a short-lived key that the vault key certified once.

Each instance makes an EC P-256 key in memory, has the vault sign its certificate (one vault request,
plus the read of the current key version), and signs documents with it until the certificate's window
ends. A third of the way before the end a new key is certified in the background, so requests keep
signing with the current one meanwhile; only the first document of an instance, or one after the
vault was unreachable for a whole window, waits for the vault. The private half of the short-lived
key never leaves the process; the vault key's never leaves the vault.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core.canonical import canonical_json
from core.jws import ES256, compact, digest, public_jwk, sign_es256, signing_input, thumbprint
from core.ports import Clock
from functions.proof.errors import ProofKeyUnavailable
from functions.proof.ports import RootKey
from functions.proof.trust import CERTIFICATE_HEADER, key_certificate_claims

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

log = logging.getLogger("privacy.proof")
CLOCK_SKEW = timedelta(minutes=5)  # the certificate's window starts this much early


@dataclass(frozen=True)
class SigningKey:
    key: ec.EllipticCurvePrivateKey
    kid: str
    certificate: str
    not_before: int
    not_after: int


class DocumentSigner:
    def __init__(self, root: RootKey, clock: Clock, issuer: str, lifetime: timedelta) -> None:
        self._root = root
        self._clock = clock
        self.issuer = issuer
        self._lifetime = lifetime
        self._lock = threading.Lock()
        self._current: SigningKey | None = None
        self._renewing = False

    def _certify(self) -> SigningKey:
        from cryptography.hazmat.primitives.asymmetric import ec  # loaded with the first signature

        key = ec.generate_private_key(ec.SECP256R1())
        jwk = public_jwk(key.public_key())
        now = int(self._clock.now().timestamp())
        not_before, not_after = now - int(CLOCK_SKEW.total_seconds()), now + int(self._lifetime.total_seconds())
        version = self._root.signing_version()
        header = {"alg": ES256, "kid": version.kid, "typ": "JWT"}
        signed = signing_input(header, canonical_json(key_certificate_claims(jwk, self.issuer, not_before, not_after)))
        certificate = compact(signed, self._root.sign_digest(version, digest(signed)))
        log.info("proof signing key certified root_kid=%s valid_s=%d", version.kid, not_after - now)
        return SigningKey(key, thumbprint(jwk), certificate, not_before, not_after)

    def _key(self) -> SigningKey:
        now = int(self._clock.now().timestamp())
        current = self._current
        if current is None or now >= current.not_after:
            with self._lock:
                current = self._current
                if current is None or now >= current.not_after:
                    try:
                        current = self._current = self._certify()
                    except Exception as error:
                        log.warning("proof signing key not certified: %s", type(error).__name__)
                        raise ProofKeyUnavailable() from None
        elif current.not_after - now < (current.not_after - current.not_before) / 3 and not self._renewing:
            self._renew_in_background()
        return current

    def _renew_in_background(self) -> None:
        with self._lock:
            if self._renewing:
                return
            self._renewing = True

        def renew() -> None:
            try:
                fresh = self._certify()
                with self._lock:
                    self._current = fresh
            except Exception as error:  # the current key stays in use; the next document tries again
                log.warning("proof signing key renewal failed: %s", type(error).__name__)
            finally:
                self._renewing = False

        threading.Thread(target=renew, name="proof-key-renewal", daemon=True).start()

    def ready(self) -> None:
        """Raises :class:`ProofKeyUnavailable` when nothing could be signed now: called before a write
        whose answer must carry a signature, so that a refusal writes nothing."""
        self._key()

    def sign(self, document_type: str, claims: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The compact JWS of ``claims`` with its type, issuer and signing time; and the claims as signed."""
        key = self._key()
        signed_claims = {
            **claims,
            "documentType": document_type,
            "iss": self.issuer,
            "iat": int(self._clock.now().timestamp()),
        }
        header = {"kid": key.kid, CERTIFICATE_HEADER: key.certificate, "typ": "JWT"}
        return sign_es256(key.key, header, canonical_json(signed_claims)), signed_claims
