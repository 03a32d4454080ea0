"""The project's own OpenID Provider conformance module.

One test per module of the OpenID Foundation's certification test plans for an OpenID Provider, written from the public
list of module names and their stated purpose (not from the suite's code): the Basic OP plan
(`oidcc-basic-certification-test-plan`), the Config OP plan (`oidcc-config-certification-test-plan`, with the older
plan's RS256 ID token module) and the RP-Initiated Logout OP plan (`oidcc-rp-initiated-logout-certification-test-plan`),
plus consent for a third-party client. Each runs black-box over HTTP against the real server, on SQLite and on
PostgreSQL (the `sesame` fixture), with an application on the default ES384 and one on RS256 (the `rp` fixture).

A certification run proper needs the OpenID Foundation's suite and an https deployment; these tests keep what it checks
from regressing between such runs.
"""
import base64
import hashlib
import html.parser
import json
import secrets
import subprocess
import time
import urllib.parse

import pytest
import requests
from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from conftest import PASSWORD, POST_LOGOUT_URI, REDIRECT_URI, binary
from test_management_api import management_token

ADDRESS = {"formatted": "1 Rue de la Paix\n75002 Paris\nFrance", "streetAddress": "1 Rue de la Paix",
           "locality": "Paris", "postalCode": "75002", "country": "FR"}


class Forms(html.parser.HTMLParser):
    """The forms of a page: action, and the inputs with their values (hidden ones and prefilled text)."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")

    @classmethod
    def of(cls, text):
        parser = cls()
        parser.feed(text)
        return parser.forms


def cli(sesame, *args):
    out = subprocess.run([binary(), *args, "--json"], env=sesame.env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


class OP:
    """The provider under test: its metadata, and the applications and user the modules use."""

    def __init__(self, sesame):
        self.sesame = sesame
        self.metadata = requests.get(sesame.issuer + "/.well-known/openid-configuration", timeout=5).json()
        apps = {}
        for name, extra in [("ES384", []), ("RS256", ["--id-token-alg", "RS256"]), ("second", []),
                            ("third-party", ["--third-party"])]:
            apps[name] = cli(sesame, "app", "create", "--name", f"Conformance {name}", "--type", "traditional",
                             "--redirect-uri", REDIRECT_URI, "--post-logout-redirect-uri", POST_LOGOUT_URI, *extra)
        self.apps = apps
        self.username = "ada"
        user = cli(sesame, "user", "create", "--username", self.username, "--email", "ada@example.com", "--phone",
                   "+44 20 7946 0958", "--password", PASSWORD, "--name", "Ada Lovelace")
        self.user_id = user["id"]
        token = management_token(sesame)
        profiled = requests.patch(f"{sesame.base}/api/users/{self.user_id}/profile", json={"profile": {
            "givenName": "Ada", "familyName": "Lovelace", "address": ADDRESS,
        }}, headers={"Authorization": "Bearer " + token}, timeout=5)
        assert profiled.status_code == 200, profiled.text
        # Applications are cached for 5 s by the server: the ones just made are read fresh on first use.

    def jwks(self):
        return JsonWebKey.import_key_set(requests.get(self.metadata["jwks_uri"], timeout=5).json())


@pytest.fixture(scope="module")
def op(sesame):
    return OP(sesame)


class Browser:
    """A user agent: follows the provider's redirects and pages, signs in on the hosted form (counting how often it was
    asked), answers the consent page, and stops at the client's redirect URI or at a page it does not know."""

    def __init__(self, op, consent="allow"):
        self.op = op
        self.session = requests.Session()
        self.sign_ins = 0
        self.consents = 0
        self.consent = consent
        self.prefilled_identifier = None

    def go(self, url, method="GET", data=None):
        """Returns ("redirect", query dict) at the redirect URI, or ("page", response) for a page it stops at."""
        base = self.op.sesame.base
        if method == "POST":
            response = self.session.post(url, data=data, allow_redirects=False, timeout=10)
        else:
            response = self.session.get(url, allow_redirects=False, timeout=10)
        for _ in range(10):
            if response.status_code in (302, 303):
                location = urllib.parse.urljoin(base, response.headers["Location"])
                if location.startswith(REDIRECT_URI) or location.startswith(POST_LOGOUT_URI):
                    parts = urllib.parse.urlsplit(location)
                    return "redirect", {"url": location, **dict(urllib.parse.parse_qsl(parts.query))}
                response = self.session.get(location, allow_redirects=False, timeout=10)
                continue
            forms = Forms.of(response.text) if response.status_code == 200 else []
            sign_in = next((form for form in forms if form["action"] == "/sign-in"), None)
            consent = next((form for form in forms if form["action"] == "/consent"), None)
            if sign_in:
                self.sign_ins += 1
                self.prefilled_identifier = sign_in["fields"].get("identifier")
                response = self.session.post(base + "/sign-in", data={
                    "csrf_token": sign_in["fields"]["csrf_token"], "identifier": self.op.username,
                    "password": PASSWORD,
                }, allow_redirects=False, timeout=10)
                continue
            if consent:
                self.consents += 1
                response = self.session.post(base + "/consent", data={
                    "csrf_token": consent["fields"]["csrf_token"], "decision": self.consent,
                }, allow_redirects=False, timeout=10)
                continue
            return "page", response
        raise AssertionError("too many redirects")


class RP:
    """A relying party registered at the provider, with the ID token algorithm `alg`."""

    def __init__(self, op, name, alg=None):
        self.op = op
        self.app = op.apps[name]
        self.client_id = self.app["id"]
        self.secret = self.app["secret"]
        self.alg = alg or "ES384"

    def authorization_url(self, **params):
        query = {"client_id": self.client_id, "redirect_uri": REDIRECT_URI, "response_type": "code",
                 "scope": "openid", "state": secrets.token_urlsafe(12), "nonce": secrets.token_urlsafe(12)}
        query.update(params)
        query = {name: value for name, value in query.items() if value is not None}
        return self.op.metadata["authorization_endpoint"] + "?" + urllib.parse.urlencode(query), query

    def authorize(self, browser, **params):
        """Runs an authorization request; returns (kind, result, request) as `Browser.go`, checking `state` and `iss`
        on a redirect (RFC 9207)."""
        url, query = self.authorization_url(**params)
        kind, result = browser.go(url)
        if kind == "redirect":
            assert result.get("state") == query.get("state")
            assert result["iss"] == self.op.sesame.issuer
        return kind, result, query

    def code_flow(self, browser, verifier=None, **params):
        """Authorizes and exchanges the code with client_secret_basic (and `verifier` for PKCE); returns (token
        response, ID token claims)."""
        kind, result, query = self.authorize(browser, **params)
        assert kind == "redirect" and "code" in result, result
        token = self.token({"grant_type": "authorization_code", "code": result["code"], "redirect_uri": REDIRECT_URI,
                            **({"code_verifier": verifier} if verifier else {})})
        assert token.status_code == 200, token.text
        body = token.json()
        claims = self.verify(body["id_token"], nonce=query.get("nonce"), access_token=body["access_token"])
        return body, claims

    def token(self, data, auth="basic"):
        if auth == "basic":
            return requests.post(self.op.metadata["token_endpoint"], data=data, auth=(self.client_id, self.secret),
                                 timeout=10)
        return requests.post(self.op.metadata["token_endpoint"],
                             data={**data, "client_id": self.client_id, "client_secret": self.secret}, timeout=10)

    def verify(self, id_token, nonce=None, access_token=None):
        """Checks the ID token as OpenID Connect Core §3.1.3.7 asks, with Authlib: signature by a published key of
        the application's algorithm, iss, aud, azp, exp, iat, nonce, at_hash."""
        header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=="))
        assert header["alg"] == self.alg
        options = {"iss": {"essential": True, "value": self.op.sesame.issuer},
                   "aud": {"essential": True, "value": self.client_id},
                   "sub": {"essential": True}, "exp": {"essential": True}, "iat": {"essential": True}}
        if nonce:
            options["nonce"] = {"essential": True, "value": nonce}
        claims = jwt.decode(id_token, self.op.jwks(), claims_options=options)
        claims.validate(leeway=5)
        assert claims.header["kid"] in [key["kid"] for key in requests.get(self.op.metadata["jwks_uri"],
                                                                            timeout=5).json()["keys"]]
        if nonce is None:
            assert "nonce" not in claims
        if access_token and "at_hash" in claims:
            digest = {"ES384": "sha384", "RS256": "sha256"}[self.alg]
            half = hashlib.new(digest, access_token.encode()).digest()
            assert claims["at_hash"] == base64.urlsafe_b64encode(half[:len(half) // 2]).rstrip(b"=").decode()
        return claims

    def userinfo(self, access_token, how="get"):
        url = self.op.metadata["userinfo_endpoint"]
        if how == "get":
            return requests.get(url, headers={"Authorization": "Bearer " + access_token}, timeout=10)
        if how == "post-header":
            return requests.post(url, headers={"Authorization": "Bearer " + access_token}, timeout=10)
        return requests.post(url, data={"access_token": access_token}, timeout=10)


@pytest.fixture(params=["ES384", "RS256"])
def rp(op, request):
    return RP(op, request.param, request.param)


def error_page(kind, result):
    """The provider refused without redirecting to the client: a page, never a redirect."""
    assert kind == "page", result
    assert result.status_code >= 400
    assert "text/html" in result.headers.get("Content-Type", "")


# --- Basic OP ------------------------------------------------------------------------------------------------------

def test_oidcc_server(rp):
    body, claims = rp.code_flow(Browser(rp.op))
    assert body["token_type"] == "Bearer"
    assert claims["sub"] == rp.op.user_id
    assert "auth_time" in claims and claims["auth_time"] <= time.time()
    info = rp.userinfo(body["access_token"])
    assert info.status_code == 200
    assert info.json()["sub"] == claims["sub"]


def test_oidcc_response_type_missing(rp):
    kind, result, _ = rp.authorize(Browser(rp.op), response_type=None)
    # Either an error page or an error redirect is allowed; Sesame redirects (the client and URI are valid).
    assert kind == "redirect" and result["error"] == "invalid_request"
    assert "code" not in result


def test_oidcc_idtoken_signature(rp):
    body, claims = rp.code_flow(Browser(rp.op))
    keys = requests.get(rp.op.metadata["jwks_uri"], timeout=5).json()["keys"]
    key = next(key for key in keys if key["kid"] == claims.header["kid"])
    assert key["alg"] == rp.alg and key["use"] == "sig"
    # A flipped signature byte does not verify.
    head, payload, signature = body["id_token"].split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 1
    forged = ".".join([head, payload, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()])
    with pytest.raises(Exception):
        jwt.decode(forged, rp.op.jwks())


def test_oidcc_codereuse(rp):
    kind, result, _ = rp.authorize(Browser(rp.op))
    exchange = {"grant_type": "authorization_code", "code": result["code"], "redirect_uri": REDIRECT_URI}
    first = rp.token(exchange)
    assert first.status_code == 200
    again = rp.token(exchange)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # The suite allows either; Sesame revokes what the code gave (RFC 6749 §4.1.2 SHOULD).
    assert rp.userinfo(first.json()["access_token"]).status_code == 401


def test_oidcc_codereuse_30seconds(op):
    """Both applications' codes are used, then used again 30 s later (one wait for both)."""
    parties = [RP(op, "ES384"), RP(op, "RS256", "RS256")]
    exchanges = []
    for party in parties:
        _, result, _ = party.authorize(Browser(op))
        exchange = {"grant_type": "authorization_code", "code": result["code"], "redirect_uri": REDIRECT_URI}
        first = party.token(exchange)
        assert first.status_code == 200
        exchanges.append((party, exchange, first.json()))
    time.sleep(30)
    for party, exchange, first in exchanges:
        again = party.token(exchange)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        assert party.userinfo(first["access_token"]).status_code == 401


@pytest.mark.parametrize("scope, expected", [
    ("openid profile", {"name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
                        "username": "ada", "updated_at": None}),
    ("openid email", {"email": "ada@example.com", "email_verified": None}),
    ("openid address", {"address": None}),
    ("openid phone", {"phone_number": None, "phone_number_verified": None}),
    ("openid profile email address phone", {"name": "Ada Lovelace", "email": "ada@example.com", "address": None,
                                            "phone_number": None}),
], ids=["oidcc-scope-profile", "oidcc-scope-email", "oidcc-scope-address", "oidcc-scope-phone", "oidcc-scope-all"])
def test_oidcc_scope(rp, scope, expected):
    body, _ = rp.code_flow(Browser(rp.op), scope=scope)
    assert set(body["scope"].split()) >= set(scope.split())
    info = rp.userinfo(body["access_token"]).json()
    for claim, value in expected.items():
        assert claim in info, (claim, info)
        if value is not None:
            assert info[claim] == value
    if "address" in expected:
        assert info["address"]["locality"] == "Paris" and info["address"]["postal_code"] == "75002"
    if "phone_number" in expected:
        # Logto's shape: the E.164 digits without the plus sign.
        assert info["phone_number"] == "442079460958"
    # Nothing beyond the scopes asked for.
    if scope == "openid email":
        assert "name" not in info and "address" not in info


def test_oidcc_ensure_other_scope_order_succeeds(rp):
    body, _ = rp.code_flow(Browser(rp.op), scope="email openid")
    assert "email" in rp.userinfo(body["access_token"]).json()


def test_oidcc_claims_essential(rp):
    claims = json.dumps({"userinfo": {"name": {"essential": True}}, "id_token": {"email": {"essential": True}}})
    body, id_claims = rp.code_flow(Browser(rp.op), claims=claims)
    assert id_claims["email"] == "ada@example.com"
    assert rp.userinfo(body["access_token"]).json()["name"] == "Ada Lovelace"


def test_oidcc_claims_locales(rp):
    rp.code_flow(Browser(rp.op), claims_locales="se")


@pytest.mark.parametrize("how", ["get", "post-header", "post-body"],
                         ids=["oidcc-userinfo-get", "oidcc-userinfo-post-header", "oidcc-userinfo-post-body"])
def test_oidcc_userinfo(rp, how):
    body, claims = rp.code_flow(Browser(rp.op), scope="openid email")
    info = rp.userinfo(body["access_token"], how)
    assert info.status_code == 200
    assert info.headers["Content-Type"].startswith("application/json")
    assert info.json()["sub"] == claims["sub"] and info.json()["email"] == "ada@example.com"
    # A wrong token is a 401 with WWW-Authenticate (RFC 6750 §3).
    refused = rp.userinfo("not-a-token", how)
    assert refused.status_code == 401 and "Bearer" in refused.headers["WWW-Authenticate"]


def test_oidcc_alternate_happy_flow(op):
    """The second application signs the same user in: same public subject, its own audience."""
    first = RP(op, "ES384")
    second = RP(op, "second")
    browser = Browser(op)
    _, a = first.code_flow(browser)
    _, b = second.code_flow(browser)
    assert browser.sign_ins == 1
    assert a["sub"] == b["sub"] and a["aud"] != b["aud"]


@pytest.mark.parametrize("display", ["page", "popup"], ids=["oidcc-display-page", "oidcc-display-popup"])
def test_oidcc_display(rp, display):
    rp.code_flow(Browser(rp.op), display=display)


def test_oidcc_ui_locales(rp):
    # The sign-in page speaks the first asked language the sign-in experience offers (English and Simplified Chinese
    # by default), else its first one; then the flow completes.
    page = requests.get(rp.authorization_url(ui_locales="sv zh-CN en")[0], timeout=10)
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    page = requests.get(rp.authorization_url(ui_locales="sv")[0], timeout=10)
    assert '<html lang="en">' in page.text
    rp.code_flow(Browser(rp.op), ui_locales="sv zh-CN")


def test_oidcc_login_hint(rp):
    browser = Browser(rp.op)
    rp.code_flow(browser, login_hint=rp.op.username)
    assert browser.prefilled_identifier == rp.op.username


def test_oidcc_id_token_hint(rp):
    browser = Browser(rp.op)
    body, claims = rp.code_flow(browser)
    kind, result, query = rp.authorize(browser, prompt="none", id_token_hint=body["id_token"])
    assert kind == "redirect" and "code" in result, result
    assert browser.sign_ins == 1
    token = rp.token({"grant_type": "authorization_code", "code": result["code"], "redirect_uri": REDIRECT_URI})
    again = rp.verify(token.json()["id_token"], nonce=query["nonce"])
    assert again["sub"] == claims["sub"]


def test_oidcc_prompt_login(rp):
    browser = Browser(rp.op)
    _, first = rp.code_flow(browser)
    time.sleep(1.1)
    _, second = rp.code_flow(browser, prompt="login")
    assert browser.sign_ins == 2
    assert second["auth_time"] > first["auth_time"]


def test_oidcc_prompt_none_logged_in(rp):
    browser = Browser(rp.op)
    rp.code_flow(browser)
    _, claims = rp.code_flow(browser, prompt="none")
    assert browser.sign_ins == 1 and claims["sub"] == rp.op.user_id


def test_oidcc_prompt_none_not_logged_in(rp):
    kind, result, _ = rp.authorize(Browser(rp.op), prompt="none")
    assert kind == "redirect" and result["error"] == "login_required"


def test_oidcc_max_age_1(rp):
    browser = Browser(rp.op)
    _, first = rp.code_flow(browser)
    time.sleep(2)
    _, second = rp.code_flow(browser, max_age="1")
    assert browser.sign_ins == 2
    assert second["auth_time"] >= first["auth_time"] + 1


def test_oidcc_max_age_10000(rp):
    browser = Browser(rp.op)
    _, first = rp.code_flow(browser)
    _, second = rp.code_flow(browser, max_age="10000")
    assert browser.sign_ins == 1
    assert second["auth_time"] == first["auth_time"]


def test_oidcc_ensure_post_request_succeeds(rp):
    browser = Browser(rp.op)
    _, query = rp.authorization_url()
    kind, result = browser.go(rp.op.metadata["authorization_endpoint"], method="POST", data=query)
    assert kind == "redirect" and result["state"] == query["state"] and "code" in result


def test_oidcc_ensure_registered_redirect_uri(rp):
    kind, result, _ = rp.authorize(Browser(rp.op), redirect_uri="https://attacker.example.test/callback")
    error_page(kind, result)


def test_oidcc_ensure_request_object_with_redirect_uri(rp):
    request_object = _unsigned_request_object(rp)
    kind, result, _ = rp.authorize(Browser(rp.op), request=request_object)
    # Request objects are not supported, and discovery says so: the error goes back to the registered URI.
    assert rp.op.metadata["request_parameter_supported"] is False
    assert kind == "redirect" and result["error"] == "request_not_supported"


def _unsigned_request_object(rp):
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    claims = base64.urlsafe_b64encode(json.dumps({
        "client_id": rp.client_id, "redirect_uri": REDIRECT_URI, "response_type": "code", "scope": "openid",
    }).encode()).rstrip(b"=").decode()
    return f"{header}.{claims}."


def test_oidcc_ensure_request_with_acr_values_succeeds(rp):
    _, claims = rp.code_flow(Browser(rp.op), acr_values="1 2")
    assert isinstance(claims.get("acr", ""), str)


def test_oidcc_ensure_request_with_unknown_parameter_succeeds(rp):
    rp.code_flow(Browser(rp.op), extra=secrets.token_urlsafe(8))


def test_oidcc_ensure_request_with_valid_pkce_succeeds(rp):
    verifier = secrets.token_urlsafe(48)
    rp.code_flow(Browser(rp.op), verifier=verifier, code_challenge=create_s256_code_challenge(verifier),
                 code_challenge_method="S256")
    # The verifier is required once a challenge was sent, and must match.
    browser = Browser(rp.op)
    _, result, _ = rp.authorize(browser, code_challenge=create_s256_code_challenge(verifier),
                                code_challenge_method="S256")
    wrong = rp.token({"grant_type": "authorization_code", "code": result["code"], "redirect_uri": REDIRECT_URI,
                      "code_verifier": secrets.token_urlsafe(48)})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(rp):
    _, claims = rp.code_flow(Browser(rp.op), nonce=None)
    assert "nonce" not in claims


def test_oidcc_refresh_token(rp):
    body, claims = rp.code_flow(Browser(rp.op), scope="openid offline_access", prompt="consent")
    refreshed = rp.token({"grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    again = rp.verify(refreshed.json()["id_token"])
    assert again["sub"] == claims["sub"] and again["iss"] == claims["iss"] and again["aud"] == claims["aud"]
    # Another client cannot use it (RFC 6749 §10.4), and doing so does not spend it.
    other = RP(rp.op, "second")
    stolen = other.token({"grant_type": "refresh_token", "refresh_token": refreshed.json()["refresh_token"]})
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert rp.token({"grant_type": "refresh_token",
                     "refresh_token": refreshed.json()["refresh_token"]}).status_code == 200


def test_oidcc_server_client_secret_post(rp):
    kind, result, query = rp.authorize(Browser(rp.op))
    token = rp.token({"grant_type": "authorization_code", "code": result["code"], "redirect_uri": REDIRECT_URI},
                     auth="post")
    assert token.status_code == 200, token.text
    rp.verify(token.json()["id_token"], nonce=query["nonce"])


def test_oidcc_idtoken_unsigned(op):
    """Unsigned ID tokens are not offered (the module is skipped for such providers), and cannot be asked for."""
    assert "none" not in op.metadata["id_token_signing_alg_values_supported"]
    refused = subprocess.run([binary(), "app", "create", "--name", "Unsigned", "--type", "traditional",
                              "--redirect-uri", REDIRECT_URI, "--id-token-alg", "none"],
                             env=op.sesame.env, capture_output=True, text=True)
    assert refused.returncode != 0


def test_oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(rp):
    assert rp.op.metadata["request_uri_parameter_supported"] is False
    kind, result, _ = rp.authorize(Browser(rp.op), request_uri="https://rp.example.test/request.jwt")
    assert kind == "redirect" and result["error"] == "request_uri_not_supported"


def test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(rp):
    kind, result, _ = rp.authorize(Browser(rp.op), request=_unsigned_request_object(rp))
    assert kind == "redirect" and result["error"] == "request_not_supported"


# --- Config OP -----------------------------------------------------------------------------------------------------

def test_oidcc_discovery_endpoint_verification(op):
    metadata = op.metadata
    assert metadata["issuer"] == op.sesame.issuer
    for name in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"]:
        assert metadata[name].startswith(op.sesame.issuer + "/"), name
    assert "code" in metadata["response_types_supported"]
    assert "public" in metadata["subject_types_supported"]
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]
    assert {"openid", "profile", "email", "address", "phone", "offline_access"} <= set(metadata["scopes_supported"])
    assert {"sub", "iss", "auth_time", "name", "email", "address", "phone_number"} <= set(metadata["claims_supported"])
    assert {"authorization_code", "refresh_token"} <= set(metadata["grant_types_supported"])
    assert "client_secret_basic" in metadata["token_endpoint_auth_methods_supported"]
    assert metadata["claims_parameter_supported"] is True
    # The JWKS: signature keys, unique kids, each with its algorithm; no private members.
    keys = requests.get(metadata["jwks_uri"], timeout=5).json()["keys"]
    kids = [key["kid"] for key in keys]
    assert len(kids) == len(set(kids))
    for key in keys:
        assert key["use"] == "sig" and key["alg"] in metadata["id_token_signing_alg_values_supported"]
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    assert {"ES384", "RS256"} <= {key["alg"] for key in keys}
    # Discovery also answers at the issuer-relative path the suite uses, as JSON.
    response = requests.get(op.sesame.issuer + "/.well-known/openid-configuration", timeout=5)
    assert response.headers["Content-Type"].startswith("application/json")


def test_oidcc_idtoken_rs256(op):
    party = RP(op, "RS256", "RS256")
    _, claims = party.code_flow(Browser(op))
    assert claims.header["alg"] == "RS256"


# --- RP-Initiated Logout OP ----------------------------------------------------------------------------------------

def logout_url(op, **params):
    params = {name: value for name, value in params.items() if value is not None}
    return op.metadata["end_session_endpoint"] + ("?" + urllib.parse.urlencode(params) if params else "")


def signed_in(rp):
    browser = Browser(rp.op)
    body, _ = rp.code_flow(browser)
    return browser, body["id_token"]


def still_signed_in(rp, browser):
    kind, result, _ = rp.authorize(browser, prompt="none")
    return kind == "redirect" and "code" in result


def confirm(browser, page):
    form = next(form for form in Forms.of(page.text) if form["action"] == "/oidc/session/end/confirm")
    return browser.go(browser.op.sesame.base + form["action"], method="POST", data={**form["fields"], "logout": "yes"})


def test_oidcc_rp_initiated_logout_discovery_endpoint_verification(op):
    assert op.metadata["end_session_endpoint"] == op.sesame.issuer + "/session/end"


def test_oidcc_rp_initiated_logout(rp):
    browser, id_token = signed_in(rp)
    state = secrets.token_urlsafe(8)
    kind, result = browser.go(logout_url(rp.op, id_token_hint=id_token, post_logout_redirect_uri=POST_LOGOUT_URI,
                                         state=state))
    assert kind == "redirect" and result["url"].startswith(POST_LOGOUT_URI) and result["state"] == state
    assert not still_signed_in(rp, browser)


def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(rp):
    browser, id_token = signed_in(rp)
    kind, result = browser.go(logout_url(rp.op, id_token_hint=id_token,
                                         post_logout_redirect_uri="https://attacker.example.test/", state="s"))
    error_page(kind, result)


def test_oidcc_rp_initiated_logout_modified_id_token_hint(rp):
    browser, id_token = signed_in(rp)
    head, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    modified = ".".join([head, base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode(), signature])
    kind, result = browser.go(logout_url(rp.op, id_token_hint=modified, post_logout_redirect_uri=POST_LOGOUT_URI,
                                         state="s"))
    error_page(kind, result)
    assert still_signed_in(rp, browser)


def test_oidcc_rp_initiated_logout_no_id_token_hint(rp):
    browser, _ = signed_in(rp)
    kind, page = browser.go(logout_url(rp.op, client_id=rp.client_id, post_logout_redirect_uri=POST_LOGOUT_URI,
                                       state="s"))
    # Without a hint the person confirms; then the client's URI gets its state back.
    assert kind == "page" and page.status_code == 200
    kind, result = confirm(browser, page)
    assert kind == "redirect" and result["state"] == "s"
    assert not still_signed_in(rp, browser)


def test_oidcc_rp_initiated_logout_no_params(rp):
    browser, _ = signed_in(rp)
    kind, page = browser.go(logout_url(rp.op))
    assert kind == "page" and page.status_code == 200
    kind, done = confirm(browser, page)
    assert kind == "page" and done.status_code == 200
    assert not still_signed_in(rp, browser)


def test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri(rp):
    browser, id_token = signed_in(rp)
    kind, page = browser.go(logout_url(rp.op, id_token_hint=id_token))
    assert kind == "page" and page.status_code == 200
    assert not still_signed_in(rp, browser)


def test_oidcc_rp_initiated_logout_no_state(rp):
    browser, id_token = signed_in(rp)
    kind, result = browser.go(logout_url(rp.op, id_token_hint=id_token, post_logout_redirect_uri=POST_LOGOUT_URI))
    assert kind == "redirect" and "state" not in result


def test_oidcc_rp_initiated_logout_only_state(rp):
    browser, _ = signed_in(rp)
    kind, page = browser.go(logout_url(rp.op, state="only"))
    assert kind == "page" and page.status_code == 200
    kind, done = confirm(browser, page)
    # No client, so no redirect, whatever the state.
    assert kind == "page" and done.status_code == 200
    assert not still_signed_in(rp, browser)


def test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(rp):
    browser, id_token = signed_in(rp)
    kind, result = browser.go(logout_url(rp.op, id_token_hint=id_token,
                                         post_logout_redirect_uri=POST_LOGOUT_URI + "?extra=1", state="s"))
    error_page(kind, result)


def test_oidcc_rp_initiated_logout_bad_id_token_hint(rp):
    browser, _ = signed_in(rp)
    kind, result = browser.go(logout_url(rp.op, id_token_hint="not-a-jwt", post_logout_redirect_uri=POST_LOGOUT_URI,
                                         state="s"))
    error_page(kind, result)
    assert still_signed_in(rp, browser)


# --- Consent for a third-party client ------------------------------------------------------------------------------

def test_third_party_consent_is_asked_remembered_and_can_be_refused(op):
    party = RP(op, "third-party")
    browser = Browser(op)
    body, _ = party.code_flow(browser, scope="openid email")
    assert browser.consents == 1
    assert party.userinfo(body["access_token"]).json()["email"] == "ada@example.com"
    # Remembered: the same scopes again ask nothing; a new scope or prompt=consent asks again.
    party.code_flow(browser, scope="openid email")
    assert browser.consents == 1
    party.code_flow(browser, scope="openid email profile")
    assert browser.consents == 2
    party.code_flow(browser, scope="openid", prompt="consent")
    assert browser.consents == 3
    # prompt=none cannot consent for the user.
    kind, result, _ = party.authorize(browser, scope="openid phone", prompt="none")
    assert kind == "redirect" and result["error"] == "consent_required"
    # Refusing sends access_denied back, and no code.
    refusing = Browser(op, consent="deny")
    kind, result, _ = party.authorize(refusing, scope="openid address")
    assert kind == "redirect" and result["error"] == "access_denied" and "code" not in result
    # A first-party application is never asked.
    first_party = Browser(op)
    RP(op, "ES384").code_flow(first_party, scope="openid email profile")
    assert first_party.consents == 0
