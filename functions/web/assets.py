"""The website's files as the function app serves them: the banner script (its CSS inlined), the
privacy page's script and style sheet, each under a versioned name, with its SRI hash.

``web/releases.json`` records, for each file, every released version and the integrity of its bytes.
A served file must match the integrity recorded for its version (a unit test checks it), so a change
to a file without a new version, which long-cached copies would never pick up, cannot pass.

The current version is built from the source; every older one is served from the bytes it was
released with (``web/released/``), so a website that pinned its URL and SRI hash keeps working after
an upgrade of the function app.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
RELEASES = WEB / "releases.json"
RELEASED = WEB / "released"  # the built bytes of every version before the current one
CSS_PLACEHOLDER = "CSS_TEXT"
SCRIPT = "text/javascript"
STYLE = "text/css"


@dataclass(frozen=True)
class Asset:
    name: str  # banner.js
    version: str
    media_type: str
    body: bytes

    @property
    def file_name(self) -> str:
        return versioned_name(self.name, self.version)

    @property
    def integrity(self) -> str:
        return "sha384-" + base64.b64encode(hashlib.sha384(self.body).digest()).decode()


def versioned_name(name: str, version: str) -> str:
    """The name a version is served under: banner-1.0.0.js."""
    stem, _, extension = name.rpartition(".")
    return f"{stem}-{version}.{extension}"


def compact_css(css: str) -> str:
    """Whitespace out: the style sheets hold no strings in which it would matter."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\s+", " ", css)
    return re.sub(r"\s*([{};,>])\s*", r"\1", css).strip()


def compact_js(source: str) -> str:
    """Comments and indentation out. The sources keep to block comments, never inside strings."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def _build(name: str) -> bytes:
    text = (WEB / name).read_text(encoding="utf-8")
    if name.endswith(".css"):
        return compact_css(text).encode()
    script = compact_js(text)
    if name == "banner.js":  # one file for websites to include: its style sheet travels inside
        css = json.dumps(compact_css((WEB / "banner.css").read_text(encoding="utf-8")), ensure_ascii=False)
        script = script.replace(CSS_PLACEHOLDER, css, 1)
    return script.encode()


def releases() -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = json.loads(RELEASES.read_text(encoding="utf-8"))
    return {name: versions for name, versions in loaded.items() if not name.startswith("$")}


@cache
def assets() -> dict[str, Asset]:
    """Versioned file name → the asset, for every released version of each file."""
    found = {}
    for name, versions in releases().items():
        media_type = STYLE if name.endswith(".css") else SCRIPT
        *older, latest = versions
        for version in older:
            file_name = versioned_name(name, version)
            found[file_name] = Asset(name, version, media_type, (RELEASED / file_name).read_bytes())
        asset = Asset(name, latest, media_type, _build(name))
        found[asset.file_name] = asset
    return found


def current(name: str) -> Asset:
    """The version the README shows and new pages get: the last one recorded."""
    return assets()[versioned_name(name, list(releases()[name])[-1])]
