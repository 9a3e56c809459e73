"""The website's files: each served version is the one released, the README shows its URL and SRI
hash, the banner stays within its size budget; the visitor cookie the API sets; the privacy page."""

from __future__ import annotations

import gzip
import re
from datetime import timedelta
from pathlib import Path

from functions.cookies.visitor_cookie import VisitorCookie
from functions.web.assets import assets, compact_css, compact_js, current, releases, versioned_name
from functions.web.page import privacy_page

ROOT = Path(__file__).resolve().parents[2]


def test_every_released_version_is_served_with_the_bytes_it_was_released_with() -> None:
    served = assets()
    for name, versions in releases().items():
        latest = current(name)
        assert latest.version == list(versions)[-1]
        assert versions[latest.version] == latest.integrity, (
            f"web/{name} changed: release it as a new version in web/releases.json with {latest.integrity}"
        )
        for version, integrity in versions.items():  # a page that pinned an older URL and hash keeps working
            assert served[versioned_name(name, version)].integrity == integrity
        assert len(set(versions.values())) == len(versions), f"two versions of {name} with the same bytes"


def test_the_readme_shows_the_current_banner_url_and_its_sri_hash() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    banner = current("banner.js")
    assert f"/api/web/js/{banner.file_name}" in readme
    assert f'integrity="{banner.integrity}"' in readme


def test_the_banner_with_its_css_is_under_six_kib_gzipped() -> None:
    body = current("banner.js").body
    assert b"CSS_TEXT" not in body
    assert b".pb{" in body  # the style sheet travels inside
    assert len(gzip.compress(body, 9)) < 6 * 1024


def test_compaction_keeps_code_and_drops_comments_and_indentation() -> None:
    assert compact_js("/* a\n comment */\n  var a = 1;\n\n    f(a);\n") == "var a = 1;\nf(a);\n"
    assert compact_css("/* x */ .a { color : red ; }\n.b > .c { margin: 0 }") == ".a{color : red;}.b>.c{margin: 0}"


def test_the_visitor_cookie_is_secure_lax_on_the_sites_domain_for_as_long_as_a_decision() -> None:
    header = VisitorCookie("privacy_visitor", "example.com", timedelta(days=395)).header("AbCdEf0123456789xyz")
    assert header == (
        "privacy_visitor=AbCdEf0123456789xyz; Domain=example.com; Path=/; Max-Age=34128000; Secure; SameSite=Lax"
    )


def test_the_privacy_page_escapes_its_values_and_allows_only_its_own_origin() -> None:
    page, headers = privacy_page(
        api="https://privacy.example/api",
        script="https://privacy.example/api/web/js/privacy-1.0.0.js",
        css="https://privacy.example/api/web/css/privacy-1.0.0.css",
        policy_url='https://example.com/policy?a=1&b="2"',
        token_origins=["https://dashboard.example"],
    )
    assert 'href="https://example.com/policy?a=1&amp;b=&quot;2&quot;"' in page
    assert "{{" not in page
    assert 'data-token-origins="https://dashboard.example"' in page
    policy = headers["Content-Security-Policy"]
    assert "script-src https://privacy.example;" in policy
    assert "frame-ancestors 'self' https://dashboard.example" in policy
    assert not re.search(r"unsafe-(inline|eval)", policy)
