"""Operations against the real binary: the metrics listener apart from the public one, Prometheus text that a
Prometheus parser reads, the Grafana dashboard's queries naming only metrics Sesame exports, JSON log lines
carrying the request id the response returned, and readiness."""
import json
import os
import re
import secrets
import time

import pytest
import requests

from conftest import ROOT, free_port, serve, stop


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("operations")
    port, metrics_port = free_port(), free_port()
    env = {**os.environ, "SESAME_DB": f"sqlite://{directory}/sesame.db", "SESAME_PORT": str(port),
           "SESAME_HOST": "127.0.0.1", "SESAME_ENDPOINT": f"http://127.0.0.1:{port}",
           "SESAME_SECRET": secrets.token_hex(24), "SESAME_LOG_FORMAT": "json",
           "SESAME_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}"}
    process = serve(env, directory, directory / "server.log")
    try:
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}", directory / "server.log"
    finally:
        stop(process)


def families(text):
    """Metric family names and sample names of a Prometheus text exposition (format 0.0.4), checked line by line."""
    names = set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            assert re.match(r"# (HELP|TYPE) \w+ ", line) or not line, line
            continue
        match = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)', line)
        assert match, f"not a Prometheus sample line: {line!r}"
        float(match.group(4))
        names.add(match.group(1))
    return names


def test_metrics_are_served_only_on_their_own_listener(server):
    public, metrics, _ = server
    for _ in range(3):
        assert requests.get(public + "/oidc/.well-known/openid-configuration", timeout=5).status_code == 200
    assert requests.get(public + "/metrics", timeout=5).status_code == 404
    response = requests.get(metrics + "/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    names = families(response.text)
    assert "sesame_http_requests_total" in names
    assert "sesame_http_request_duration_seconds_bucket" in names
    assert "sesame_database_connections_in_use" in names and "sesame_signing_key_age_seconds" in names
    assert 'route="/oidc/.well-known/openid-configuration"' in response.text
    # The dashboard asks only for what Sesame exports.
    dashboard = json.loads((ROOT / "deploy/grafana/sesame-dashboard.json").read_text())
    asked = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"sesame_\w+", target["expr"])}
    exported = names | {n.removesuffix("_bucket") + "_bucket" for n in names}
    # Counters appear once something was counted; the families below are exported from the first of each.
    later = {"sesame_token_grants_total", "sesame_sign_ins_total", "sesame_codes_sent_total",
             "sesame_rate_limit_refusals_total"}
    assert asked - exported <= later, asked - exported


def test_readiness_and_liveness(server):
    public, _, _ = server
    assert requests.get(public + "/api/status", timeout=5).status_code == 204
    assert requests.get(public + "/api/status/ready", timeout=5).status_code == 204


def test_json_log_lines_carry_the_request_id(server):
    public, _, log_path = server
    response = requests.get(public + "/oidc/jwks", headers={"X-Request-Id": "probe-42"}, timeout=5)
    assert response.headers["X-Request-Id"] == "probe-42"
    deadline = time.monotonic() + 5  # log lines are buffered and written every 50 ms
    while True:
        lines = [line for line in log_path.read_text().splitlines() if line.strip()]
        records = [json.loads(line) for line in lines]  # every line is JSON
        assert all({"time", "level", "label", "message"} <= set(record) for record in records)
        if any(record.get("request_id") == "probe-42" and record["message"] == "request"
               and record.get("path") == "/oidc/jwks" for record in records):
            break
        assert time.monotonic() < deadline, lines[-5:]
        time.sleep(0.05)


def read_responses(sock, count):
    """Reads `count` HTTP/1.1 responses (each with a Content-Length) from `sock`: [(status, headers, body)]."""
    data, responses = b"", []
    while len(responses) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed after {len(responses)} responses"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk
            rest += chunk
        responses.append((int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return responses


def test_discovery_and_jwks_answered_in_the_pipeline_match_the_router(server):
    """After a first request through the router, discovery and the JWKS are answered straight from the channel
    pipeline: the same bytes and headers, the request id, CORS, the access log line; pipelined requests keep their
    order behind a slower one; a connection asking to close is closed."""
    public, _, log_path = server
    for path in ["/oidc/.well-known/openid-configuration", "/oidc/jwks"]:
        first = requests.get(public + path, headers={"Origin": "https://rp.example.test"}, timeout=5)
        again = requests.get(public + path + "?cache=bust", headers={"Origin": "https://rp.example.test",
                                                                      "X-Request-Id": "fast-" + path[-4:]}, timeout=5)
        assert first.status_code == again.status_code == 200
        assert first.content == again.content
        for name in ["Content-Type", "Cache-Control", "Content-Length", "Access-Control-Allow-Origin", "Server"]:
            assert first.headers[name] == again.headers[name], name
        assert again.headers["X-Request-Id"] == "fast-" + path[-4:]
        assert again.headers["Date"].endswith(" GMT")
        assert first.headers["X-Request-Id"] != again.headers["X-Request-Id"]
        # HEAD still answers with the headers alone.
        head = requests.head(public + path, timeout=5)
        assert head.status_code == 200 and head.content == b""
    port = int(public.rsplit(":", 1)[1])
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # A token request (answered by the router) and two discovery requests, pipelined in one packet.
        form = b"grant_type=client_credentials"
        sock.sendall(b"POST /oidc/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: " + str(len(form)).encode() + b"\r\n\r\n" + form
                     + b"GET /oidc/.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n"
                     + b"GET /oidc/jwks HTTP/1.1\r\nHost: x\r\n\r\n")
        (status1, _, body1), (status2, headers2, body2), (status3, _, body3) = read_responses(sock, 3)
        assert status1 == 401 and json.loads(body1)["error"] == "invalid_client"
        assert status2 == 200 and "issuer" in json.loads(body2)
        assert status3 == 200 and "keys" in json.loads(body3)
        # A GET with a body goes the router's way, and is answered all the same.
        sock.sendall(b"GET /oidc/jwks HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        [(status, _, body)] = read_responses(sock, 1)
        assert status == 200 and "keys" in json.loads(body)
        # Connection: close is honoured, and what is pipelined behind it is not answered.
        sock.sendall(b"GET /oidc/jwks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                     b"GET /oidc/jwks HTTP/1.1\r\nHost: x\r\n\r\n")
        [(status, _, _)] = read_responses(sock, 1)
        assert status == 200
        sock.settimeout(5)
        rest = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        assert rest == b"", rest[:200]
    deadline = time.monotonic() + 5
    while True:
        records = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
        if any(record.get("request_id") == "fast-jwks" and record.get("path") == "/oidc/jwks"
               and record.get("status") == "200" for record in records):
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
