"""Passkeys against a live server at http://localhost (WebAuthn refuses IP addresses as RP IDs): a software
authenticator (soft-webauthn) through the Experience API, and Chromium's virtual authenticator through the hosted
pages (WebDriver's addVirtualAuthenticator), enrolling a passkey after a password and then signing in with it alone."""
import json
import os
import secrets
import subprocess
from base64 import urlsafe_b64decode, urlsafe_b64encode

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.utils import sha256
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import Protocol, Transport, VirtualAuthenticatorOptions
from selenium.webdriver.support.ui import WebDriverWait
from soft_webauthn import SoftWebauthnDevice

from conftest import PASSWORD, binary, free_port, postgres_database, serve, stop
from test_browser import id_token_claims, new_chrome

REDIRECT_URI = "http://localhost:9/callback"


class Server:
    def __init__(self, base, env, app_id, app_secret, user_id):
        self.base, self.env, self.app_id, self.app_secret, self.user_id = base, env, app_id, app_secret, user_id
        self.issuer = base + "/oidc"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("passkeys-" + request.param)
    database = f"sqlite://{directory}/sesame.db" if request.param == "sqlite" else postgres_database()
    if database is None:
        pytest.skip("PostgreSQL not configured")
    port = free_port()
    env = {**os.environ, "SESAME_DB": database, "SESAME_HOST": "127.0.0.1", "SESAME_PORT": str(port),
           "SESAME_ENDPOINT": f"http://localhost:{port}", "SESAME_SECRET": secrets.token_hex(24),
           "SESAME_DEV_MAILBOX": "1"}

    def cli(*args):
        out = subprocess.run([binary(), *args], env=env, cwd=directory, check=True, capture_output=True, text=True)
        return json.loads(out.stdout) if "--json" in args else out.stdout

    app = cli("app", "create", "--name", "Bookstore", "--type", "traditional", "--redirect-uri", REDIRECT_URI, "--json")
    user = cli("user", "create", "--username", "alice", "--email", "alice@example.com", "--password", PASSWORD,
               "--name", "Alice Liddell", "--json")
    settings = directory / "mfa.json"
    settings.write_text(json.dumps({"mfa": {"factors": ["WebAuthn", "Totp"], "policy": "PromptAtSignInAndSignUp"},
                                    "passkeySignIn": {"enabled": True, "showPasskeyButton": True,
                                                      "allowAutofill": True}}))
    cli("sign-in-exp", "set", "--file", str(settings))
    process = serve(env, directory, directory / "server.log")
    try:
        yield Server(f"http://localhost:{port}", env, app["id"], app["secret"], user["id"])
    finally:
        stop(process)


def b64(data: bytes) -> str:
    return urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Passkey(SoftWebauthnDevice):
    """soft-webauthn's authenticator, with user verification (a passkey asks for the screen lock): the UV flag set
    in the authenticator data it returns, and assertions signed over that."""

    def create(self, options, origin):
        result = super().create(options, origin)
        decoded = cbor.decode(result["response"]["attestationObject"])
        auth = bytearray(decoded["authData"])
        auth[32] |= 0x04
        decoded["authData"] = bytes(auth)
        result["response"]["attestationObject"] = cbor.encode(decoded)
        return result

    def get(self, options, origin):
        result = super().get(options, origin)
        auth = bytearray(result["response"]["authenticatorData"])
        auth[32] |= 0x04
        result["response"]["authenticatorData"] = bytes(auth)
        result["response"]["signature"] = self.private_key.sign(
            bytes(auth) + sha256(result["response"]["clientDataJSON"]), ec.ECDSA(hashes.SHA256()))
        return result


def as_json(credential):
    response = {key: b64(value) for key, value in credential["response"].items() if isinstance(value, bytes)}
    return {"id": b64(credential["rawId"]), "rawId": b64(credential["rawId"]), "type": "public-key",
            "response": response, "clientExtensionResults": {}}


def creation_options(options):
    public = dict(options)
    public["challenge"] = unb64(options["challenge"])
    public["user"] = {**options["user"], "id": unb64(options["user"]["id"])}
    return {"publicKey": public}


def request_options(options):
    return {"publicKey": {**options, "challenge": unb64(options["challenge"])}}


def api(session, server, method, path, body=None):
    return session.request(method, server.base + "/api/experience" + path, json=body if body is not None else {},
                           timeout=10)


def password_first_factor(session, server):
    assert api(session, server, "PUT", "", {"interactionEvent": "SignIn"}).status_code == 204
    verified = api(session, server, "POST", "/verification/password",
                   {"identifier": {"type": "username", "value": "alice"}, "password": PASSWORD}).json()
    assert api(session, server, "POST", "/identification",
               {"verificationId": verified["verificationId"]}).status_code == 204


def test_a_software_authenticator_through_the_experience_api(server):
    session = requests.Session()
    password_first_factor(session, server)
    submit = api(session, server, "POST", "/submit")
    assert submit.status_code == 422 and submit.json()["data"]["availableFactors"] == ["WebAuthn", "Totp"]
    started = api(session, server, "POST", "/verification/web-authn/registration").json()
    options = started["registrationOptions"]
    assert options["rp"]["id"] == "localhost" and options["attestation"] == "none"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    device = Passkey()
    credential = device.create(creation_options(options), server.base)
    # Without user verification the same authenticator is refused.
    lazy = SoftWebauthnDevice().create(creation_options(options), server.base)
    refused = api(session, server, "POST", "/verification/web-authn/registration/verify",
                  {"verificationId": started["verificationId"], "payload": as_json(lazy)})
    assert refused.status_code == 400 and "not verified" in refused.json()["message"]
    # That answer spent the challenge: the good credential needs a new one.
    again = api(session, server, "POST", "/verification/web-authn/registration/verify",
                {"verificationId": started["verificationId"], "payload": as_json(credential)})
    assert again.status_code == 404
    started = api(session, server, "POST", "/verification/web-authn/registration").json()
    credential = device.create(creation_options(started["registrationOptions"]), server.base)
    verified = api(session, server, "POST", "/verification/web-authn/registration/verify",
                   {"verificationId": started["verificationId"], "payload": as_json(credential)})
    assert verified.status_code == 200, verified.text
    assert api(session, server, "POST", "/profile/mfa",
               {"type": "WebAuthn", "verificationId": started["verificationId"]}).status_code == 204
    assert api(session, server, "POST", "/submit").status_code == 200

    # Second factor next time: the passkey answers; a replayed assertion and a foreign origin are refused.
    session = requests.Session()
    password_first_factor(session, server)
    assert api(session, server, "POST", "/submit").status_code == 403
    challenge = api(session, server, "POST", "/verification/web-authn/authentication").json()
    assert [c["id"] for c in challenge["authenticationOptions"]["allowCredentials"]] == [b64(device.credential_id)]
    wrong_origin = device.get(request_options(challenge["authenticationOptions"]), "http://evil.localhost:1")
    refused = api(session, server, "POST", "/verification/web-authn/authentication/verify",
                  {"verificationId": challenge["verificationId"], "payload": as_json(wrong_origin)})
    assert refused.status_code == 400 and "origin" in refused.json()["message"]
    challenge = api(session, server, "POST", "/verification/web-authn/authentication").json()
    assertion = device.get(request_options(challenge["authenticationOptions"]), server.base)
    ok = api(session, server, "POST", "/verification/web-authn/authentication/verify",
             {"verificationId": challenge["verificationId"], "payload": as_json(assertion)})
    assert ok.status_code == 200, ok.text
    replay = api(session, server, "POST", "/verification/web-authn/authentication/verify",
                 {"verificationId": challenge["verificationId"], "payload": as_json(assertion)})
    assert replay.status_code == 404
    assert api(session, server, "POST", "/submit").status_code == 200

    # A passkey alone signs in (it is two factors in one).
    session = requests.Session()
    assert api(session, server, "PUT", "", {"interactionEvent": "SignIn"}).status_code == 204
    started = api(session, server, "POST", "/verification/sign-in-passkey/authentication").json()
    assert started["authenticationOptions"]["allowCredentials"] == []
    assertion = device.get(request_options(started["authenticationOptions"]), server.base)
    verified = api(session, server, "POST", "/verification/sign-in-passkey/authentication/verify",
                   {"verificationId": started["verificationId"], "payload": as_json(assertion)})
    assert verified.status_code == 200, verified.text
    assert api(session, server, "POST", "/identification",
               {"verificationId": started["verificationId"]}).status_code == 204
    assert api(session, server, "POST", "/submit").status_code == 200

    # Bad input: junk payloads are clear 400s, never 500s.
    for payload in [None, "x", {}, {"id": "%%%"}, {"id": "AAAA", "response": {"clientDataJSON": "e30"}},
                    {"id": b64(device.credential_id), "response": {"clientDataJSON": "A" * 100000}}]:
        session = requests.Session()
        password_first_factor(session, server)
        challenge = api(session, server, "POST", "/verification/web-authn/authentication").json()
        answer = api(session, server, "POST", "/verification/web-authn/authentication/verify",
                     {"verificationId": challenge["verificationId"], "payload": payload})
        assert answer.status_code in (400, 413), (payload, answer.status_code, answer.text)


@pytest.fixture
def chrome():
    # A browser of its own: its virtual authenticator must hold only this test's passkeys.
    browser = new_chrome()
    yield browser
    browser.quit()


def start(server, browser):
    session = OAuth2Session(server.app_id, server.app_secret, scope="openid profile", redirect_uri=REDIRECT_URI,
                            code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, _ = session.create_authorization_url(server.issuer + "/auth", code_verifier=verifier)
    browser.get(url)
    WebDriverWait(browser, 10).until(lambda b: "/sign-in" in b.current_url)
    return session, verifier


def callback(browser):
    WebDriverWait(browser, 15).until(lambda b: b.current_url.startswith(REDIRECT_URI))
    return browser.current_url


def click_when_shown(browser, selector):
    try:
        button = WebDriverWait(browser, 10).until(
            lambda b: next((e for e in b.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()), None))
    except Exception:
        source = browser.page_source
        raise AssertionError(f"no {selector} at {browser.current_url}: " + source[source.find("<body"):][:1500])
    button.click()


def test_chromium_enrols_a_passkey_then_signs_in_with_it_alone(server, chrome):
    options = VirtualAuthenticatorOptions()
    options.protocol = Protocol.CTAP2
    options.transport = Transport.INTERNAL
    options.has_resident_key = True
    options.has_user_verification = True
    options.is_user_verified = True
    chrome.add_virtual_authenticator(options)
    # A user of its own: the API test gave Alice a passkey already.
    username = "carol_" + secrets.token_hex(3)
    carol = json.loads(subprocess.run(
        [binary(), "user", "create", "--username", username, "--password", PASSWORD, "--json"],
        env=server.env, check=True, capture_output=True, text=True).stdout)

    session, verifier = start(server, chrome)
    chrome.find_element(By.NAME, "identifier").send_keys(username)
    chrome.find_element(By.NAME, "password").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "form[action='/sign-in'] button[type=submit]").click()
    WebDriverWait(chrome, 10).until(lambda b: "/sign-in/mfa" in b.current_url)
    click_when_shown(chrome, "button[data-passkey=register]")
    claims = id_token_claims(server, session, verifier, callback(chrome))
    assert claims["amr"] == ["pwd", "hwk", "mfa"]
    credentials = chrome.get_credentials()
    assert len(credentials) == 1 and credentials[0].is_resident_credential

    # The account page lists it under the browser's name; removed there, and made again from there.
    chrome.get(server.base + "/account")
    assert "Chrome on Linux" in chrome.page_source
    chrome.find_element(By.CSS_SELECTOR, "form[action$='/delete'] button").click()
    WebDriverWait(chrome, 10).until(lambda b: "notice=factorRemoved" in b.current_url)
    assert "No second factor is set up yet." in chrome.page_source
    click_when_shown(chrome, "button[data-passkey=accountRegister]")
    WebDriverWait(chrome, 15).until(lambda b: "notice=passkeyAdded" in b.current_url)
    assert "Chrome on Linux" in chrome.page_source

    # Signed out: the passkey alone. With autofill on, the identifier field offers it (conditional mediation),
    # and the virtual authenticator picks it at once.
    chrome.execute_cdp_cmd("Network.clearBrowserCookies", {})
    session, verifier = start(server, chrome)
    claims = id_token_claims(server, session, verifier, callback(chrome))
    assert claims["sub"] == carol["id"]
    assert claims["amr"] == ["hwk", "mfa"]

    # Autofill off: the sign-in page's button.
    settings = json.dumps({"passkeySignIn": {"enabled": True, "showPasskeyButton": True, "allowAutofill": False}})
    path = os.path.join(os.path.dirname(server.env["SESAME_DB"].removeprefix("sqlite://")), "no-autofill.json") \
        if server.env["SESAME_DB"].startswith("sqlite://") else "/tmp/sesame-no-autofill.json"
    with open(path, "w") as file:
        file.write(settings)
    subprocess.run([binary(), "sign-in-exp", "set", "--file", path], env=server.env, check=True, capture_output=True)
    chrome.execute_cdp_cmd("Network.clearBrowserCookies", {})
    session, verifier = start(server, chrome)
    assert "webauthn" not in chrome.find_element(By.NAME, "identifier").get_attribute("autocomplete")
    click_when_shown(chrome, "button[data-passkey=signIn]")
    claims = id_token_claims(server, session, verifier, callback(chrome))
    assert claims["sub"] == carol["id"] and claims["amr"] == ["hwk", "mfa"]
