"""Local signing keys and tokens: real RS256 signatures, so local runs exercise the real checks."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

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
