"""JWT client authentication (RFC 7523, OpenID Connect Core §9) with Authlib's own `PrivateKeyJWT` and
`ClientSecretJWT` auth methods: an RS256 key registered inline, an ES256 key published at a `jwks_uri` on loopback,
and a client secret MAC; replays and the wrong method are refused."""
import http.server
import json
import secrets
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT
from joserfc.jwk import ECKey

from conftest import REDIRECT_URI, binary
from test_authlib import authorize, discovery
from test_management_api import management_token

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def cli(sesame, *args):
    out = subprocess.run([binary(), *args, "--json"], env=sesame.env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def cli_failure(sesame, *args):
    out = subprocess.run([binary(), *args], env=sesame.env, capture_output=True, text=True)
    assert out.returncode != 0
    return out.stderr


def private_jwk(kty, crv_or_size, kid):
    key = JsonWebKey.generate_key(kty, crv_or_size, is_private=True)
    private = key.as_dict(is_private=True)
    private["kid"] = kid
    public = key.as_dict(is_private=False)
    public["kid"] = kid
    return private, {"keys": [public]}


class KeySetServer:
    """Serves one JWK Set over HTTP on loopback, counting requests."""

    def __init__(self, document):
        self.document = document
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                if self.path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", "/jwks")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(outer.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def assertion(client_id, audience, key, alg, **overrides):
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + 60,
              "jti": str(uuid.uuid4())}
    claims.update(overrides)
    header = {"alg": alg}
    if isinstance(key, dict) and "kid" in key:
        header["kid"] = key["kid"]
    return jwt.encode(header, claims, key).decode()


def test_private_key_jwt_with_an_inline_rs256_key_through_the_code_flow(sesame):
    private, public = private_jwk("RSA", 2048, "rp-key-1")
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(public, file)
        file.flush()
        app = cli(sesame, "app", "create", "--name", "Signed RP", "--type", "traditional", "--redirect-uri",
                  REDIRECT_URI, "--auth-method", "private_key_jwt", "--jwks-file", file.name)
    metadata = discovery(sesame)
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
    assert "RS256" in metadata["token_endpoint_auth_signing_alg_values_supported"]
    session = OAuth2Session(app["id"], private, scope="openid profile offline_access", redirect_uri=REDIRECT_URI,
                            code_challenge_method="S256",
                            token_endpoint_auth_method=PrivateKeyJWT(metadata["token_endpoint"]))
    _, callback, verifier = authorize(sesame, session, requests.Session())
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert token["id_token"] and token["refresh_token"]
    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    # Introspection and revocation take the same assertions (aud: the token endpoint or their own URL).
    introspected = requests.post(metadata["introspection_endpoint"], data={
        "token": refreshed["access_token"], "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(app["id"], metadata["introspection_endpoint"], private, "RS256"),
    }, timeout=5)
    assert introspected.status_code == 200, introspected.text
    assert introspected.json()["active"] is True
    revoked = requests.post(metadata["revocation_endpoint"], data={
        "token": refreshed["refresh_token"], "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(app["id"], metadata["token_endpoint"], private, "RS256"),
    }, timeout=5)
    assert revoked.status_code == 200, revoked.text
    # Its key is its credential: it was given no secret, and a guessed one (or none) gets the answer an unknown client
    # gets, so nobody learns how it authenticates.
    assert app["secret"] is None
    unknown = requests.post(metadata["token_endpoint"], data={"grant_type": "client_credentials"},
                            auth=("no-such-app", "guess"), timeout=5).json()
    for attempt in [{"auth": (app["id"], "guess")}, {"data_extra": {"client_id": app["id"]}}]:
        refused = requests.post(metadata["token_endpoint"], data={"grant_type": "refresh_token",
                                                                  "refresh_token": token["refresh_token"],
                                                                  **attempt.get("data_extra", {})},
                                auth=attempt.get("auth"), timeout=5)
        assert refused.status_code == 401
        assert refused.json() == unknown


def test_private_key_jwt_with_keys_at_a_jwks_uri(sesame):
    private, public = private_jwk("EC", "P-256", "m2m-key-1")
    keys = KeySetServer(public)
    try:
        app = cli(sesame, "app", "create", "--name", "Indexer", "--type", "m2m", "--auth-method", "private_key_jwt",
                  "--jwks-uri", keys.url, "--auth-signing-alg", "ES256")
        metadata = discovery(sesame)
        # Authlib takes a non-RSA private key as a key object.
        session = OAuth2Session(app["id"], ECKey.import_key(private), token_endpoint_auth_method=PrivateKeyJWT(
            metadata["token_endpoint"], alg="ES256"))
        for _ in range(3):
            token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
            assert token["access_token"]
        # Fetched once, then cached.
        assert keys.hits == 1
        # A replayed assertion is refused; so is one signed with another key, or with the pinned algorithm's rival.
        once = assertion(app["id"], metadata["token_endpoint"], private, "ES256")
        first = requests.post(metadata["token_endpoint"], data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": once,
        }, timeout=5)
        assert first.status_code == 200, first.text
        replay = requests.post(metadata["token_endpoint"], data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": once,
        }, timeout=5)
        assert replay.status_code == 401
        assert replay.json()["error"] == "invalid_client"
        stranger, _ = private_jwk("EC", "P-256", "m2m-key-1")
        forged = requests.post(metadata["token_endpoint"], data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(app["id"], metadata["token_endpoint"], stranger, "ES256"),
        }, timeout=5)
        assert forged.status_code == 401
    finally:
        keys.close()


def test_a_jwks_uri_that_redirects_is_not_followed(sesame):
    """A redirect could lead from https to plain http elsewhere, or to an internal host: the fetch refuses it."""
    private, public = private_jwk("EC", "P-256", "moved-key")
    keys = KeySetServer(public)
    try:
        app = cli(sesame, "app", "create", "--name", "Moved", "--type", "m2m", "--auth-method", "private_key_jwt",
                  "--jwks-uri", keys.url.replace("/jwks", "/moved"))
        metadata = discovery(sesame)
        refused = requests.post(metadata["token_endpoint"], data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(app["id"], metadata["token_endpoint"], private, "ES256"),
        }, timeout=10)
        assert refused.status_code == 401
        assert refused.json()["error_description"] == "client authentication failed"
        assert keys.hits == 1  # the redirect itself, never its target
    finally:
        keys.close()


def test_client_secret_jwt(sesame):
    app = cli(sesame, "app", "create", "--name", "MAC client", "--type", "m2m", "--auth-method", "client_secret_jwt")
    metadata = discovery(sesame)
    assert "client_secret_jwt" in metadata["token_endpoint_auth_methods_supported"]
    session = OAuth2Session(app["id"], app["secret"],
                            token_endpoint_auth_method=ClientSecretJWT(metadata["token_endpoint"]))
    assert session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")["access_token"]
    # A MAC with the wrong secret, an expired assertion, and one for another audience are refused.
    for key, overrides in [(secrets.token_urlsafe(32).encode(), {}),
                           (app["secret"].encode(), {"exp": int(time.time()) - 120}),
                           (app["secret"].encode(), {"aud": "https://elsewhere.test/token"})]:
        refused = requests.post(metadata["token_endpoint"], data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(app["id"], metadata["token_endpoint"], key, "HS256", **overrides),
        }, timeout=5)
        assert refused.status_code == 401, overrides
        assert refused.json()["error"] == "invalid_client"
    # Switching to the default method drops the kept secret: the MAC no longer works, the secret itself does.
    cli(sesame, "app", "update", app["id"], "--auth-method", "default")
    time.sleep(5.5)  # the server caches applications for 5 s
    mac = requests.post(metadata["token_endpoint"], data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(app["id"], metadata["token_endpoint"], app["secret"].encode(), "HS256"),
    }, timeout=5)
    assert mac.status_code == 401
    basic = requests.post(metadata["token_endpoint"], data={"grant_type": "client_credentials"},
                          auth=(app["id"], app["secret"]), timeout=5)
    assert basic.status_code == 200, basic.text
    # Back to client_secret_jwt: no secret is kept until a new one is made.
    out = subprocess.run([binary(), "app", "update", app["id"], "--auth-method", "client_secret_jwt"],
                         env=sesame.env, check=True, capture_output=True, text=True)
    assert "--new-secret" in out.stdout
    renewed = cli(sesame, "app", "update", app["id"], "--new-secret")
    time.sleep(5.5)
    session = OAuth2Session(app["id"], renewed["secret"],
                            token_endpoint_auth_method=ClientSecretJWT(metadata["token_endpoint"]))
    assert session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")["access_token"]


def test_registration_refuses_what_cannot_work(sesame):
    private, public = private_jwk("RSA", 2048, "k")
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump({"keys": [private]}, file)
        file.flush()
        error = cli_failure(sesame, "app", "create", "--name", "Leaky", "--type", "m2m", "--auth-method",
                            "private_key_jwt", "--jwks-file", file.name)
        assert "private key" in error
    assert "jwks" in cli_failure(sesame, "app", "create", "--name", "Keyless", "--type", "m2m", "--auth-method",
                                 "private_key_jwt")
    assert "jwksUri" in cli_failure(sesame, "app", "create", "--name", "Plain", "--type", "m2m", "--auth-method",
                                    "private_key_jwt", "--jwks-uri", "http://keys.example.test/jwks")
    assert "--auth-method" in cli_failure(sesame, "app", "create", "--name", "Odd", "--type", "m2m",
                                          "--auth-method", "tls_client_auth")


def test_the_management_api_checks_client_authentication_as_the_cli_does(sesame):
    """`oidcClientMetadata`'s client authentication members through the Management API: a wrong value is a 400 naming
    the problem, never a 500, and nothing is stored; a good one round-trips and null clears it."""
    headers = {"Authorization": "Bearer " + management_token(sesame)}
    _, public = private_jwk("EC", "P-256", "api-key")
    private, _ = private_jwk("EC", "P-256", "leak")
    before = requests.get(sesame.base + "/api/applications?page_size=100", headers=headers, timeout=5).json()
    for metadata, expected in [
        ({"tokenEndpointAuthMethod": "tls_client_auth"}, "tokenEndpointAuthMethod"),
        ({"tokenEndpointAuthMethod": 5}, "tokenEndpointAuthMethod"),
        ({"tokenEndpointAuthMethod": "private_key_jwt"}, "jwks"),
        ({"tokenEndpointAuthMethod": "private_key_jwt", "jwks": "keys"}, "jwks"),
        ({"tokenEndpointAuthMethod": "private_key_jwt", "jwks": {"keys": [private]}}, "private"),
        ({"tokenEndpointAuthMethod": "private_key_jwt", "jwksUri": "http://keys.example.test/jwks"}, "jwksUri"),
        ({"tokenEndpointAuthMethod": "private_key_jwt", "jwks": public, "jwksUri": "https://k.test/jwks"}, "jwksUri"),
        ({"tokenEndpointAuthMethod": "private_key_jwt", "jwks": public, "tokenEndpointAuthSigningAlg": "HS256"},
         "tokenEndpointAuthSigningAlg"),
        ({"tokenEndpointAuthMethod": "none"}, "none"),
    ]:
        response = requests.post(sesame.base + "/api/applications", headers=headers, timeout=5, json={
            "name": "Bad", "type": "MachineToMachine", "oidcClientMetadata": metadata})
        assert response.status_code == 400, (metadata, response.text)
        assert expected in response.json()["message"], (metadata, response.json())
    after = requests.get(sesame.base + "/api/applications?page_size=100", headers=headers, timeout=5).json()
    assert len(after) == len(before)
    created = requests.post(sesame.base + "/api/applications", headers=headers, timeout=5, json={
        "name": "Keyed", "type": "MachineToMachine", "oidcClientMetadata": {
            "tokenEndpointAuthMethod": "private_key_jwt", "jwks": public, "tokenEndpointAuthSigningAlg": "ES256"}})
    assert created.status_code == 200, created.text
    app = created.json()
    assert "secret" not in app or app["secret"] is None
    assert app["oidcClientMetadata"]["tokenEndpointAuthMethod"] == "private_key_jwt"
    assert app["oidcClientMetadata"]["jwks"] == public
    cleared = requests.patch(f"{sesame.base}/api/applications/{app['id']}", headers=headers, timeout=5, json={
        "oidcClientMetadata": {"tokenEndpointAuthMethod": None, "jwks": None, "tokenEndpointAuthSigningAlg": None}})
    assert cleared.status_code == 200, cleared.text
    metadata = cleared.json()["oidcClientMetadata"]
    assert metadata["tokenEndpointAuthMethod"] is None and metadata["jwks"] is None
