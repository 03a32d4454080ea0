"""A resource server that checks Sesame's access tokens with PyJWT against the JWKS (RFC 9068), and Authlib driving
the user flow and the machine-to-machine flow against it: the scopes in the tokens follow the roles (RBAC)."""
import http.server
import json
import secrets
import threading
import urllib.parse

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from conftest import REDIRECT_URI, free_port
from test_authlib import discovery, sign_in
from test_management_api import management_token

API = "https://api.bookstore.test"


class ResourceServer:
    """GET /books needs read:books, POST /books needs write:books; 401 for a bad token, 403 for a missing scope."""

    def __init__(self, issuer):
        jwks = jwt.PyJWKClient(issuer + "/jwks", cache_keys=True)
        routes = {"GET": "read:books", "POST": "write:books"}

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body=None, challenge=None):
                payload = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if challenge:
                    self.send_header("WWW-Authenticate", challenge)
                self.end_headers()
                self.wfile.write(payload)

            def check(self):
                needed = routes[self.command]
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                try:
                    key = jwks.get_signing_key_from_jwt(token)
                    header = jwt.get_unverified_header(token)
                    claims = jwt.decode(token, key, algorithms=["ES384", "ES256", "RS256", "EdDSA"], audience=API,
                                        issuer=issuer, options={"require": ["exp", "iat", "sub", "client_id", "jti"]})
                except jwt.PyJWTError as error:
                    return self.answer(401, {"error": "invalid_token", "detail": str(error)}, "Bearer")
                if header.get("typ") != "at+jwt":
                    return self.answer(401, {"error": "invalid_token", "detail": "not an access token"}, "Bearer")
                if needed not in claims.get("scope", "").split():
                    return self.answer(403, {"error": "insufficient_scope"},
                                       f'Bearer error="insufficient_scope", scope="{needed}"')
                self.answer(200, {"sub": claims["sub"], "client_id": claims["client_id"], "scope": claims.get("scope")})

            do_GET = check
            do_POST = check

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def call(self, method, token):
        return requests.request(method, f"http://127.0.0.1:{self.port}/books",
                                headers={"Authorization": f"Bearer {token}"}, timeout=5)


@pytest.fixture(scope="module")
def setup(sesame):
    """The Books API with two permissions, a reader role on Alice, an editor role, and an m2m app with a writer role."""
    headers = {"Authorization": "Bearer " + management_token(sesame)}
    api = sesame.base + "/api"
    resource = requests.post(api + "/resources", json={"indicator": API, "name": "Books",
                                                       "scopes": ["read:books", "write:books"]},
                             headers=headers, timeout=5)
    assert resource.status_code == 200, resource.text
    scopes = {scope["name"]: scope["id"] for scope in resource.json()["scopes"]}

    def role(name, scope, role_type="User"):
        created = requests.post(api + "/roles", json={"name": name, "description": name, "type": role_type,
                                                      "scopeIds": [scopes[scope]]}, headers=headers, timeout=5)
        assert created.status_code == 200, created.text
        return created.json()["id"]

    reader, editor, writer = role("reader", "read:books"), role("editor", "write:books"), \
        role("writer", "write:books", "MachineToMachine")
    assert requests.put(f"{api}/users/{sesame.user_id}/roles", json={"roleIds": [reader]}, headers=headers,
                        timeout=5).status_code == 200
    machine = requests.post(api + "/applications", json={"name": "Importer", "type": "MachineToMachine"},
                            headers=headers, timeout=5).json()
    assert requests.post(f"{api}/applications/{machine['id']}/roles", json={"roleIds": [writer]}, headers=headers,
                         timeout=5).status_code == 201
    server = ResourceServer(sesame.issuer)
    yield {"headers": headers, "editor": editor, "machine": machine, "server": server}
    server.server.shutdown()


def test_user_tokens_follow_the_users_roles(sesame, setup):
    server, headers = setup["server"], setup["headers"]
    metadata = discovery(sesame)
    session = OAuth2Session(sesame.app_id, sesame.app_secret, scope="openid offline_access read:books write:books",
                            redirect_uri=REDIRECT_URI, code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, _ = session.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, resource=API)
    callback = sign_in(sesame, requests.Session(), url)
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier,
                                resource=API)
    assert token["scope"] == "read:books"
    assert server.call("GET", token["access_token"]).json()["sub"] == sesame.user_id
    denied = server.call("POST", token["access_token"])
    assert denied.status_code == 403 and 'scope="write:books"' in denied.headers["WWW-Authenticate"]
    # The editor role is given: the next refresh carries write:books, no new sign-in.
    user_roles = f"{sesame.base}/api/users/{sesame.user_id}/roles"
    assert requests.post(user_roles, json={"roleIds": [setup["editor"]]}, headers=headers, timeout=5).status_code == 201
    token = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"], resource=API)
    assert server.call("POST", token["access_token"]).status_code == 200
    # Taken away again: gone at the next refresh.
    assert requests.delete(f"{user_roles}/{setup['editor']}", headers=headers, timeout=5).status_code == 204
    token = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"], resource=API)
    assert server.call("POST", token["access_token"]).status_code == 403
    assert server.call("GET", token["access_token"]).status_code == 200
    # An ID token or a tampered token is not an access token for the API.
    assert server.call("GET", token["id_token"]).status_code == 401
    head, body, signature = token["access_token"].split(".")
    claims = json.loads(jwt.utils.base64url_decode(body))
    claims["scope"] = "read:books write:books"
    forged = ".".join([head, jwt.utils.base64url_encode(json.dumps(claims).encode()).decode(), signature])
    assert server.call("POST", forged).status_code == 401


def test_machine_to_machine_tokens_follow_the_apps_roles(sesame, setup):
    server, machine = setup["server"], setup["machine"]
    session = OAuth2Session(machine["id"], machine["secret"])
    token_endpoint = discovery(sesame)["token_endpoint"]
    token = session.fetch_token(token_endpoint, grant_type="client_credentials", scope="read:books write:books",
                                resource=API)
    assert token["scope"] == "write:books"
    answer = server.call("POST", token["access_token"])
    assert answer.status_code == 200 and answer.json()["sub"] == machine["id"]
    assert server.call("GET", token["access_token"]).status_code == 403
    # Without a scope parameter the token holds no scope at all (Logto's rule), and says so.
    bare = session.fetch_token(token_endpoint, grant_type="client_credentials", resource=API)
    assert bare["scope"] == ""
    assert server.call("POST", bare["access_token"]).status_code == 403
    # A token for another audience (the Management API) is refused by the resource server.
    assert server.call("GET", setup["headers"]["Authorization"].removeprefix("Bearer ")).status_code == 401
