"""Hostile input against the real binary, on SQLite and PostgreSQL: NUL and control characters on every input
surface, deeply nested and malformed JSON, and bodies over the limit whether declared or chunked. Every answer
is a clear 4xx (never a 5xx), quickly, and the server keeps serving."""
import base64
import time

import requests

from test_management_api import management_token

CONTROL = ["\x00", "\x01", "\x1b", "\x7f"]


def no_server_error(response, what):
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:200]}"
    return response


def form_surfaces(sesame, bad):
    """Each place a form or query value reaches the server, with `bad` inside."""
    basic = base64.b64encode(f"{sesame.app_id}{bad}:x".encode()).decode()
    return [
        ("token client_id", "post", "/oidc/token", {"data": {"grant_type": "client_credentials",
                                                              "client_id": "app" + bad, "client_secret": "x"}}),
        ("token Basic client id", "post", "/oidc/token", {"data": {"grant_type": "client_credentials"},
                                                           "headers": {"Authorization": "Basic " + basic}}),
        ("token code", "post", "/oidc/token", {"data": {"grant_type": "authorization_code", "code": "c" + bad},
                                                "auth": (sesame.app_id, sesame.app_secret)}),
        ("introspection token", "post", "/oidc/token/introspection",
         {"data": {"token": "t" + bad}, "auth": (sesame.app_id, sesame.app_secret)}),
        ("authorize client_id", "get", "/oidc/auth", {"params": {"client_id": "x" + bad, "response_type": "code"}}),
        ("logout client_id", "get", "/oidc/session/end", {"params": {"client_id": "x" + bad}}),
        ("sign-in identifier", "post", "/sign-in", {"data": {"identifier": "alice" + bad, "password": "x"}}),
        ("code form identifier", "post", "/sign-in/code/send", {"data": {"identifier": "a" + bad + "@example.com"}}),
        ("console sign-in", "post", "/console/sign-in", {"data": {"username": "root" + bad, "password": "x"}}),
        ("preview settings", "get", "/preview/sign-in", {"params": {"settings": "e30" + bad}}),
    ]


def test_control_characters_in_forms_and_queries_are_refused(sesame):
    for bad in CONTROL:
        for name, method, path, kwargs in form_surfaces(sesame, bad):
            response = requests.request(method, sesame.base + path, timeout=10, allow_redirects=False, **kwargs)
            no_server_error(response, f"{name} with {bad!r}")
            assert response.status_code in (400, 401, 403, 404), f"{name} with {bad!r}: {response.status_code}"


def experience(session, sesame, method, path, body):
    return session.request(method, sesame.base + "/api/experience" + path, json=body, timeout=10)


def test_control_characters_in_json_are_refused(sesame):
    session = requests.Session()
    assert experience(session, sesame, "PUT", "", {"interactionEvent": "SignIn"}).status_code == 204
    token = management_token(sesame)
    api = {"Authorization": f"Bearer {token}"}
    for bad in CONTROL:
        for body in ({"identifier": {"type": "email", "value": f"a{bad}@example.com"}, "interactionEvent": "SignIn"},
                     {"identifier": {"type": "username", "value": "alice" + bad}, "password": "x"}):
            path = "/verification/verification-code" if "interactionEvent" in body else "/verification/password"
            response = no_server_error(experience(session, sesame, "POST", path, body), f"experience {bad!r}")
            assert response.status_code == 400, response.text
            assert response.json()["code"] == "guard.invalid_input"
        created = requests.post(sesame.base + "/api/users", headers=api, timeout=10,
                                json={"primaryEmail": f"grace{bad}@example.com", "password": "Compiler-Pioneer-1906"})
        assert no_server_error(created, f"user email {bad!r}").status_code == 400
        named = requests.post(sesame.base + "/api/applications", headers=api, timeout=10,
                              json={"name": "App" + bad, "type": "Traditional"})
        assert no_server_error(named, f"app name {bad!r}").status_code == 400
        search = requests.get(sesame.base + "/api/users", params={"search": "a" + bad}, headers=api, timeout=10)
        assert no_server_error(search, f"search {bad!r}").status_code == 400
        # Path segments are decoded by the router: the store refuses NUL on both databases alike.
        encoded = requests.utils.quote(bad, safe="")
        for path in (f"/api/users/u{encoded}", f"/api/applications/a{encoded}", f"/api/resources/r{encoded}"):
            response = requests.get(sesame.base + path, headers=api, timeout=10)
            assert no_server_error(response, f"{path}").status_code in (400, 404)


def test_deep_and_malformed_json_is_refused_quickly(sesame):
    session = requests.Session()
    token = management_token(sesame)
    api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    cases = {
        "nested 511 deep": '{"interactionEvent":' + "[" * 511 + "]" * 511 + "}",
        "nested 200,000 deep": "[" * 200_000,
        "objects 100,000 deep": '{"a":' * 100_000 + "1" + "}" * 100_000,
        "duplicate names": '{"interactionEvent":"SignIn","interactionEvent":"Register"}',
        "lone surrogate": '{"interactionEvent":"\\ud800"}',
        "trailing data": '{"interactionEvent":"SignIn"} {}',
        "raw control character": '{"interactionEvent":"Sign\x01In"}',
        "not an object": '["SignIn"]',
        "truncated": '{"interactionEvent":',
    }
    for name, body in cases.items():
        for path, headers in (("/api/experience", {"Content-Type": "application/json"}),
                              ("/api/sign-in-exp", api)):
            method = "PUT" if path == "/api/experience" else "PATCH"
            started = time.monotonic()
            response = session.request(method, sesame.base + path, data=body.encode(), headers=headers, timeout=10)
            elapsed = time.monotonic() - started
            assert response.status_code == 400, f"{name} at {path}: {response.status_code} {response.text[:200]}"
            assert response.json()["code"] == "guard.invalid_input"
            # A guard against parsers that take seconds on a few kilobytes, not a benchmark.
            assert elapsed < 2, f"{name} at {path} took {elapsed:.2f} s"
    # Nesting within the cap still parses.
    fine = session.put(sesame.base + "/api/experience", json={"interactionEvent": "SignIn", "x": [[[[1]]]]},
                       timeout=10)
    assert fine.status_code == 204


def chunks(total, size=64 * 1024):
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"a" * piece


def test_bodies_over_the_limit_get_413_declared_or_chunked(sesame):
    routes = [("/oidc/token", "application/x-www-form-urlencoded"), ("/api/experience", "application/json"),
              ("/sign-in", "application/x-www-form-urlencoded"), ("/console/sign-in", "application/x-www-form-urlencoded")]
    for path, content_type in routes:
        method = "PUT" if path == "/api/experience" else "POST"
        chunked = requests.request(method, sesame.base + path, data=chunks(2 << 20), timeout=20,
                                   headers={"Content-Type": content_type})
        assert chunked.status_code == 413, f"chunked {path}: {chunked.status_code} {chunked.text[:200]}"
        declared = requests.request(method, sesame.base + path, data=b"a" * ((1 << 20) + 1), timeout=20,
                                    headers={"Content-Type": content_type})
        assert declared.status_code == 413, f"declared {path}: {declared.status_code}"
    # The server is still there and healthy.
    assert requests.get(sesame.base + "/api/status", timeout=5).status_code == 204
