#!/usr/bin/env python3
"""Whole sign-in flows, as a browser and a web app make them, from WORKERS processes for SECONDS: each flow is a fresh
client (new connection, no cookies) that authorizes with PKCE, signs in on the hosted pages, exchanges the code at the
token endpoint and calls userinfo. Prints "FLOWS FAILED" (flows completed, flows that failed).

    signin_flow.py BASE CLIENT_ID CLIENT_SECRET SECONDS WORKERS password USERNAME...
        the password form (bcrypt cost 10 checks the password), spreading the flows over the usernames
    signin_flow.py BASE CLIENT_ID CLIENT_SECRET SECONDS WORKERS code EMAIL...
        sign-in by email code with the development mailbox (SESAME_DEV_MAILBOX=1), one address per flow (the code
        limits allow one code a minute per address); each flow comes from its own X-Forwarded-For address (the server
        must trust 127.0.0.1 as a proxy), as many users would

Standard library only, so the client costs as little CPU as it can beside the server.
"""
import base64
import hashlib
import http.client
import json
import multiprocessing
import random
import re
import secrets
import sys
import time
import urllib.parse

REDIRECT_URI = "http://localhost:3000/cb"
PASSWORD = "Correct-Horse-9"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """One browser: one keep-alive connection, its cookies, and an address it claims through X-Forwarded-For."""

    def __init__(self, host, port, forwarded=None):
        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.cookies = {}
        self.forwarded = forwarded

    def request(self, method, path, form=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if self.forwarded:
            headers["X-Forwarded-For"] = self.forwarded
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for cookie in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in cookie:
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        return response.status, response.getheader("Location"), data

    def close(self):
        self.connection.close()


def path_of(location):
    parts = urllib.parse.urlsplit(location)
    return parts.path + ("?" + parts.query if parts.query else "")


def expect(condition, what):
    if not condition:
        raise RuntimeError(what)


def csrf_of(status, page, what):
    """The CSRF token of the form on `page`, which must have come with a 200."""
    match = CSRF.search(page.decode())
    expect(status == 200 and match, what)
    return match.group(1)


def authorize(client, client_id):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({"client_id": client_id, "redirect_uri": REDIRECT_URI, "response_type": "code",
                                    "scope": "openid profile email", "state": secrets.token_urlsafe(8),
                                    "code_challenge": challenge, "code_challenge_method": "S256"})
    status, location, _ = client.request("GET", "/oidc/auth?" + query)
    expect(status in (302, 303) and location, f"authorize answered {status}")
    return verifier


def finish(client, status, location, client_id, basic, verifier):
    """From the answer to the sign-in form to userinfo: resume, the code, the token, userinfo."""
    for _ in range(3):
        expect(status in (302, 303) and location, f"expected a redirect, got {status}")
        if location.startswith(REDIRECT_URI):
            break
        status, location, _ = client.request("GET", path_of(location))
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    status, _, body = client.request("POST", "/oidc/token", form={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
    }, headers={"Authorization": basic})
    expect(status == 200, f"token answered {status}")
    access_token = json.loads(body)["access_token"]
    status, _, _ = client.request("GET", "/oidc/me", headers={"Authorization": "Bearer " + access_token})
    expect(status == 200, f"userinfo answered {status}")


def password_flow(host, port, client_id, basic, username):
    client = Client(host, port)
    try:
        verifier = authorize(client, client_id)
        status, _, page = client.request("GET", "/sign-in")
        csrf = csrf_of(status, page, "no sign-in form")
        status, location, _ = client.request("POST", "/sign-in", form={
            "csrf_token": csrf, "identifier": username, "password": PASSWORD})
        finish(client, status, location, client_id, basic, verifier)
    finally:
        client.close()


def code_flow(host, port, client_id, basic, address):
    forwarded = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    client = Client(host, port, forwarded)
    try:
        verifier = authorize(client, client_id)
        status, _, page = client.request("GET", "/sign-in/code")
        csrf = csrf_of(status, page, "no email form")
        status, location, page = client.request("POST", "/sign-in/code/send", form={
            "csrf_token": csrf, "identifier": address})
        if status in (302, 303):
            status, _, page = client.request("GET", path_of(location))
        csrf = csrf_of(status, page, f"no code form ({status})")
        # The person reads the mail: the development mailbox keeps the last 50 messages.
        code = None
        for _ in range(50):
            _, _, mail = client.request("GET", "/dev/mailbox")
            sent = [m for m in json.loads(mail) if m["to"] == address and m["usageType"] == "SignIn"]
            if sent:
                code = sent[-1]["code"]
                break
            time.sleep(0.01)
        expect(code, "no code in the mailbox")
        status, location, _ = client.request("POST", "/sign-in/code/verify", form={
            "csrf_token": csrf, "identifier": address, "code": code})
        finish(client, status, location, client_id, basic, verifier)
    finally:
        client.close()


def worker(args):
    base, client_id, secret, deadline, mode, identifiers = args
    parts = urllib.parse.urlsplit(base)
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    done = failed = 0
    index = 0
    while time.time() < deadline:
        if mode == "code" and index >= len(identifiers):
            break  # every address used once
        identifier = identifiers[index % len(identifiers)]
        index += 1
        try:
            (password_flow if mode == "password" else code_flow)(parts.hostname, parts.port, client_id, basic,
                                                                 identifier)
            done += 1
        except Exception as error:  # noqa: BLE001 - every failure is counted, the first one shown
            if failed == 0:
                print(f"flow failed: {error}", file=sys.stderr)
            failed += 1
    return done, failed


def main(base, client_id, secret, seconds, workers, mode, identifiers):
    deadline = time.time() + seconds
    # Each worker gets its own slice of the identifiers (an address is used once).
    slices = [identifiers[index::workers] for index in range(workers)] if mode == "code" else [identifiers] * workers
    with multiprocessing.Pool(workers) as pool:
        results = pool.map(worker, [(base, client_id, secret, deadline, mode, part) for part in slices])
    print(sum(done for done, _ in results), sum(failed for _, failed in results))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7:])
