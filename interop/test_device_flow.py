"""The device authorization grant (RFC 8628) end to end: `requests` plays the device (it asks for a code and polls the
token endpoint as RFC 8628 §3.4-3.5 says, honouring `interval` and `slow_down`) while Chromium plays the person on
another screen (the verification page, the sign-in, the confirmation). Then the bad paths: denial, polling too fast,
replays and racing polls, clients that may not use the grant, malformed requests and guessed user codes."""
import concurrent.futures
import json
import re
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests
from authlib.jose import JsonWebKey, jwt
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD, binary
from test_browser import browser, fill, find, submit  # noqa: F401

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(scope="module")
def device_app(sesame):
    out = subprocess.run([binary(), "app", "create", "--name", "Living-room TV", "--type", "native", "--device-flow",
                          "--json"], env=sesame.env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["id"]


def authorize_device(sesame, client_id, scope="openid profile offline_access"):
    response = requests.post(sesame.issuer + "/device/auth", data={"client_id": client_id, "scope": scope}, timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()


def token_request(sesame, client_id, device_code):
    return requests.post(sesame.issuer + "/token", data={"grant_type": DEVICE_GRANT, "device_code": device_code,
                                                         "client_id": client_id}, timeout=5)


class Poller(threading.Thread):
    """The device: polls every `interval` seconds, five more after each `slow_down`, until an answer other than
    `authorization_pending` (RFC 8628 §3.5)."""

    def __init__(self, sesame, client_id, started):
        super().__init__(daemon=True)
        self.sesame, self.client_id, self.started = sesame, client_id, started
        self.answers = []
        self.result = None

    def run(self):
        interval = self.started["interval"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(interval)
            response = token_request(self.sesame, self.client_id, self.started["device_code"])
            body = response.json()
            self.answers.append(body.get("error", "tokens"))
            if body.get("error") == "slow_down":
                interval += 5
            elif body.get("error") != "authorization_pending":
                self.result = (response.status_code, body)
                return


def open_verification(browser, started, complete=True):
    browser.get(started["verification_uri_complete"] if complete else started["verification_uri"])
    return find(browser, "user_code")


def test_discovery_names_the_endpoint_and_the_grant(sesame):
    document = requests.get(sesame.issuer + "/.well-known/openid-configuration", timeout=5).json()
    assert document["device_authorization_endpoint"] == sesame.issuer + "/device/auth"
    assert DEVICE_GRANT in document["grant_types_supported"]


def test_chromium_approves_while_the_device_polls(sesame, device_app, browser):
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    started = authorize_device(sesame, device_app)
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", started["user_code"])
    assert started["verification_uri"] == sesame.base + "/device"
    assert started["expires_in"] == 600 and started["interval"] == 5
    poller = Poller(sesame, device_app, started)
    poller.start()
    # The person opens the complete URI: the code is filled in; they confirm it is their device's.
    field = open_verification(browser, started)
    assert field.get_attribute("value") == started["user_code"]
    submit(browser)
    assert "Living-room TV" in browser.find_element(By.TAG_NAME, "h1").text
    assert started["user_code"] in browser.page_source
    browser.find_element(By.CSS_SELECTOR, "button[value=allow]").click()
    # Not signed in yet: the usual sign-in page, then back to the result.
    WebDriverWait(browser, 10).until(lambda b: "/sign-in" in b.current_url)
    fill(browser, "identifier", "alice")
    fill(browser, "password", PASSWORD)
    submit(browser)
    WebDriverWait(browser, 10).until(lambda b: "/device/done" in b.current_url)
    assert "result=approved" in browser.current_url
    assert "Device connected" in browser.find_element(By.TAG_NAME, "h1").text
    poller.join(timeout=60)
    assert poller.result is not None, poller.answers
    status, tokens = poller.result
    assert status == 200, tokens
    assert set(poller.answers[:-1]) <= {"authorization_pending"}, poller.answers
    # The ID token verifies with the published keys and names the person and the device app.
    jwks = JsonWebKey.import_key_set(requests.get(sesame.issuer + "/jwks", timeout=5).json())
    claims = jwt.decode(tokens["id_token"], jwks)
    claims.validate()
    assert claims["iss"] == sesame.issuer and claims["aud"] == device_app and claims["sub"] == sesame.user_id
    assert "nonce" not in claims and claims["amr"] == ["pwd"]
    me = requests.get(sesame.issuer + "/me", headers={"Authorization": "Bearer " + tokens["access_token"]}, timeout=5)
    assert me.status_code == 200 and me.json()["sub"] == sesame.user_id and me.json()["name"] == "Alice Liddell"
    refreshed = requests.post(sesame.issuer + "/token", data={"grant_type": "refresh_token", "client_id": device_app,
                                                              "refresh_token": tokens["refresh_token"]}, timeout=5)
    assert refreshed.status_code == 200, refreshed.text
    # Single use: the device code is spent, and a replay revokes the grant (the refresh token goes with it).
    replay = token_request(sesame, device_app, started["device_code"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    again = requests.post(sesame.issuer + "/token", data={"grant_type": "refresh_token", "client_id": device_app,
                                                          "refresh_token": refreshed.json()["refresh_token"]}, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_signed_in_person_approves_and_two_racing_polls_get_one_answer(sesame, device_app, browser):
    # The browser is still signed in from the test before: confirming approves at once (no sign-in page).
    started = authorize_device(sesame, device_app, scope="openid")
    open_verification(browser, started, complete=False)
    fill(browser, "user_code", started["user_code"].lower().replace("-", " "))
    submit(browser)
    browser.find_element(By.CSS_SELECTOR, "button[value=allow]").click()
    WebDriverWait(browser, 10).until(lambda b: "/device/done" in b.current_url)
    assert "result=approved" in browser.current_url
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: token_request(sesame, device_app, started["device_code"]), range(4)))
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400], [a.text for a in answers]
    assert all(a.json()["error"] == "invalid_grant" for a in answers if a.status_code == 400)
    # The code was entered once: a second person entering it finds nothing to approve.
    browser.get(sesame.base + "/device")
    fill(browser, "user_code", started["user_code"])
    submit(browser)
    assert browser.find_element(By.CSS_SELECTOR, "[role=alert]").text


def test_the_person_denies_and_the_device_hears_access_denied(sesame, device_app, browser):
    started = authorize_device(sesame, device_app)
    open_verification(browser, started)
    submit(browser)
    browser.find_element(By.CSS_SELECTOR, "button[value=deny]").click()
    WebDriverWait(browser, 10).until(lambda b: "/device/done" in b.current_url)
    assert "result=denied" in browser.current_url
    answer = token_request(sesame, device_app, started["device_code"])
    assert answer.status_code == 400 and answer.json()["error"] == "access_denied"


def test_polling_too_fast_slows_the_device_down(sesame, device_app):
    started = authorize_device(sesame, device_app)
    first = token_request(sesame, device_app, started["device_code"])
    assert first.status_code == 400 and first.json()["error"] == "authorization_pending"
    second = token_request(sesame, device_app, started["device_code"])
    assert second.status_code == 400 and second.json()["error"] == "slow_down"
    assert second.headers["Cache-Control"] == "no-store"
    unknown = token_request(sesame, device_app, "not-a-device-code")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"


def test_clients_and_requests_the_grant_refuses(sesame, device_app):
    # A web app (confidential, authenticated) may not use the grant; an unknown client is not told apart.
    web = requests.post(sesame.issuer + "/device/auth", data={"scope": "openid"},
                        auth=(sesame.app_id, sesame.app_secret), timeout=5)
    assert web.status_code == 400 and web.json()["error"] == "unauthorized_client"
    unknown = requests.post(sesame.issuer + "/device/auth", data={"client_id": "nobody"}, timeout=5)
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    started = authorize_device(sesame, device_app)
    stolen = requests.post(sesame.issuer + "/token", data={"grant_type": DEVICE_GRANT,
                                                           "device_code": started["device_code"]},
                           auth=(sesame.app_id, sesame.app_secret), timeout=5)
    assert stolen.status_code == 400 and stolen.json()["error"] == "unauthorized_client"
    for data in [{"client_id": device_app, "scope": "openid\x00profile"},
                 [("client_id", device_app), ("scope", "openid"), ("scope", "profile")],
                 {"client_id": device_app, "resource": "not a uri"}]:
        bad = requests.post(sesame.issuer + "/device/auth", data=data, timeout=5)
        assert bad.status_code == 400 and bad.json()["error"] in {"invalid_request", "invalid_target"}, bad.text
    missing = requests.post(sesame.issuer + "/token", data={"grant_type": DEVICE_GRANT, "client_id": device_app},
                            timeout=5)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert requests.get(sesame.issuer + "/device/auth", timeout=5).status_code in {404, 405}
    # Logto's verification URI leads to the same page, the code kept.
    logto = requests.get(sesame.issuer + "/device?user_code=BCDF-GHJK", allow_redirects=False, timeout=5)
    assert logto.status_code in {302, 303} and logto.headers["Location"] == "/device?user_code=BCDF-GHJK"


def test_verification_page_input_and_guessing(sesame, device_app):
    s = requests.Session()
    # Control characters in the query are refused; a prefill that is not a user code is dropped, not echoed.
    assert s.get(sesame.base + "/device?user_code=%00%0a", timeout=5).status_code == 400
    page = s.get(sesame.base + "/device?user_code=<script>", timeout=5)
    assert page.status_code == 200 and 'name="user_code" value=""' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    # No CSRF token: refused before any code is looked at.
    assert s.post(sesame.base + "/device", data={"user_code": "BCDF-GHJK"}, timeout=5).status_code == 403
    for typed in ["", "\x00" * 10, "BCDF-GHJ", "A" * 10_000]:
        answer = s.post(sesame.base + "/device", data={"csrf_token": csrf, "user_code": typed}, timeout=5)
        assert answer.status_code in {400, 413}, (typed[:20], answer.status_code)
    # Wrong codes from one address: 20 in 15 minutes (the four above count), then every code is refused, even a
    # live one.
    statuses = [s.post(sesame.base + "/device", data={"csrf_token": csrf, "user_code": "ZZZZ-ZZZZ"}, timeout=5)
                .status_code for _ in range(18)]
    assert statuses.count(429) >= 1 and statuses[0] == 400, statuses
    started = authorize_device(sesame, device_app)
    live = s.post(sesame.base + "/device", data={"csrf_token": csrf, "user_code": started["user_code"]}, timeout=5)
    assert live.status_code == 429
