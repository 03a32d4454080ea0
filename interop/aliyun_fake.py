"""A faithful fake of Aliyun Direct Mail's SingleSendMail API on loopback.

It checks each request the way Aliyun does (parameters, timestamp, nonce reuse, the RPC signature
version 1.0, recomputed here independently of Sesame's Swift code) and answers with Aliyun-shaped
success and error bodies and their HTTP statuses. Tests can make the next call fail.
"""
import base64
import datetime
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def percent_encode(value: str) -> str:
    return urllib.parse.quote(value, safe="~")


def string_to_sign(method: str, params: dict) -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def sign(method: str, params: dict, secret: str) -> str:
    digest = hmac.new((secret + "&").encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


REQUIRED = ["AccessKeyId", "Action", "Version", "Format", "SignatureMethod", "SignatureVersion", "SignatureNonce",
            "Timestamp", "AccountName", "AddressType", "ReplyToAddress", "ToAddress", "Subject", "HtmlBody"]


class AliyunFake:
    def __init__(self, keys: dict[str, str]):
        self.keys = keys
        self.sent: list[dict] = []
        self.requests: list[dict] = []
        self.nonces: set[str] = set()
        self.failures: list[tuple[int, dict]] = []
        self.misbehaviours: list[str] = []
        self.released = threading.Event()
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                misbehaviour = fake.next_misbehaviour(form)
                if misbehaviour == "drop":
                    # The connection breaks before any answer: nothing was accepted.
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if misbehaviour == "hang":
                    fake.released.wait(30)
                    return
                status, body = fake.handle("POST", form, self.headers.get("Content-Type", ""))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def drop_next(self):
        """The next request's connection is closed without an answer."""
        self.misbehaviours.append("drop")

    def hang_next(self):
        """The next request gets no answer until the fake stops."""
        self.misbehaviours.append("hang")

    def next_misbehaviour(self, form):
        with self.lock:
            if not self.misbehaviours:
                return None
            self.requests.append(form)
            return self.misbehaviours.pop(0)

    def fail_next(self, status: int, code: str, message: str = "injected failure"):
        self.failures.append((status, {"Code": code, "Message": message}))

    def error(self, status, code, message):
        return status, {"RequestId": str(uuid.uuid4()).upper(), "HostId": "dm.aliyuncs.com", "Code": code,
                        "Message": message, "Recommend": "https://api.aliyun.com/troubleshoot"}

    def handle(self, method: str, form: dict, content_type: str):
        with self.lock:
            self.requests.append(form)
            if self.failures:
                status, body = self.failures.pop(0)
                return self.error(status, body["Code"], body["Message"])
            if not content_type.startswith("application/x-www-form-urlencoded"):
                return self.error(400, "InvalidParameter", "unexpected content type")
            missing = [name for name in REQUIRED + ["Signature"] if name not in form]
            if missing:
                return self.error(400, "MissingParameter", f"missing {', '.join(missing)}")
            if form["Action"] != "SingleSendMail" or form["Version"] != "2015-11-23":
                return self.error(400, "InvalidAction.NotFound", "unknown action or version")
            if form["SignatureMethod"] != "HMAC-SHA1" or form["SignatureVersion"] != "1.0":
                return self.error(400, "InvalidSignatureMethod", "unsupported signature method")
            try:
                stamp = datetime.datetime.strptime(form["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")
            except ValueError:
                return self.error(400, "InvalidTimeStamp.Format", "Timestamp is not ISO 8601 UTC")
            skew = abs((datetime.datetime.utcnow() - stamp).total_seconds())
            if skew > 900:
                return self.error(400, "InvalidTimeStamp.Expired", "Timestamp is too far from now")
            secret = self.keys.get(form["AccessKeyId"])
            if secret is None:
                return self.error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
            signature = form.pop("Signature")
            if not hmac.compare_digest(signature, sign(method, form, secret)):
                return self.error(400, "SignatureDoesNotMatch",
                                  "Specified signature is not matched with our calculation.")
            if form["SignatureNonce"] in self.nonces:
                return self.error(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self.nonces.add(form["SignatureNonce"])
            if "@" not in form["AccountName"]:
                return self.error(400, "InvalidMailAddress.NotFound", "The specified mail address is not found.")
            if "@" not in form["ToAddress"]:
                return self.error(400, "InvalidToAddress", "The specified toAddress is invalid.")
            self.sent.append(form)
            return 200, {"EnvId": str(uuid.uuid4().int)[:12], "RequestId": str(uuid.uuid4()).upper()}
