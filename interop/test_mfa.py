"""Second factors in a real browser: Chromium enrols TOTP by decoding the page's QR code with zbarimg and typing
pyotp's code, keeps the backup codes, and signs in with them; pyotp is the independent TOTP implementation."""
import json
import subprocess
import time
import urllib.parse

import pyotp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD, binary
from test_browser import browser, callback_code, fill, find, fresh_cookies, id_token_claims, start, submit  # noqa: F401


@pytest.fixture(scope="module", autouse=True)
def mfa_offered(sesame, tmp_path_factory):
    settings = tmp_path_factory.mktemp("mfa") / "mfa.json"
    settings.write_text(json.dumps({"mfa": {"factors": ["Totp", "BackupCode"], "policy": "PromptAtSignInAndSignUp"}}))
    result = subprocess.run([binary(), "sign-in-exp", "set", "--file", str(settings)], env=sesame.env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def sign_in_with_password(sesame, browser):
    session, verifier = start(sesame, browser)
    fill(browser, "identifier", "alice")
    fill(browser, "password", PASSWORD)
    submit(browser)
    return session, verifier


def decode_qr(browser, tmp_path):
    """The otpauth URI in the page's QR code, as a phone camera would read it: a screenshot, decoded by zbarimg."""
    image = tmp_path / "qr.png"
    image.write_bytes(browser.find_element(By.CSS_SELECTOR, ".qr svg").screenshot_as_png)
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_enrol_totp_from_the_qr_code_then_sign_in_with_it_and_with_backup_codes(sesame, browser, tmp_path):
    session, verifier = sign_in_with_password(sesame, browser)
    assert urllib.parse.urlsplit(browser.current_url).path == "/sign-in/mfa"
    uri = decode_qr(browser, tmp_path)
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.digits == 6 and parsed.interval == 30 and parsed.digest().name == "sha1"
    assert parsed.issuer == "127.0.0.1" and parsed.name == "Alice Liddell"
    # The secret printed beside the code is the same one.
    printed = browser.find_element(By.CSS_SELECTOR, "code.secret").text.replace(" ", "")
    assert printed == parsed.secret
    fill(browser, "code", parsed.now())
    submit(browser)
    codes = [element.text for element in browser.find_elements(By.CSS_SELECTOR, "ol.backup-codes code")]
    assert len(codes) == 10 and all(len(code) == 10 for code in codes)
    # Copy puts the ten codes on the clipboard.
    browser.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": sesame.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    copy = browser.find_element(By.CSS_SELECTOR, "button[data-copy]")
    assert copy.is_displayed()
    copy.click()
    WebDriverWait(browser, 10).until(lambda b: copy.text == "Copied")
    copied = browser.execute_async_script("navigator.clipboard.readText().then(arguments[0])")
    assert copied.split() == codes
    submit(browser)
    callback, _ = callback_code(browser)
    claims = id_token_claims(sesame, session, verifier, callback)
    assert claims["amr"] == ["pwd", "otp", "mfa"]

    # The next sign-in asks for the app's code (a later step: the one used at enrolment is spent).
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    session, verifier = sign_in_with_password(sesame, browser)
    assert "/sign-in/mfa" in browser.current_url
    fill(browser, "code", parsed.at(time.time() + 30))
    submit(browser)
    callback, _ = callback_code(browser)
    assert id_token_claims(sesame, session, verifier, callback)["amr"] == ["pwd", "otp", "mfa"]

    # A backup code works once.
    for attempt in range(2):
        browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
        session, verifier = sign_in_with_password(sesame, browser)
        backup = find(browser, "code") and browser.find_element(By.ID, "backup-code")
        backup.send_keys(codes[0])
        backup.submit()
        if attempt == 0:
            callback, _ = callback_code(browser)
            assert id_token_claims(sesame, session, verifier, callback)["sub"] == sesame.user_id
        else:
            # The refusal is a new page: wait for it rather than read the old one.
            error = WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "backup-error"))[0]
            assert "already used" in error.text
