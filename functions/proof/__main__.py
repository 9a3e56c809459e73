"""``python -m functions.proof verify ...``: check receipts, certificates, notice records, seals and a
subject's chain offline, from files, against a saved copy of the published key set.

    python -m functions.proof verify receipt receipt.json --jwks jwks.json
    python -m functions.proof verify certificate certificate.json --jwks jwks.json
    python -m functions.proof verify chain proof.json --jwks jwks.json --receipt r1.json --receipt r2.json
    python -m functions.proof verify document record.jws --type breach-notice-record --jwks jwks.json

Exit status 0 when everything holds, 1 when something does not (the reason is printed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from functions.proof.offline import check_certificate, check_chain, check_receipt, token_of
from functions.proof.trust import NotAuthentic, PublishedKeys, verify_document


def _load(path: str) -> Any:
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()  # a bare compact JWS


def _run(args: argparse.Namespace) -> list[str]:
    keys = PublishedKeys.from_jwks(_load(args.jwks))
    document = _load(args.file)
    if args.what == "receipt":
        claims = check_receipt(document, keys).claims
        return [f"receipt of event {claims['ledger']['seq']} of {claims['piiPrincipalId']}: signed, key certified"]
    if args.what == "certificate":
        claims = check_certificate(document, keys).claims
        return [f"deletion certificate {claims['certificateId']}: signed, fields unaltered"]
    if args.what == "chain":
        return check_chain(document, keys, [_load(path) for path in args.receipt])
    verified = verify_document(token_of(document), keys, args.type)
    return [f"{args.type}: signed, key certified", json.dumps(verified.claims, indent=2, sort_keys=True)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.proof", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="check a signed document offline")
    verify.add_argument("what", choices=["receipt", "certificate", "chain", "document"])
    verify.add_argument("file", help="the saved document (JSON, or a bare compact JWS)")
    verify.add_argument("--jwks", required=True, help="a saved copy of GET /api/proof/jwks.json")
    verify.add_argument("--receipt", action="append", default=[], help="(chain) a receipt the chain must agree with")
    verify.add_argument("--type", default="breach-notice-record", help="(document) the document type expected")
    args = parser.parse_args(argv)
    try:
        lines = _run(args)
    except (NotAuthentic, KeyError, TypeError, ValueError) as error:
        print(f"NOT VERIFIED: {error}")
        return 1
    for line in lines:
        print(f"OK {line}" if "\n" not in line else line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
