#!/usr/bin/env python3
"""Starts glewlwyd (Debian's package, a C OpenID Provider) configured as close to Sesame's benchmark setup as it allows,
for `benchmarks/run --peer`: its own SQLite database and configuration in WORKDIR, listening on PORT, an OpenID Connect
plugin named "oidc" signing with one ES384 key, one confidential client allowed `client_credentials` on one scope, and
one user with a password. The client secret is hashed by glewlwyd's client module with PBKDF2 at 1 iteration (its
cheapest setting; Sesame keeps a SHA-256 digest).

    peer_glewlwyd.py WORKDIR PORT    prints one JSON line {"pid", "base", "issuer", "client_id", "client_secret",
                                     "scope", "discovery", "jwks", "token"} once the peer answers; the process keeps
                                     running until killed (glewlwyd is killed with it)

Uses only the standard library and `cryptography` (for the key), plus the `glewlwyd` and `sqlite3` commands.
"""
import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

from cryptography.hazmat.primitives.asymmetric import ec

SCHEMA = "/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3"
CONFIG = "/etc/glewlwyd/glewlwyd.conf"
CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret-0123456789abcdef"
SCOPE = "read:books"


def b64(number, length):
    return base64.urlsafe_b64encode(number.to_bytes(length, "big")).rstrip(b"=").decode()


def es384_jwks():
    key = ec.generate_private_key(ec.SECP384R1())
    numbers = key.private_numbers()
    return {"keys": [{"kty": "EC", "crv": "P-384", "kid": "bench-es384", "alg": "ES384",
                      "x": b64(numbers.public_numbers.x, 48), "y": b64(numbers.public_numbers.y, 48),
                      "d": b64(numbers.private_value, 48)}]}


def write_config(workdir, port, database):
    """glewlwyd's own configuration file, with the port, URL, log and database changed."""
    lines = []
    for line in open(CONFIG).read().splitlines():
        stripped = line.strip()
        if stripped.startswith("port"):
            line = f"port={port}"
        elif stripped.startswith("external_url"):
            line = f'external_url="http://127.0.0.1:{port}"'
        elif stripped.startswith("log_mode"):
            line = 'log_mode="file"'
        elif stripped.startswith("log_file"):
            line = f'log_file="{workdir}/glewlwyd.log"'
        elif stripped.startswith("log_level"):
            line = f'log_level="{os.environ.get("GLEWLWYD_LOG_LEVEL", "ERROR")}"'
        elif stripped.startswith("@include"):
            line = f'database = {{ type = "sqlite3"; path = "{database}" }}'
        elif stripped.startswith("static_files_path"):
            line = 'static_files_path="/usr/share/glewlwyd/webapp"'
        lines.append(line)
    path = os.path.join(workdir, "glewlwyd.conf")
    with open(path, "w") as file:
        file.write("\n".join(lines) + "\n")
    return path


class Admin:
    """A session on glewlwyd's administration API (the built-in admin, password "password")."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.call("POST", "/api/auth/", {"username": "admin", "password": "password"})

    def call(self, method, path, body=None):
        request = urllib.request.Request(self.base + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(request, timeout=10) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            raise SystemExit(f"glewlwyd {method} {path}: HTTP {error.code} {error.read()[:300]!r}")
        return json.loads(text) if text else None


def main(workdir, port):
    os.makedirs(workdir, exist_ok=True)
    database = os.path.join(workdir, "glewlwyd.db")
    if os.path.exists(database):
        os.remove(database)
    subprocess.run(["sqlite3", database], stdin=open(SCHEMA), check=True, capture_output=True)
    config = write_config(workdir, port, database)
    process = subprocess.Popen(["glewlwyd", "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    signal.signal(signal.SIGTERM, lambda *_: (process.kill(), sys.exit(0)))
    try:
        configure(process, workdir, port)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()


def configure(process, workdir, port):
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/config.json", timeout=1).read()
            break
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"glewlwyd exited: see {workdir}/glewlwyd.log")
            time.sleep(0.05)
    admin = Admin(base)
    # The client module: PBKDF2 at one iteration, glewlwyd's cheapest secret check.
    if os.environ.get("GLEWLWYD_PBKDF2", "1") == "1":
        module = admin.call("GET", "/api/mod/client/database")
        module["parameters"]["pbkdf2-iterations"] = 1
        admin.call("PUT", "/api/mod/client/database", module)
        admin.call("PUT", "/api/mod/client/database/reset")
    admin.call("POST", "/api/scope/", {"name": SCOPE, "display_name": "Read books", "description": "read",
                                       "password_required": False, "scheme": {}})
    issuer = base + "/api/oidc"
    admin.call("POST", "/api/mod/plugin/", {
        "module": "oidc", "name": "oidc", "display_name": "OpenID Connect", "enabled": True,
        "parameters": {
            "iss": issuer, "jwks-private": json.dumps(es384_jwks()), "default-kid": "bench-es384",
            "code-duration": 60, "access-token-duration": 3600, "refresh-token-duration": 1209600,
            "refresh-token-rolling": True, "allow-non-oidc": True, "auth-type-code-enabled": True,
            "auth-type-client-enabled": True, "auth-type-refresh-enabled": True, "auth-type-password-enabled": False,
            "auth-type-token-enabled": False, "auth-type-id-token-enabled": True, "jwks-show": True,
            "allowed-scope": ["openid", SCOPE], "subject-type": "public", "pkce-allowed": True,
            "introspection-revocation-allowed": False,
        },
    })
    admin.call("POST", "/api/client/", {
        "client_id": CLIENT_ID, "client_name": "Bench", "password": CLIENT_SECRET, "confidential": True,
        "enabled": True, "redirect_uri": ["http://127.0.0.1:9/callback"],
        "authorization_type": ["code", "client_credentials", "refresh_token"], "scope": [SCOPE],
        "token_endpoint_auth_method": ["client_secret_basic", "client_secret_post"],
    })
    admin.call("POST", "/api/user/", {"username": "alice", "name": "Alice", "email": "alice@example.com",
                                      "password": "Correct-Horse-9", "enabled": True, "scope": ["openid"]})
    # The client works before anything is measured.
    request = urllib.request.Request(issuer + "/token", method="POST",
                                     data=f"grant_type=client_credentials&scope={SCOPE}".encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Authorization": "Basic " + base64.b64encode(
                                                  f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()})
    token = json.loads(urllib.request.urlopen(request, timeout=10).read())
    assert token["access_token"].count(".") == 2, token
    header = json.loads(base64.urlsafe_b64decode(token["access_token"].split(".")[0] + "=="))
    assert header["alg"] == "ES384", header
    print(json.dumps({"pid": process.pid, "base": base, "issuer": issuer, "client_id": CLIENT_ID,
                      "client_secret": CLIENT_SECRET, "scope": SCOPE,
                      "discovery": issuer + "/.well-known/openid-configuration", "jwks": issuer + "/jwks",
                      "token": issuer + "/token"}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
