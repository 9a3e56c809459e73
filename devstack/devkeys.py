"""Local signing keys and tokens: real RS256 signatures, so local runs exercise the real checks.

Also the key pair of the mail server's signed Event Webhook (ECDSA P-256, as SendGrid's), so the
app verifies local events exactly as it verifies SendGrid's.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

USER_ISSUER = "https://identity.local.test/users"
STAFF_ISSUER = "https://identity.local.test/staff"
AUDIENCE = "api://privacy-backend"


@dataclass(frozen=True)
class DevIdentityProvider:
    """One local identity provider: a private key, and its public JWKS for the app to trust."""

    name: str
    issuer: str
    key_dir: Path

    @property
    def private_key_path(self) -> Path:
        return self.key_dir / f"{self.name}-signing-key.pem"

    @property
    def jwks_path(self) -> Path:
        return self.key_dir / f"{self.name}-jwks.json"

    @property
    def kid(self) -> str:
        return f"local-{self.name}-1"

    def ensure_keys(self) -> None:
        if self.private_key_path.exists() and self.jwks_path.exists():
            return
        self.key_dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.private_key_path.write_bytes(pem)
        self.private_key_path.chmod(0o600)
        public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        public_jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        self.jwks_path.write_text(json.dumps({"keys": [public_jwk]}, indent=2))

    def token(self, subject: str, roles: list[str] | None = None, lifetime_seconds: int = 3600) -> str:
        self.ensure_keys()
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_seconds,
            "jti": uuid.uuid4().hex,
        }
        if roles:
            claims["roles"] = roles
        return jwt.encode(claims, self.private_key_path.read_bytes(), algorithm="RS256", headers={"kid": self.kid})


def providers(key_dir: Path) -> tuple[DevIdentityProvider, DevIdentityProvider]:
    return DevIdentityProvider("user", USER_ISSUER, key_dir), DevIdentityProvider("staff", STAFF_ISSUER, key_dir)


def dev_token(key_dir: Path, kind: str, subject: str, roles: list[str], minutes: int) -> str:
    """A token from the stack whose keys are in ``key_dir``; never new keys, which no running stack would trust."""
    user, staff = providers(key_dir)
    provider = user if kind == "user" else staff
    if not provider.private_key_path.exists():
        raise FileNotFoundError(f"no signing keys in {key_dir}: start the stack with this --state-dir first")
    return provider.token(subject, roles, minutes * 60)


EVENT_WEBHOOK_KEY_FILE = "sendgrid-event-webhook-key.pem"


def event_webhook_key_path(key_dir: Path) -> Path:
    return key_dir / EVENT_WEBHOOK_KEY_FILE


def ensure_event_webhook_key(key_dir: Path) -> Path:
    """The state folder's Event Webhook signing key (made once), as SendGrid makes one per webhook."""
    path = event_webhook_key_path(key_dir)
    if path.exists():
        return path
    key_dir.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    # link() publishes the whole file at once and fails if another process made one first: that one wins.
    with contextlib.suppress(FileExistsError):
        os.link(draft, path)
    draft.unlink()
    return path


def load_event_webhook_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{path.name} is not an ECDSA P-256 private key")
    return key


def event_webhook_public_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The verification key as SendGrid's Mail Settings show it: base64 of the DER SubjectPublicKeyInfo."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")
