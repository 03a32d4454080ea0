"""Starts the real `sesame` binary for the interop tests, on SQLite and on PostgreSQL."""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Correct-Horse-9"
REDIRECT_URI = "http://127.0.0.1:9/callback"
POST_LOGOUT_URI = "http://127.0.0.1:9/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Sesame:
    base: str
    env: dict
    app_id: str
    app_secret: str
    user_id: str
    log_path: Path

    @property
    def issuer(self) -> str:
        return self.base + "/oidc"


def wait_ready(base: str, process: subprocess.Popen, log_path: Path, timeout: float = 20) -> float:
    """Waits until `GET base/api/status` answers 204; returns the seconds it took. Fails with the server's log
    when the process exits or the time runs out."""
    started = time.monotonic()
    while True:
        try:
            if requests.get(base + "/api/status", timeout=1).status_code == 204:
                return time.monotonic() - started
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() - started > timeout:
            pytest.fail(f"sesame serve at {base} did not become ready:\n" + Path(log_path).read_text(errors="replace"))
        time.sleep(0.01)


def serve(env: dict, cwd, log_path: Path) -> subprocess.Popen:
    """Starts `sesame serve` with `env`, its output appended to `log_path`, and waits until it is ready."""
    with open(log_path, "a") as log:
        process = subprocess.Popen([binary(), "serve"], env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    wait_ready(env["SESAME_ENDPOINT"] if "SESAME_PORT" not in env else f"http://127.0.0.1:{env['SESAME_PORT']}",
               process, log_path)
    return process


def stop(process: subprocess.Popen, timeout: float = 20):
    """SIGTERM, then SIGKILL if the process has not ended within `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def binary() -> str:
    return os.environ.get("SESAME_BIN", str(ROOT / ".build/debug/sesame"))


def postgres_database() -> str | None:
    url = os.environ.get("SESAME_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("SESAME_REQUIRE_POSTGRES") == "1":
            pytest.fail("SESAME_TEST_POSTGRES_URL is required")
        return None
    name = "sesame_interop_" + secrets.token_hex(4)
    psql = shutil.which("psql") or "psql"
    subprocess.run([psql, url, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sesame(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        database = f"sqlite://{directory}/sesame.db"
    else:
        database = postgres_database()
        if database is None:
            pytest.skip("PostgreSQL not configured")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SESAME_DB": database,
        "SESAME_HOST": "127.0.0.1",
        "SESAME_PORT": str(port),
        "SESAME_ENDPOINT": base,
        "SESAME_SECRET": secrets.token_hex(24),
        "SESAME_LOG_LEVEL": "info",
        "SESAME_DEV_MAILBOX": "1",
    }

    def cli(*args):
        out = subprocess.run([binary(), *args], env=env, cwd=directory, check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    app = cli("app", "create", "--name", "Bookstore", "--type", "traditional", "--redirect-uri", REDIRECT_URI,
              "--post-logout-redirect-uri", POST_LOGOUT_URI, "--json")
    user = cli("user", "create", "--username", "alice", "--email", "alice@example.com", "--password", PASSWORD,
               "--name", "Alice Liddell", "--json")
    server = serve(env, directory, directory / "server.log")
    try:
        yield Sesame(base=base, env=env, app_id=app["id"], app_secret=app["secret"], user_id=user["id"],
                     log_path=directory / "server.log")
    finally:
        stop(server)
        output = (directory / "server.log").read_text(errors="replace")
        # Nothing secret ever reaches the log.
        for secret in (app["secret"], PASSWORD):
            assert secret not in output
