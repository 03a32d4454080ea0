"""The seed's end-user path in a real browser: Chromium driven by Selenium, codes read from the dev mailbox."""
import json
import os
import re
import subprocess
import secrets
import shutil
import time
import urllib.parse

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from aliyun_fake import AliyunFake
from conftest import REDIRECT_URI, binary


def chromium_paths():
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (os.path.exists(browser) and os.path.exists(driver)):
        pytest.fail("chromium and chromium-driver are required (scripts/test installs them)")
    return browser, driver


def new_chrome():
    """Headless Chromium at a phone's width, in English."""
    binary, driver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=360,800",
                     "--lang=en-US"]:
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(20)
    return chrome


@pytest.fixture(scope="module")
def browser():
    chrome = new_chrome()
    yield chrome
    chrome.quit()


@pytest.fixture(autouse=True)
def fresh_cookies(browser):
    # Every test starts signed out (deleting cookies from the error page of the callback would not reach them).
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})


def start(sesame, browser):
    """Opens the app's authorization request, as Auth.js would redirect the browser."""
    session = OAuth2Session(sesame.app_id, sesame.app_secret, scope="openid profile email offline_access",
                            redirect_uri=REDIRECT_URI, code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, _ = session.create_authorization_url(sesame.issuer + "/auth", code_verifier=verifier)
    browser.get(url)
    WebDriverWait(browser, 10).until(lambda b: "/sign-in" in b.current_url)
    return session, verifier


def mailbox_code(sesame, address, usage):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        messages = [m for m in requests.get(sesame.base + "/dev/mailbox", timeout=5).json()
                    if m["to"] == address and m["usageType"] == usage]
        if messages:
            return messages[-1]["code"]
        time.sleep(0.1)
    raise AssertionError(f"no {usage} code for {address}")


def find(browser, name):
    """The field named `name`, once the page that has it has loaded."""
    return WebDriverWait(browser, 10).until(lambda b: b.find_element(By.NAME, name))


def fill(browser, name, value):
    field = find(browser, name)
    field.clear()
    field.send_keys(value)


def submit(browser):
    button = browser.find_element(By.CSS_SELECTOR, "form button[type=submit]")
    button.click()
    # Wait for the next page: the old button goes stale once the browser has navigated.
    WebDriverWait(browser, 10).until(lambda b: _is_stale(button))


def _is_stale(element):
    try:
        element.is_enabled()
        return False
    except Exception:
        return True


def callback_code(browser):
    # The app is not running: the browser lands on an error page at the callback URL, which is enough.
    WebDriverWait(browser, 10).until(lambda b: b.current_url.startswith(REDIRECT_URI))
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(browser.current_url).query))
    return browser.current_url, query


def id_token_claims(sesame, session, verifier, callback):
    token = session.fetch_token(sesame.issuer + "/token", authorization_response=callback, code_verifier=verifier)
    jwks = JsonWebKey.import_key_set(requests.get(sesame.issuer + "/jwks", timeout=5).json())
    claims = jwt.decode(token["id_token"], jwks, claims_cls=CodeIDToken,
                        claims_params={"client_id": sesame.app_id, "access_token": token["access_token"]})
    claims.validate()
    return claims


def test_sign_in_with_an_email_code(sesame, browser):
    session, verifier = start(sesame, browser)
    browser.find_element(By.LINK_TEXT, "Sign in with an email code").click()
    fill(browser, "identifier", "alice@example.com")
    submit(browser)
    code_field = find(browser, "code")
    assert code_field.get_attribute("autocomplete") == "one-time-code"
    code_field.send_keys(mailbox_code(sesame, "alice@example.com", "SignIn"))
    submit(browser)
    callback, query = callback_code(browser)
    assert query["iss"] == sesame.issuer
    claims = id_token_claims(sesame, session, verifier, callback)
    assert claims["email"] == "alice@example.com"
    assert claims["sub"] == sesame.user_id


def test_register_in_the_browser(sesame, browser):
    session, verifier = start(sesame, browser)
    browser.find_element(By.LINK_TEXT, "Create an account").click()
    fill(browser, "identifier", "carol@example.com")
    submit(browser)
    fill(browser, "code", mailbox_code(sesame, "carol@example.com", "Register"))
    password = find(browser, "newPassword")
    assert password.get_attribute("autocomplete") == "new-password"
    password.send_keys("Sturdy-Lantern-58")
    fill(browser, "name", "Carol")
    submit(browser)
    callback, _ = callback_code(browser)
    claims = id_token_claims(sesame, session, verifier, callback)
    assert claims["email"] == "carol@example.com"
    assert claims["name"] == "Carol"


def test_forgot_password_in_the_browser(sesame, browser):
    session, verifier = start(sesame, browser)
    browser.find_element(By.LINK_TEXT, "Forgot your password?").click()
    fill(browser, "identifier", "alice@example.com")
    submit(browser)
    fill(browser, "code", mailbox_code(sesame, "alice@example.com", "ForgotPassword"))
    fill(browser, "newPassword", "Brand-New-Walrus-77")
    submit(browser)
    assert "password was changed" in browser.page_source
    browser.find_element(By.LINK_TEXT, "Sign in").click()
    fill(browser, "identifier", "alice")
    fill(browser, "password", "Brand-New-Walrus-77")
    submit(browser)
    callback, _ = callback_code(browser)
    claims = id_token_claims(sesame, session, verifier, callback)
    assert claims["sub"] == sesame.user_id


def test_wrong_code_shows_an_inline_error(sesame, browser):
    start(sesame, browser)
    browser.get(sesame.base + "/register")
    fill(browser, "identifier", "dave@example.com")
    submit(browser)
    fill(browser, "code", "000000" if mailbox_code(sesame, "dave@example.com", "Register") != "000000" else "111111")
    fill(browser, "newPassword", "Quiet-Harbor-31")
    submit(browser)
    error = browser.find_element(By.ID, "code-error")
    assert "incorrect" in error.text
    assert find(browser, "code").get_attribute("aria-invalid") == "true"


def test_the_seed_flow_with_aliyun_direct_mail_enabled(sesame, browser, tmp_path):
    """The seed: Aliyun Direct Mail is the enabled connector, and the code arrives through it."""
    fake = AliyunFake({"LTAI-seed": "seed-secret"}).start()
    config = tmp_path / "aliyun.json"
    config.write_text(json.dumps({
        "accessKeyId": "LTAI-seed", "accessKeySecret": "seed-secret", "accountName": "noreply@mail.example.test",
        "fromAlias": "Bookstore", "endpoint": fake.endpoint,
        "templates": [
            {"usageType": "SignIn", "subject": "登录验证码", "content": "<p>您的登录验证码是 {{code}}</p>"},
            {"usageType": "Generic", "subject": "Your code", "content": "<p>Your code is {{code}}</p>"},
        ],
    }))

    def cli(*args):
        result = subprocess.run([binary(), *args], env=sesame.env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr

    try:
        cli("user", "create", "--email", "frank@example.com", "--name", "Frank")
        cli("connector", "set", "aliyun-direct-mail", "--file", str(config))
        cli("connector", "enable", "aliyun-direct-mail")
        session, verifier = start(sesame, browser)
        browser.find_element(By.LINK_TEXT, "Sign in with an email code").click()
        fill(browser, "identifier", "frank@example.com")
        submit(browser)
        [mail] = fake.sent
        assert mail["ToAddress"] == "frank@example.com" and mail["Subject"] == "登录验证码"
        code = re.search(r"(\d{6})", mail["HtmlBody"]).group(1)
        fill(browser, "code", code)
        submit(browser)
        callback, _ = callback_code(browser)
        assert id_token_claims(sesame, session, verifier, callback)["email"] == "frank@example.com"
    finally:
        cli("connector", "disable", "aliyun-direct-mail")
        fake.stop()


def no_horizontal_overflow(browser):
    return browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_a_new_address_signing_in_by_code_creates_its_account(sesame, browser):
    """No account enumeration, as a person meets it: the code goes out; only after it does the page say that no
    account uses the address, and offer to create one with it, without a second code (360 px wide)."""
    session, verifier = start(sesame, browser)
    browser.find_element(By.LINK_TEXT, "Sign in with an email code").click()
    fill(browser, "identifier", "grace@example.com")
    submit(browser)
    fill(browser, "code", mailbox_code(sesame, "grace@example.com", "SignIn"))
    submit(browser)
    assert "No account uses this address yet" in browser.page_source
    assert no_horizontal_overflow(browser)
    fill(browser, "newPassword", "Compiler-Pioneer-1906")
    fill(browser, "name", "Grace")
    submit(browser)
    callback, _ = callback_code(browser)
    claims = id_token_claims(sesame, session, verifier, callback)
    assert claims["email"] == "grace@example.com"
    assert claims["name"] == "Grace"
    sent = [m for m in requests.get(sesame.base + "/dev/mailbox", timeout=5).json() if m["to"] == "grace@example.com"]
    assert len(sent) == 1


def test_a_taken_address_registering_signs_in_instead(sesame, browser):
    session, verifier = start(sesame, browser)
    browser.find_element(By.LINK_TEXT, "Create an account").click()
    fill(browser, "identifier", "alice@example.com")
    submit(browser)
    fill(browser, "code", mailbox_code(sesame, "alice@example.com", "Register"))
    fill(browser, "newPassword", "Another-Walrus-88")
    submit(browser)
    assert "An account already uses this address" in browser.page_source
    assert no_horizontal_overflow(browser)
    submit(browser)
    callback, _ = callback_code(browser)
    assert id_token_claims(sesame, session, verifier, callback)["sub"] == sesame.user_id


def test_an_invitation_sent_through_aliyun_is_accepted_by_registering(sesame, browser, tmp_path):
    """Issue 12: the invitation goes out through Aliyun Direct Mail (the fake), the invitee opens its link in
    Chromium, registers with the invited address (its code through Aliyun too), accepts, and the organization token
    of the new member carries the invited role's permission."""
    from test_management_api import management_token
    headers = {"Authorization": "Bearer " + management_token(sesame)}

    def post(path, body):
        response = requests.post(sesame.base + "/api" + path, json=body, headers=headers, timeout=10)
        assert response.status_code in (200, 201), response.text
        return response.json()

    scope = post("/organization-scopes", {"name": "edit:docs"})
    role = post("/organization-roles", {"name": "editor", "organizationScopeIds": [scope["id"]]})
    acme = post("/organizations", {"name": "Acme & Sons"})
    fake = AliyunFake({"LTAI-invite": "invite-secret"}).start()
    config = tmp_path / "aliyun.json"
    config.write_text(json.dumps({
        "accessKeyId": "LTAI-invite", "accessKeySecret": "invite-secret", "accountName": "noreply@mail.example.test",
        "endpoint": fake.endpoint,
        "templates": [
            {"usageType": "OrganizationInvitation", "subject": "Join {{organization.name}}",
             "content": "<p>Join {{ organization.name }}: <a href=\"{{link}}\">accept</a></p>"},
            {"usageType": "Generic", "subject": "Your code", "content": "<p>Your code is {{code}}</p>"},
        ],
    }))

    def cli(*args):
        result = subprocess.run([binary(), *args], env=sesame.env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr

    try:
        cli("connector", "set", "aliyun-direct-mail", "--file", str(config))
        cli("connector", "enable", "aliyun-direct-mail")
        expires = int((time.time() + 7 * 86400) * 1000)
        invitation = post("/organization-invitations", {
            "invitee": "ivy@example.com", "organizationId": acme["id"], "expiresAt": expires,
            "organizationRoleIds": [role["id"]], "messagePayload": {},
        })
        [mail] = fake.sent
        assert mail["ToAddress"] == "ivy@example.com" and mail["Subject"] == "Join Acme & Sons"
        assert "Join Acme &amp; Sons" in mail["HtmlBody"]
        link = re.search(r'href="([^"]+)"', mail["HtmlBody"]).group(1)
        assert link == f"{sesame.base}/invitation/{invitation['id']}"

        browser.get(link)
        assert "Join Acme &amp; Sons" in browser.page_source
        assert no_horizontal_overflow(browser)
        browser.find_element(By.LINK_TEXT, "Create an account").click()
        assert find(browser, "identifier").get_attribute("value") == "ivy@example.com"
        submit(browser)
        code = re.search(r"(\d{6})", fake.sent[-1]["HtmlBody"]).group(1)
        assert fake.sent[-1]["ToAddress"] == "ivy@example.com"
        fill(browser, "code", code)
        fill(browser, "newPassword", "Copper-Kettle-Tune-42")
        fill(browser, "name", "Ivy")
        submit(browser)
        # Registered: back on the invitation, which can now be accepted.
        try:
            WebDriverWait(browser, 10).until(lambda b: b.current_url == link)
        except Exception:
            raise AssertionError("not back on the invitation: " + browser.current_url + ": "
                                 + browser.find_element(By.TAG_NAME, "main").text)
        submit(browser)
        assert "You joined Acme &amp; Sons" in browser.page_source
        assert requests.get(f"{sesame.base}/api/organization-invitations/{invitation['id']}", headers=headers,
                            timeout=5).json()["status"] == "Accepted"

        # Signed in already: the app's authorization request comes straight back with a code.
        session = OAuth2Session(sesame.app_id, sesame.app_secret,
                                scope="openid offline_access urn:logto:scope:organizations edit:docs",
                                redirect_uri=REDIRECT_URI, code_challenge_method="S256")
        verifier = secrets.token_urlsafe(48)
        url, _ = session.create_authorization_url(sesame.issuer + "/auth", code_verifier=verifier,
                                                  resource="urn:logto:resource:organizations")
        browser.get(url)
        callback, _ = callback_code(browser)
        token = session.fetch_token(sesame.issuer + "/token", authorization_response=callback, code_verifier=verifier)
        organization_token = session.refresh_token(sesame.issuer + "/token", refresh_token=token["refresh_token"],
                                                   organization_id=acme["id"])
        jwks = JsonWebKey.import_key_set(requests.get(sesame.issuer + "/jwks", timeout=5).json())
        claims = jwt.decode(organization_token["access_token"], jwks)
        assert claims["aud"] == f"urn:logto:organization:{acme['id']}"
        assert claims["scope"] == "edit:docs"
    finally:
        cli("connector", "disable", "aliyun-direct-mail")
        fake.stop()
