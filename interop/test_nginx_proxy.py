"""Hardening §5: two `sesame serve` instances on one PostgreSQL database behind a real nginx (Debian).

nginx round-robins over both instances and forwards the client's address (`X-Forwarded-For`); the instances
trust it (`SESAME_TRUSTED_PROXIES=127.0.0.1/32`). The tests prove that requests reach both instances, that a
browser sign-in started on one instance finishes on the other, and that the per-IP limit on client
authentication sees the real client (loopback source addresses 127.0.0.2 and 127.0.0.3), not nginx, and not
an address the client made up.
"""
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

from conftest import PASSWORD, POST_LOGOUT_URI, REDIRECT_URI, ROOT, Sesame, binary, free_port, postgres_database
from test_browser import browser, callback_code, fill, id_token_claims, start, submit  # noqa: F401 (fixture)

# ClientAuthenticationGuard: 50 failed client authentications per IP in a fixed 5-minute window.
CLIENT_AUTH_LIMIT = 50
CLIENT_AUTH_WINDOW = 5 * 60


def nginx_path() -> str:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        pytest.fail("nginx is required (scripts/test installs Debian's nginx-light)")
    return nginx


def nginx_conf(directory: Path, port: int, upstreams: list[int]) -> str:
    # max_fails=0: an instance that refused a connection (still starting) is not skipped for 10 s afterwards.
    servers = "".join(f"        server 127.0.0.1:{upstream} max_fails=0;\n" for upstream in upstreams)
    return f"""\
# As root the workers would switch to `nobody`, who cannot enter pytest's private temporary directory.
{"user root;" if os.geteuid() == 0 else ""}
# One worker: its round-robin alternates strictly between the two instances.
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log info;
events {{ worker_connections 256; }}
http {{
    log_format upstreams '$remote_addr "$request" $status upstream=$upstream_addr';
    access_log {directory}/access.log upstreams;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    upstream sesame {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        # The documented proxy settings, verbatim (deploy/nginx/sesame-proxy.conf).
        location / {{
            include {ROOT / "deploy/nginx/sesame-proxy.conf"};
        }}
    }}
}}
"""


@dataclass
class Instance:
    port: int
    log_path: Path
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.port}"

    def requests_for(self, path: str) -> int:
        """How many requests for `path` this instance has logged (one `request` line each)."""
        text = self.log_path.read_text(errors="replace")
        return len(re.findall(rf" path={re.escape(path)} (?:\S+ )*status=\d+ .*\] request$", text, re.MULTILINE))


@dataclass
class Cluster:
    sesame: Sesame  # base: the nginx address, which is also SESAME_ENDPOINT
    instances: list[Instance]
    directory: Path
    m2m_id: str
    m2m_secret: str

    @property
    def access_log(self) -> Path:
        return self.directory / "nginx" / "access.log"

    def access_log_lines(self) -> list[str]:
        return self.access_log.read_text(errors="replace").splitlines()


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 204
    except requests.RequestException:
        return False


def stop(process: subprocess.Popen):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    database = postgres_database()
    if database is None:
        pytest.skip("PostgreSQL not configured")
    nginx = nginx_path()
    directory = tmp_path_factory.mktemp("nginx-proxy")
    ports = set()
    while len(ports) < 3:
        ports.add(free_port())
    proxy_port, *instance_ports = sorted(ports)
    endpoint = f"http://127.0.0.1:{proxy_port}"
    env = {
        **os.environ,
        "SESAME_DB": database,
        "SESAME_HOST": "127.0.0.1",
        "SESAME_ENDPOINT": endpoint,
        "SESAME_SECRET": secrets.token_hex(24),
        "SESAME_LOG_LEVEL": "info",
        "SESAME_DEV_MAILBOX": "1",
        "SESAME_TRUSTED_PROXIES": "127.0.0.1/32",
    }

    def cli(*args):
        out = subprocess.run([binary(), *args], env=env, cwd=directory, check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    app = cli("app", "create", "--name", "Bookstore", "--type", "traditional", "--redirect-uri", REDIRECT_URI,
              "--post-logout-redirect-uri", POST_LOGOUT_URI, "--json")
    m2m = cli("app", "create", "--name", "M", "--type", "m2m", "--json")
    user = cli("user", "create", "--username", "alice", "--email", "alice@example.com", "--password", PASSWORD,
               "--name", "Alice Liddell", "--json")

    processes: list[subprocess.Popen] = []
    logs = []
    instances = []
    prefix = directory / "nginx"

    def all_logs() -> str:
        paths = [*(i.log_path for i in instances), prefix / "stderr.log", prefix / "error.log"]
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')}" for path in paths if path.exists())

    def wait_until_ready(base: str):
        deadline = time.monotonic() + 20
        while not answers(base + "/api/status"):
            exited = [p.args[0] for p in processes if p.poll() is not None]
            if exited or time.monotonic() > deadline:
                pytest.fail(f"{base} did not become ready; exited: {exited}\n{all_logs()}")
            time.sleep(0.05)

    try:
        # Both instances start at once on the fresh database, as an orchestrator starts them: exactly one makes
        # the first signing key (test_both_instances_share_one_signing_key).
        for port in instance_ports:
            log_path = directory / f"sesame-{port}.log"
            log = open(log_path, "w")
            logs.append(log)
            process = subprocess.Popen([binary(), "serve"], env={**env, "SESAME_PORT": str(port)}, cwd=directory,
                                       stdout=log, stderr=subprocess.STDOUT)
            processes.append(process)
            instances.append(Instance(port=port, log_path=log_path, process=process))
        for instance in instances:
            wait_until_ready(instance.base)
        prefix.mkdir()
        (prefix / "nginx.conf").write_text(nginx_conf(prefix, proxy_port, instance_ports))
        nginx_log = open(prefix / "stderr.log", "w")
        logs.append(nginx_log)
        proxy = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
                                  str(prefix / "error.log")], stdout=nginx_log, stderr=subprocess.STDOUT)
        processes.append(proxy)
        wait_until_ready(endpoint)

        sesame = Sesame(base=endpoint, env=env, app_id=app["id"], app_secret=app["secret"], user_id=user["id"],
                        log_path=instances[0].log_path)
        yield Cluster(sesame=sesame, instances=instances, directory=directory, m2m_id=m2m["id"],
                      m2m_secret=m2m["secret"])
    finally:
        for process in reversed(processes):  # nginx first
            stop(process)
        for log in logs:
            log.close()
    # Nothing secret ever reaches the logs, on either instance.
    for instance in instances:
        output = instance.log_path.read_text(errors="replace")
        for secret in (app["secret"], m2m["secret"], PASSWORD):
            assert secret not in output


def test_both_instances_share_one_signing_key(cluster):
    issuer = cluster.sesame.issuer
    discovery = [requests.get(i.base + "/oidc/.well-known/openid-configuration", timeout=5).json()
                 for i in cluster.instances]
    assert [d["issuer"] for d in discovery] == [issuer, issuer]
    assert all(d["token_endpoint"] == issuer + "/token" for d in discovery)
    jwks = [requests.get(i.base + "/oidc/jwks", timeout=5).json() for i in cluster.instances]
    # One current key per algorithm (ES384, ES256, EdDSA, RS256), the same on both instances.
    assert jwks[0] == jwks[1] and sorted(key["kty"] for key in jwks[0]["keys"]) == ["EC", "EC", "OKP", "RSA"]


def test_round_robin_reaches_both_instances(cluster):
    time.sleep(0.3)  # log lines are written every 50 ms: let earlier requests' lines land before counting
    before = [i.requests_for("/api/status") for i in cluster.instances]
    seen = len(cluster.access_log_lines())
    for _ in range(10):
        assert requests.get(cluster.sesame.base + "/api/status", timeout=5).status_code == 204
    # nginx says where each request went ...
    deadline = time.monotonic() + 5
    while len(cluster.access_log_lines()) < seen + 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    upstreams = [line.rsplit("upstream=", 1)[1] for line in cluster.access_log_lines()[seen:]]
    assert sorted(upstreams) == sorted([i.upstream for i in cluster.instances] * 5)
    # ... and each instance logged the requests it served.
    served = []
    while time.monotonic() < deadline:
        served = [i.requests_for("/api/status") - b for i, b in zip(cluster.instances, before)]
        if served == [5, 5]:
            break
        time.sleep(0.05)
    assert served == [5, 5]


def test_the_seed_sign_in_through_nginx(cluster, browser):
    """The end-user signs in with a password on the hosted page; the app redeems the code at the token
    endpoint. Every step goes through nginx, which alternates between the instances, so the interaction, the
    session and the code written by one instance are read by the other."""
    sesame = cluster.sesame
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    seen = len(cluster.access_log_lines())
    session, verifier = start(sesame, browser)
    # The hosted page is at the proxy's address, not at an instance's.
    assert browser.current_url.startswith(sesame.base + "/sign-in")
    for cookie in browser.get_cookies():
        assert cookie["domain"] == "127.0.0.1" and "sameSite" in cookie
    fill(browser, "identifier", "alice")
    fill(browser, "password", PASSWORD)
    submit(browser)
    callback, query = callback_code(browser)
    assert query["iss"] == sesame.issuer
    claims = id_token_claims(sesame, session, verifier, callback)
    assert claims["sub"] == sesame.user_id
    assert claims["iss"] == sesame.issuer

    # The steps that carry state (authorization request, sign-in page and form, the resumed authorization,
    # the token request) were served by both instances: at least one step read what the other instance wrote.
    deadline = time.monotonic() + 5  # nginx logs a request just after answering it
    while not any('"POST /oidc/token ' in line for line in cluster.access_log_lines()[seen:]):
        assert time.monotonic() < deadline, cluster.access_log_lines()[seen:]
        time.sleep(0.05)
    steps = []
    for line in cluster.access_log_lines()[seen:]:
        match = re.match(r'\S+ "(\w+) (\S+) [^"]*" (\d+) upstream=(\S+)$', line)
        assert match, line
        method, target, status, upstream = match.groups()
        if re.match(r"/(oidc/auth|oidc/token|sign-in)\b", target):
            steps.append((method, target.split("?")[0], status, upstream))
    assert ("POST", "/sign-in") in {s[:2] for s in steps}, steps
    assert ("POST", "/oidc/token") in {s[:2] for s in steps}, steps
    assert {s[3] for s in steps} == {i.upstream for i in cluster.instances}, steps


class SourceAddressAdapter(HTTPAdapter):
    """Connects from a given local address (the whole 127.0.0.0/8 is loopback on Linux)."""

    def __init__(self, source: str, **kwargs):
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)


def client_from(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter(address))
    return session


def token_status(cluster, client: requests.Session, secret: str, headers: dict | None = None) -> int:
    response = client.post(cluster.sesame.issuer + "/token", data={"grant_type": "client_credentials"},
                           auth=(cluster.m2m_id, secret), headers=headers or {}, timeout=10)
    assert response.status_code in (200, 401, 429), response.text
    return response.status_code


def in_one_window():
    """Waits for the next fixed window when this one ends in less than 15 s: the sequences below take about
    a second, so their failures all count in one window and the test cannot flake on a rollover."""
    left = CLIENT_AUTH_WINDOW - time.time() % CLIENT_AUTH_WINDOW
    if left < 15:
        time.sleep(left + 0.5)


def test_the_client_authentication_limit_sees_the_real_client(cluster):
    attacker, neighbour = client_from("127.0.0.2"), client_from("127.0.0.3")
    wrong = "wrong-" + secrets.token_urlsafe(16)
    in_one_window()
    # Twice each: round-robin sends one to each instance.
    assert [token_status(cluster, attacker, cluster.m2m_secret) for _ in range(2)] == [200, 200]
    assert [token_status(cluster, attacker, wrong) for _ in range(CLIENT_AUTH_LIMIT)] == [401] * CLIENT_AUTH_LIMIT
    # Over the limit: both instances refuse at once.
    assert [token_status(cluster, attacker, wrong) for _ in range(2)] == [429, 429]
    # The right secret from the blocked address is refused by both instances ...
    assert [token_status(cluster, attacker, cluster.m2m_secret) for _ in range(2)] == [429, 429]
    # ... while a client at another address, behind the same nginx, is not affected.
    assert [token_status(cluster, neighbour, cluster.m2m_secret) for _ in range(2)] == [200, 200]
    # A client cannot borrow another's address: nginx appends the real peer to its X-Forwarded-For and Sesame
    # takes the right-most untrusted hop, 127.0.0.3. Neither a good nor a bad secret meets the block of .2.
    forged = {"X-Forwarded-For": "127.0.0.2"}
    assert [token_status(cluster, neighbour, cluster.m2m_secret, forged) for _ in range(2)] == [200, 200]
    assert [token_status(cluster, neighbour, wrong, forged) for _ in range(2)] == [401, 401]


def block(cluster, client: requests.Session, wrong: str):
    """Fails client authentication from `client` until both instances refuse it with 429."""
    statuses = []
    while statuses[-2:] != [429, 429] and len(statuses) < CLIENT_AUTH_LIMIT + 4:
        statuses.append(token_status(cluster, client, wrong))
    assert statuses[-2:] == [429, 429], statuses


def test_a_forwarded_header_from_the_client_does_not_choose_its_address(cluster):
    """nginx appends to X-Forwarded-For but passes a client's own `Forwarded` on untouched: Sesame reads only
    the header its proxies write (`SESAME_TRUSTED_PROXY_HEADER`, X-Forwarded-For by default)."""
    blocked, other = client_from("127.0.0.5"), client_from("127.0.0.6")
    in_one_window()
    block(cluster, blocked, "wrong-" + secrets.token_urlsafe(16))
    # 127.0.0.6 is not taken for the blocked 127.0.0.5 (no one can lock out another's address) ...
    assert token_status(cluster, other, cluster.m2m_secret, {"Forwarded": "for=127.0.0.5"}) == 200
    # ... and the blocked client cannot escape its block by naming another address.
    assert token_status(cluster, blocked, cluster.m2m_secret, {"Forwarded": "for=203.0.113.9"}) == 429


def test_right_after_the_limit_every_instance_refuses_the_address(cluster):
    """The count is in the database: an instance checks it before every request from an address that failed
    there, so the block made by one instance holds on the other at once."""
    attacker = client_from("127.0.0.4")
    wrong = "wrong-" + secrets.token_urlsafe(16)
    in_one_window()
    assert [token_status(cluster, attacker, wrong) for _ in range(CLIENT_AUTH_LIMIT)] == [401] * CLIENT_AUTH_LIMIT
    # Round-robin: one request to each instance.
    assert [token_status(cluster, attacker, cluster.m2m_secret) for _ in range(2)] == [429, 429]


def test_one_request_id_follows_a_request_through_nginx_and_sesame(cluster):
    # nginx's $request_id (32 hex) goes to Sesame as X-Request-Id, which keeps it in its log line and answer.
    response = requests.get(cluster.sesame.base + "/oidc/jwks", timeout=5)
    request_id = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        logs = "".join(i.log_path.read_text(errors="replace") for i in cluster.instances)
        if f"request_id={request_id}" in logs:
            break
        time.sleep(0.05)
    assert f"request_id={request_id}" in logs
