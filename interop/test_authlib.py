"""Authlib, an independent relying party, completes the code flow against the running server."""
import base64
import html.parser
import json
import secrets
import subprocess
import urllib.parse

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

from conftest import PASSWORD, REDIRECT_URI, binary


class FormFields(html.parser.HTMLParser):
    """Collects the hidden inputs of the sign-in form."""

    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")


def discovery(sesame):
    response = requests.get(sesame.issuer + "/.well-known/openid-configuration", timeout=5)
    assert response.status_code == 200
    return response.json()


def client(sesame, **kwargs):
    return OAuth2Session(sesame.app_id, sesame.app_secret, scope="openid profile email offline_access",
                         redirect_uri=REDIRECT_URI, code_challenge_method="S256", **kwargs)


def sign_in(sesame, browser, authorization_url):
    """Follows the browser part of the flow and returns the callback URL."""
    response = browser.get(authorization_url, allow_redirects=False, timeout=5)
    assert response.status_code == 303, response.text
    location = urllib.parse.urljoin(sesame.base, response.headers["Location"])
    for _ in range(5):
        if location.startswith(REDIRECT_URI):
            return location
        page = browser.get(location, allow_redirects=False, timeout=5)
        if page.status_code == 200 and 'action="/sign-in"' in page.text:
            form = FormFields()
            form.feed(page.text)
            page = browser.post(sesame.base + "/sign-in", data={
                "csrf_token": form.fields["csrf_token"], "identifier": "alice", "password": PASSWORD,
            }, allow_redirects=False, timeout=5)
        assert page.status_code == 303, page.text
        location = urllib.parse.urljoin(sesame.base, page.headers["Location"])
    raise AssertionError("the flow did not reach the redirect URI")


def authorize(sesame, session, browser, **params):
    metadata = discovery(sesame)
    verifier = secrets.token_urlsafe(48)
    url, state = session.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier,
                                                  **params)
    callback = sign_in(sesame, browser, url)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))
    assert query["state"] == state
    assert query["iss"] == sesame.issuer
    return metadata, callback, verifier


def verify_id_token(sesame, metadata, token, nonce=None):
    jwks = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=5).json())
    params = {"client_id": sesame.app_id, "access_token": token["access_token"]}
    if nonce:
        params["nonce"] = nonce
    claims = jwt.decode(token["id_token"], jwks, claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": sesame.issuer}}, claims_params=params)
    claims.validate()
    return claims


def test_code_flow_with_pkce_verifies_the_es384_id_token(sesame):
    session, browser = client(sesame), requests.Session()
    nonce = secrets.token_urlsafe(16)
    metadata, callback, verifier = authorize(sesame, session, browser, nonce=nonce)
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    claims = verify_id_token(sesame, metadata, token, nonce=nonce)
    assert claims.header["alg"] == "ES384"
    assert claims["sub"] == sesame.user_id
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert claims["name"] == "Alice Liddell"
    assert claims["username"] == "alice"
    assert claims["nonce"] == nonce
    assert "at_hash" in claims

    # Userinfo: bearer header (GET) and form body (POST, RFC 6750 §2.2).
    userinfo = requests.get(metadata["userinfo_endpoint"],
                            headers={"Authorization": "Bearer " + token["access_token"]}, timeout=5)
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == sesame.user_id
    posted = requests.post(metadata["userinfo_endpoint"], data={"access_token": token["access_token"]}, timeout=5)
    assert posted.json()["email"] == "alice@example.com"

    # Refresh rotates; the old refresh token is then refused.
    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    verify_id_token(sesame, metadata, refreshed)
    reuse = requests.post(metadata["token_endpoint"], data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"],
    }, auth=(sesame.app_id, sesame.app_secret), timeout=5)
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"


def test_an_rs256_application_beside_the_es384_one(sesame):
    """An application registered with `--id-token-alg RS256` gets RS256 ID tokens (2048-bit key, in the JWKS) that
    Authlib verifies, while the seed's application on the same server goes on getting ES384 ones."""
    created = subprocess.run([binary(), "app", "create", "--name", "Legacy RP", "--type", "traditional",
                              "--redirect-uri", REDIRECT_URI, "--id-token-alg", "RS256", "--json"],
                             env=sesame.env, check=True, capture_output=True, text=True)
    app = json.loads(created.stdout)
    session = OAuth2Session(app["id"], app["secret"], scope="openid profile email", redirect_uri=REDIRECT_URI,
                            code_challenge_method="S256")
    nonce = secrets.token_urlsafe(16)
    metadata, callback, verifier = authorize(sesame, session, requests.Session(), nonce=nonce)
    assert metadata["id_token_signing_alg_values_supported"][:2] == ["ES384", "RS256"]
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    key_set = requests.get(metadata["jwks_uri"], timeout=5).json()
    claims = jwt.decode(token["id_token"], JsonWebKey.import_key_set(key_set), claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": sesame.issuer}},
                        claims_params={"client_id": app["id"], "access_token": token["access_token"], "nonce": nonce})
    claims.validate()
    assert claims.header["alg"] == "RS256"
    assert claims["aud"] == app["id"]
    rsa = [key for key in key_set["keys"] if key["kty"] == "RSA"]
    assert [key["kid"] for key in rsa] == [claims.header["kid"]]
    modulus = base64.urlsafe_b64decode(rsa[0]["n"] + "=" * (-len(rsa[0]["n"]) % 4))
    assert len(modulus) * 8 >= 2048
    # The seed's application, on the same server: ES384 as before.
    seed = client(sesame)
    metadata, callback, verifier = authorize(sesame, seed, requests.Session())
    seed_token = seed.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert verify_id_token(sesame, metadata, seed_token).header["alg"] == "ES384"


def test_no_nonce_claim_unless_the_client_sent_one(sesame):
    session, browser = client(sesame), requests.Session()
    metadata, callback, verifier = authorize(sesame, session, browser)
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    claims = verify_id_token(sesame, metadata, token)
    assert "nonce" not in claims


def test_client_secret_post(sesame):
    session = client(sesame, token_endpoint_auth_method="client_secret_post")
    metadata, callback, verifier = authorize(sesame, session, requests.Session())
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    verify_id_token(sesame, metadata, token)


def exchange(sesame, metadata, code, verifier, secret=None):
    return requests.post(metadata["token_endpoint"], data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
    }, auth=(sesame.app_id, secret or sesame.app_secret), timeout=5)


def code_of(callback):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))["code"]


def test_wrong_secret_replayed_code_and_wrong_verifier_are_refused(sesame):
    session, browser = client(sesame), requests.Session()
    metadata, callback, verifier = authorize(sesame, session, browser)
    wrong_secret = exchange(sesame, metadata, code_of(callback), verifier, secret="not-the-secret")
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"

    first = exchange(sesame, metadata, code_of(callback), verifier)
    assert first.status_code == 200
    replay = exchange(sesame, metadata, code_of(callback), verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # The replay revoked the tokens of the first exchange.
    revoked = requests.get(metadata["userinfo_endpoint"],
                           headers={"Authorization": "Bearer " + first.json()["access_token"]}, timeout=5)
    assert revoked.status_code == 401

    metadata, callback, _ = authorize(sesame, session, browser)
    wrong_verifier = exchange(sesame, metadata, code_of(callback), secrets.token_urlsafe(48))
    assert wrong_verifier.status_code == 400
    assert wrong_verifier.json()["error"] == "invalid_grant"


def test_logout_ends_the_session(sesame):
    session, browser = client(sesame), requests.Session()
    metadata, callback, verifier = authorize(sesame, session, browser)
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    response = browser.get(metadata["end_session_endpoint"], params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:9/", "state": "bye",
    }, allow_redirects=False, timeout=5)
    assert response.status_code == 303
    assert response.headers["Location"] == "http://127.0.0.1:9/?state=bye"
    again = browser.get(session.create_authorization_url(metadata["authorization_endpoint"],
                                                         code_verifier=secrets.token_urlsafe(48))[0],
                        allow_redirects=False, timeout=5)
    assert again.headers["Location"] == "/sign-in"
