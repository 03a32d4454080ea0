"""PostgreSQL going away under a running server: requests that need the database fail fast (503 with
Retry-After, about a second) instead of hanging, discovery and the JWKS keep being served from the keys
already loaded, and the server recovers by itself when the database is back. The outage is a TCP proxy
between Sesame and a real PostgreSQL that refuses and drops connections on demand."""
import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests

from conftest import binary, free_port, postgres_database, serve, stop


class CuttableProxy:
    """Forwards 127.0.0.1:port to the database; `cut` drops every connection and refuses new ones."""

    def __init__(self, upstream_host, upstream_port):
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.pairs = []
        self.lock = threading.Lock()
        self.listener = None
        self.restore()

    def restore(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        # shutdown() wakes the thread blocked in accept() (close() alone would leave the socket listening).
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for client, server in pairs:
            for sock in (client, server):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass


@pytest.fixture()
def outage(tmp_path):
    database = postgres_database()
    if database is None:
        pytest.skip("PostgreSQL not configured")
    parts = urllib.parse.urlsplit(database)
    proxy = CuttableProxy(parts.hostname, parts.port)
    through_proxy = urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SESAME_DB": through_proxy, "SESAME_PORT": str(port),
           "SESAME_HOST": "127.0.0.1", "SESAME_ENDPOINT": base, "SESAME_SECRET": "o" * 40}
    app = json.loads(subprocess.run([binary(), "app", "create", "--name", "M", "--type", "m2m", "--json"], env=env,
                                    cwd=tmp_path, check=True, capture_output=True, text=True).stdout)
    server = serve(env, tmp_path, tmp_path / "server.log")
    try:
        yield base, proxy, (app["id"], app["secret"])
    finally:
        stop(server)
        proxy.cut()


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_requests_fail_fast_and_the_server_recovers(outage):
    base, proxy, credentials = outage
    token = lambda: requests.post(base + "/oidc/token", data={"grant_type": "client_credentials"}, auth=credentials,
                                  timeout=15)
    assert token().status_code == 200
    assert requests.get(base + "/oidc/jwks", timeout=5).status_code == 200
    assert requests.get(base + "/api/status/ready", timeout=5).status_code == 204

    proxy.cut()
    time.sleep(0.2)
    # Readiness says so at once (a load balancer stops sending traffic); liveness stays up.
    ready, elapsed = timed(lambda: requests.get(base + "/api/status/ready", timeout=15))
    assert ready.status_code == 503 and ready.headers.get("Retry-After") == "5" and elapsed < 2.5
    assert requests.get(base + "/api/status", timeout=5).status_code == 204
    # A request that must write fails fast with 503 and Retry-After, again and again.
    for _ in range(3):
        response, elapsed = timed(token)
        assert response.status_code == 503, response.text
        assert response.headers.get("Retry-After") == "5"
        assert response.json()["error"] == "temporarily_unavailable"
        assert elapsed < 2.5, f"took {elapsed:.2f} s"
    page, elapsed = timed(lambda: requests.get(base + "/sign-in", timeout=15))
    assert page.status_code == 503 and elapsed < 2.5
    # Discovery and the JWKS are served from the keys already loaded, across the key cache's refresh (5 s).
    until = time.monotonic() + 7
    while time.monotonic() < until:
        for path in ("/oidc/.well-known/openid-configuration", "/oidc/jwks"):
            response, elapsed = timed(lambda: requests.get(base + path, timeout=15))
            assert response.status_code == 200, path
            assert elapsed < 2.5, f"{path} took {elapsed:.2f} s"
        time.sleep(0.5)

    proxy.restore()
    deadline = time.monotonic() + 15
    while token().status_code != 200:
        assert time.monotonic() < deadline, "the server did not recover within 15 s of the database's return"
        time.sleep(0.2)
    assert requests.get(base + "/api/status/ready", timeout=5).status_code == 204
