"""The connectors through the CLI's test command, against their peers: the Aliyun fake and aiosmtpd."""
import base64
import datetime
import email
import email.header
import email.policy
import ipaddress
import json
import secrets
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aliyun_fake import AliyunFake, sign, string_to_sign
from conftest import binary, free_port

VECTORS = Path(__file__).resolve().parent.parent / "Tests/SesameConnectorsTests/Fixtures/aliyun-dm-signature-vectors.json"
TEMPLATES = [
    {"subject": "注册验证码 {{code}}", "content": "<p>欢迎！您的验证码是 {{code}}</p>", "usageType": "Register"},
    {"subject": "Your code", "content": "<p>Your code is {{code}}</p>", "usageType": "Generic"},
]


@pytest.fixture
def cli(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SESAME_DB": f"sqlite://{tmp_path}/sesame.db", "SESAME_SECRET": secrets.token_hex(24)}

    def run(*args, config=None):
        if config is not None:
            path = tmp_path / f"config-{secrets.token_hex(4)}.json"
            path.write_text(json.dumps(config))
            args = [*args, "--file", str(path)]
        return subprocess.run([binary(), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    return run


def test_the_fake_signs_like_the_official_sdks():
    for vector in json.loads(VECTORS.read_text()):
        assert string_to_sign(vector["method"], vector["params"]) == vector["string_to_sign"]
        assert sign(vector["method"], vector["params"], vector["access_key_secret"]) == vector["signature"]


@pytest.fixture
def aliyun():
    fake = AliyunFake({"LTAI-test": "test-secret"}).start()
    yield fake
    fake.stop()


def aliyun_config(fake, secret="test-secret"):
    return {"accessKeyId": "LTAI-test", "accessKeySecret": secret, "accountName": "noreply@mail.example.test",
            "fromAlias": "Sesame 测试", "endpoint": fake.endpoint, "templates": TEMPLATES}


def test_aliyun_sends_a_signed_request(cli, aliyun):
    result = cli("connector", "test", "aliyun-direct-mail", "--to", "alice@example.com", config=aliyun_config(aliyun))
    assert result.returncode == 0, result.stderr
    [mail] = aliyun.sent
    assert mail["ToAddress"] == "alice@example.com"
    assert mail["Subject"] == "Your code"
    assert mail["HtmlBody"] == "<p>Your code is 123456</p>"
    assert mail["FromAlias"] == "Sesame 测试"
    assert mail["AccountName"] == "noreply@mail.example.test"
    assert mail["AddressType"] == "1" and mail["ReplyToAddress"] == "false"
    assert "test-secret" not in result.stdout + result.stderr


def test_aliyun_errors_read_well_and_keep_the_request_id(cli, aliyun):
    result = cli("connector", "test", "aliyun-direct-mail", "--to", "alice@example.com",
                 config=aliyun_config(aliyun, secret="wrong-secret"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: auth_failed: Aliyun Direct Mail: SignatureDoesNotMatch")
    assert "RequestId" in result.stderr
    assert "wrong-secret" not in result.stderr


def test_aliyun_retries_once_after_a_server_error_with_a_new_nonce(cli, aliyun):
    aliyun.fail_next(503, "ServiceUnavailable")
    result = cli("connector", "test", "aliyun-direct-mail", "--to", "alice@example.com", config=aliyun_config(aliyun))
    assert result.returncode == 0, result.stderr
    assert len(aliyun.requests) == 2
    assert aliyun.requests[0]["SignatureNonce"] != aliyun.requests[1]["SignatureNonce"]
    assert len(aliyun.sent) == 1


def test_aliyun_retries_once_after_a_dropped_connection(cli, aliyun):
    aliyun.drop_next()
    result = cli("connector", "test", "aliyun-direct-mail", "--to", "alice@example.com", config=aliyun_config(aliyun))
    assert result.returncode == 0, result.stderr
    assert len(aliyun.requests) == 2
    assert aliyun.requests[0]["SignatureNonce"] != aliyun.requests[1]["SignatureNonce"]
    assert len(aliyun.sent) == 1


def test_aliyun_gives_up_after_ten_seconds_without_a_retry(cli, aliyun):
    # Aliyun may have accepted a request it did not answer: no second mail.
    aliyun.hang_next()
    started = time.monotonic()
    result = cli("connector", "test", "aliyun-direct-mail", "--to", "alice@example.com", config=aliyun_config(aliyun))
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert result.stderr.startswith("error: timeout: Aliyun Direct Mail did not answer within 10 s")
    assert len(aliyun.requests) == 1 and aliyun.sent == []
    assert 9.5 <= elapsed < 19


def test_aliyun_templates_by_usage_type_fall_back_to_generic(cli, aliyun):
    config = aliyun_config(aliyun)
    assert cli("connector", "test", "aliyun-direct-mail", "--to", "a@example.com", "--usage", "Register",
               config=config).returncode == 0
    assert cli("connector", "test", "aliyun-direct-mail", "--to", "a@example.com", "--usage", "ForgotPassword",
               config=config).returncode == 0
    assert [mail["Subject"] for mail in aliyun.sent] == ["注册验证码 123456", "Your code"]
    only_register = {**config, "templates": [TEMPLATES[0]]}
    missing = cli("connector", "test", "aliyun-direct-mail", "--to", "a@example.com", "--usage", "SignIn",
                  config=only_register)
    assert missing.returncode == 1 and missing.stderr.startswith("error: template_not_found")
    bad_usage = cli("connector", "test", "aliyun-direct-mail", "--to", "a@example.com", "--usage", "Login",
                    config=config)
    assert bad_usage.returncode != 0 and "--usage" in bad_usage.stderr


def test_aliyun_does_not_retry_a_client_error(cli, aliyun):
    aliyun.fail_next(400, "Throttling.User", "Request was denied due to user flow control.")
    result = cli("connector", "test", "aliyun-direct-mail", "--to", "alice@example.com", config=aliyun_config(aliyun))
    assert result.returncode == 1
    assert "rate_limited" in result.stderr and "Throttling.User" in result.stderr
    assert len(aliyun.requests) == 1


def test_saved_and_enabled_connector_is_used_by_test(cli, aliyun):
    assert cli("connector", "set", "aliyun-direct-mail", config=aliyun_config(aliyun)).returncode == 0
    assert cli("connector", "enable", "aliyun-direct-mail").returncode == 0
    listed = json.loads(cli("connector", "list", "--json").stdout)
    assert [c["id"] for c in listed if c["enabled"]] == ["aliyun-direct-mail"]
    result = cli("connector", "test", "aliyun-direct-mail", "--to", "bob@example.com")
    assert result.returncode == 0, result.stderr
    assert aliyun.sent[0]["ToAddress"] == "bob@example.com"


# --- SMTP against aiosmtpd ----------------------------------------------------------------------------

class Inbox:
    def __init__(self):
        self.messages = []
        self.raw = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("rejected@"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.content)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    directory = tmp_path_factory.mktemp("tls")
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context, (directory / "cert.pem").read_text()


def smtp_server(**kwargs):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller, inbox


def smtp_config(controller, **overrides):
    return {"host": "127.0.0.1", "port": controller.port, "security": "none",
            "fromEmail": "noreply@example.test", "fromName": "Sesame 认证", "templates": TEMPLATES, **overrides}


def test_smtp_plain_delivers_a_proper_mime_message(cli):
    controller, inbox = smtp_server()
    try:
        result = cli("connector", "test", "smtp", "--to", "alice@example.com", config=smtp_config(controller))
        assert result.returncode == 0, result.stderr
        [message] = inbox.messages
        assert message["To"] == "alice@example.com"
        assert message["Subject"] == "Your code"
        assert str(email.header.make_header(email.header.decode_header(message["From"]))) == \
            "Sesame 认证 <noreply@example.test>"
        assert message["Message-ID"].endswith("@example.test>")
        assert message["Date"]
        assert message.get_content_type() == "text/html"
        assert message.get_content().strip() == "<p>Your code is 123456</p>"
    finally:
        controller.stop()


def test_smtp_starttls_with_auth(cli, certificate):
    context, pem = certificate
    controller, inbox = smtp_server(tls_context=context, require_starttls=True, authenticator=authenticator,
                                    auth_require_tls=True)
    try:
        config = smtp_config(controller, security="starttls", username="mailer", password="s3cret",
                             trustedCertificate=pem)
        result = cli("connector", "test", "smtp", "--to", "alice@example.com", config=config)
        assert result.returncode == 0, result.stderr
        assert len(inbox.messages) == 1

        wrong = cli("connector", "test", "smtp", "--to", "alice@example.com", config={**config, "password": "nope"})
        assert wrong.returncode == 1
        assert wrong.stderr.startswith("error: auth_failed: SMTP AUTH")
        assert "nope" not in wrong.stderr

        untrusted = cli("connector", "test", "smtp", "--to", "alice@example.com",
                        config={**config, "trustedCertificate": None})
        assert untrusted.returncode == 1
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_smtp_rejected_recipient(cli):
    controller, inbox = smtp_server()
    try:
        result = cli("connector", "test", "smtp", "--to", "rejected@example.com", config=smtp_config(controller))
        assert result.returncode == 1
        assert "RCPT TO was refused: 550" in result.stderr
        assert inbox.messages == []
    finally:
        controller.stop()


def test_smtp_auth_login_and_implicit_tls(cli, certificate):
    context, pem = certificate
    controller, inbox = smtp_server(ssl_context=context, authenticator=authenticator, auth_require_tls=False,
                                    auth_exclude_mechanism=["PLAIN"])
    try:
        config = smtp_config(controller, security="tls", username="mailer", password="s3cret", trustedCertificate=pem)
        result = cli("connector", "test", "smtp", "--to", "alice@example.com", config=config)
        assert result.returncode == 0, result.stderr
        assert len(inbox.messages) == 1
        wrong = cli("connector", "test", "smtp", "--to", "alice@example.com", config={**config, "password": "x"})
        assert wrong.returncode == 1
        assert "auth_failed" in wrong.stderr and "AUTH LOGIN password" in wrong.stderr
    finally:
        controller.stop()


def test_smtp_sends_a_utf8_subject_as_an_encoded_word(cli):
    controller, inbox = smtp_server()
    try:
        result = cli("connector", "test", "smtp", "--to", "alice@example.com", "--usage", "Register",
                     config=smtp_config(controller))
        assert result.returncode == 0, result.stderr
        [message] = inbox.messages
        # On the wire every header is 7-bit: the subject is an RFC 2047 encoded word.
        headers = inbox.raw[0].split(b"\r\n\r\n", 1)[0]
        headers.decode("ascii")
        subject = next(line for line in headers.split(b"\r\n") if line.lower().startswith(b"subject:"))
        assert subject.lower().startswith(b"subject: =?utf-8?")
        assert message["Subject"] == "注册验证码 123456"
        assert message.get_content().strip() == "<p>欢迎！您的验证码是 123456</p>"
    finally:
        controller.stop()


def test_smtp_stalled_server_times_out(cli):
    # A server that accepts the connection and never greets.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        started = time.monotonic()
        result = cli("connector", "test", "smtp", "--to", "alice@example.com",
                     config={"host": "127.0.0.1", "port": listener.getsockname()[1], "security": "none",
                             "fromEmail": "a@b.test", "timeoutSeconds": 2, "templates": TEMPLATES})
        assert result.returncode == 1
        assert result.stderr.startswith("error: timeout: the SMTP server 127.0.0.1:")
        assert "within 2 s" in result.stderr
        assert time.monotonic() - started < 15
    finally:
        listener.close()


def test_smtp_unreachable_server_reads_well(cli):
    result = cli("connector", "test", "smtp", "--to", "alice@example.com",
                 config={"host": "127.0.0.1", "port": free_port(), "security": "none", "fromEmail": "a@b.test",
                         "templates": TEMPLATES})
    assert result.returncode == 1
    assert result.stderr.startswith("error: provider_error: cannot connect to the SMTP server 127.0.0.1:")
