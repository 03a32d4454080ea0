"""Connections that never finish, and shutdown: the real binary keeps serving normal clients while many idle
and slow connections are open, closes the ones that stall, and exits promptly on SIGTERM even while a client
is half-way through sending a body."""
import resource
import signal
import socket
import threading
import time

import requests

from conftest import free_port, serve, stop


def start_server(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PATH": "/usr/bin:/bin", "SESAME_DB": f"sqlite://{tmp_path}/sesame.db", "SESAME_PORT": str(port),
           "SESAME_HOST": "127.0.0.1", "SESAME_ENDPOINT": base, "SESAME_SECRET": "l" * 40}
    return serve(env, tmp_path, tmp_path / "server.log"), port


def test_idle_and_slow_connections_do_not_crowd_out_clients(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    server, port = start_server(tmp_path)
    idle = []
    try:
        # 2,000 idle connections (more than the common 1,024 open-file default) and some that send half a header.
        for _ in range(2000):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        slow = []
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(sock)
        # A body trickled a byte a second, never idle long enough for the idle timeout: the request deadline
        # (10 s from its head) closes it.
        trickle = socket.create_connection(("127.0.0.1", port), timeout=5)
        trickle.sendall(b"POST /oidc/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        b"Content-Length: 1000\r\n\r\n")
        trickle_started = time.monotonic()
        trickle_closed = []

        def drip():
            while time.monotonic() - trickle_started < 30:
                try:
                    trickle.sendall(b"a")
                except OSError:
                    break
                time.sleep(1)
            trickle_closed.append(time.monotonic() - trickle_started)

        dripper = threading.Thread(target=drip)
        dripper.start()
        for _ in range(20):
            started = time.monotonic()
            assert requests.get(f"http://127.0.0.1:{port}/api/status", timeout=5).status_code == 204
            assert time.monotonic() - started < 2
        # A connection that stops half-way through its headers is closed after the idle timeout (15 s).
        slow[0].settimeout(25)
        started = time.monotonic()
        assert slow[0].recv(1024) == b""
        assert time.monotonic() - started < 25
        dripper.join(timeout=30)
        assert trickle_closed and trickle_closed[0] < 14, f"the trickled body was cut after {trickle_closed}"
    finally:
        for sock in idle:
            sock.close()
        stop(server)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_sigterm_with_a_half_sent_body_exits_promptly(tmp_path):
    server, port = start_server(tmp_path)
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(b"POST /oidc/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 1000\r\n\r\ngrant_type=client_cre")
        time.sleep(0.5)
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        # Bounded: the body deadline (10 s) or the graceful-shutdown deadline (10 s), whichever comes first.
        assert time.monotonic() - started < 15
    finally:
        sock.close()
        stop(server)
