"""The proof key of the local stack: a key file in its state folder plays the part of the Key Vault key.

The file holds every version (PKCS#8 PEM, enabled flag, creation time); :func:`rotate` adds one,
:func:`disable` withdraws one, as adding and disabling versions do in Key Vault. The private key is
read only to sign, exactly where Key Vault would sign, behind the same port.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from core.jws import public_jwk
from functions.proof.ports import RootKeyVersion


class KeyFileRootKey:
    def __init__(self, path: Path) -> None:
        self._path = path

    def _versions(self) -> list[dict[str, Any]]:
        if not self._path.exists():
            raise RuntimeError(f"the proof key file {self._path.name} does not exist: start the local stack")
        versions: list[dict[str, Any]] = json.loads(self._path.read_text())["versions"]
        return versions

    @staticmethod
    def _private(version: dict[str, Any]) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_pem_private_key(version["privateKeyPem"].encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise RuntimeError("the proof key file holds a key that is not EC P-256")
        return key

    def _public(self, version: dict[str, Any]) -> RootKeyVersion:
        return RootKeyVersion(
            kid=version["kid"],
            public_jwk=public_jwk(self._private(version).public_key()),
            created_on=datetime.fromisoformat(version["createdOn"]),
        )

    def signing_version(self) -> RootKeyVersion:
        enabled = [v for v in self._versions() if v["enabled"]]
        if not enabled:
            raise RuntimeError("the proof key has no enabled version")
        return self._public(enabled[-1])

    def published_versions(self) -> list[RootKeyVersion]:
        return [self._public(v) for v in self._versions() if v["enabled"]]

    def sign_digest(self, version: RootKeyVersion, digest: bytes) -> bytes:
        found = next((v for v in self._versions() if v["kid"] == version.kid and v["enabled"]), None)
        if found is None:
            raise RuntimeError("that proof key version is not enabled")
        r, s = decode_dss_signature(self._private(found).sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _write(path: Path, versions: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"versions": versions}, handle, indent=2)
    os.replace(draft, path)


def _new_version() -> dict[str, Any]:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "kid": secrets.token_hex(16),  # shaped like a Key Vault key version
        "enabled": True,
        "createdOn": datetime.now(UTC).isoformat(),
        "privateKeyPem": pem.decode(),
    }


def ensure_key_file(path: Path) -> Path:
    """The state folder's proof key with one version, made once (the first writer wins)."""
    if path.exists():
        return path
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    _write(draft, [_new_version()])
    with contextlib.suppress(FileExistsError):
        os.link(draft, path)
    draft.unlink()
    return path


def rotate(path: Path) -> str:
    """Adds a new version, which signs from now on; returns its key id."""
    versions = json.loads(path.read_text())["versions"]
    version = _new_version()
    _write(path, [*versions, version])
    return str(version["kid"])


def disable(path: Path, kid: str) -> None:
    """Withdraws a version from the published key set (what it signed no longer verifies)."""
    versions = json.loads(path.read_text())["versions"]
    if not any(v["kid"] == kid for v in versions):
        raise KeyError("no such key version")
    _write(path, [{**v, "enabled": v["enabled"] and v["kid"] != kid} for v in versions])
