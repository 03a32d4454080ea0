"""Writes Tests/SesameIdentityTests/Fixtures/webauthn-vectors.json: WebAuthn registrations and assertions made by a
software authenticator (soft-webauthn, on python-fido2's CBOR and COSE), for Sesame's relying-party checks.

Run from the repository root with the interop venv: .build/venv/bin/python interop/make_webauthn_vectors.py
Each case names the challenge Sesame issued, what the browser sent back, and the outcome Sesame must reach.
"""
import json
import os
import struct
import sys
from base64 import urlsafe_b64encode
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from fido2 import cbor
from fido2.cose import ES256, RS256, EdDSA
from fido2.utils import sha256
from soft_webauthn import SoftWebauthnDevice

RP_ID = "localhost"
ORIGIN = "http://localhost:3001"
USER_HANDLE = b"user-1"


def b64(data: bytes) -> str:
    return urlsafe_b64encode(data).decode("ascii").rstrip("=")


class Authenticator(SoftWebauthnDevice):
    """soft-webauthn's device with user verification (a passkey asks for a PIN or a fingerprint) and a choice of
    key type; `flags` may be overridden to make a device that does not verify the user."""

    def __init__(self, kind="es256", verifies_user=True):
        super().__init__()
        self.kind = kind
        self.verifies_user = verifies_user

    def cred_init(self, rp_id, user_handle):
        super().cred_init(rp_id, user_handle)
        if self.kind == "eddsa":
            self.private_key = ed25519.Ed25519PrivateKey.generate()
        elif self.kind == "rs256":
            self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def cose(self):
        public = self.private_key.public_key()
        key = {"es256": ES256, "eddsa": EdDSA, "rs256": RS256}[self.kind].from_cryptography_key(public)
        return cbor.encode(key)

    def sign(self, data):
        if self.kind == "eddsa":
            return self.private_key.sign(data)
        if self.kind == "rs256":
            return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))

    def register(self, challenge, rp_id=RP_ID, origin=ORIGIN, fmt="none", client_type="webauthn.create"):
        self.cred_init(rp_id, USER_HANDLE)
        client_data = json.dumps({"type": client_type, "challenge": b64(challenge), "origin": origin}).encode()
        flags = 0x41 | (0x04 if self.verifies_user else 0)
        auth_data = (sha256(rp_id.encode()) + bytes([flags]) + struct.pack(">I", self.sign_count) + self.aaguid
                     + struct.pack(">H", len(self.credential_id)) + self.credential_id + self.cose())
        statement = {} if fmt == "none" else {"alg": -7, "sig": b"\x30\x00"}
        attestation = cbor.encode({"fmt": fmt, "attStmt": statement, "authData": auth_data})
        return {"id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64(client_data), "attestationObject": b64(attestation),
                             "transports": ["internal", "hybrid"]},
                "clientExtensionResults": {}}

    def assert_(self, challenge, origin=ORIGIN, rp_id=None, count=None):
        self.sign_count = self.sign_count + 1 if count is None else count
        client_data = json.dumps({"type": "webauthn.get", "challenge": b64(challenge), "origin": origin}).encode()
        flags = 0x01 | (0x04 if self.verifies_user else 0)
        auth_data = sha256((rp_id or self.rp_id).encode()) + bytes([flags]) + struct.pack(">I", self.sign_count)
        signature = self.sign(auth_data + sha256(client_data))
        return {"id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data),
                             "signature": b64(signature), "userHandle": b64(USER_HANDLE)},
                "clientExtensionResults": {}}


def main(path):
    cases = []
    for kind in ["es256", "eddsa", "rs256"]:
        device = Authenticator(kind)
        challenge = os.urandom(32)
        registration = device.register(challenge)
        cases.append({"name": f"{kind} registration", "ceremony": "registration", "challenge": b64(challenge),
                      "response": registration, "error": None, "publicKey": b64(device.cose()),
                      "credentialId": b64(device.credential_id)})
        challenge = os.urandom(32)
        cases.append({"name": f"{kind} assertion", "ceremony": "authentication", "challenge": b64(challenge),
                      "response": device.assert_(challenge), "error": None, "publicKey": b64(device.cose()),
                      "credentialId": b64(device.credential_id), "storedCounter": 0, "newCounter": 1})

    device = Authenticator()
    challenge = os.urandom(32)
    registration = device.register(challenge)
    key, credential = b64(device.cose()), b64(device.credential_id)

    def bad(name, ceremony, challenge, response, error, **extra):
        cases.append({"name": name, "ceremony": ceremony, "challenge": b64(challenge), "response": response,
                      "error": error, "publicKey": key, "credentialId": credential, **extra})

    bad("registration for another challenge (a replayed one)", "registration", os.urandom(32), registration,
        "the challenge is not the one issued")
    other = Authenticator()
    challenge = os.urandom(32)
    bad_rp = other.register(challenge, rp_id="evil.example")
    cases.append({"name": "registration for another RP ID", "ceremony": "registration", "challenge": b64(challenge),
                  "response": bad_rp, "error": "the authenticator data is for another relying party"})
    challenge = os.urandom(32)
    cases.append({"name": "registration from another origin", "ceremony": "registration", "challenge": b64(challenge),
                  "response": Authenticator().register(challenge, origin="http://localhost:3002"),
                  "error": "the origin is not " + ORIGIN})
    challenge = os.urandom(32)
    cases.append({"name": "registration without user verification", "ceremony": "registration",
                  "challenge": b64(challenge), "response": Authenticator(verifies_user=False).register(challenge),
                  "error": "the user was not verified"})
    challenge = os.urandom(32)
    cases.append({"name": "registration with a packed attestation", "ceremony": "registration",
                  "challenge": b64(challenge), "response": Authenticator().register(challenge, fmt="packed"),
                  "error": "attestation format 'packed' is not accepted (Sesame asks for 'none')"})
    challenge = os.urandom(32)
    cases.append({"name": "an assertion sent as a registration", "ceremony": "registration",
                  "challenge": b64(challenge), "response": Authenticator().register(challenge, client_type="webauthn.get"),
                  "error": "clientDataJSON.type is not webauthn.create"})

    challenge = os.urandom(32)
    signed = device.assert_(challenge)
    forged = json.loads(json.dumps(signed))
    signature = bytearray(urlsafe_b64decode(forged["response"]["signature"]))
    signature[-1] ^= 0x01
    forged["response"]["signature"] = b64(bytes(signature))
    bad("a bad signature", "authentication", challenge, forged, "the signature does not verify",
        storedCounter=0)
    bad("an assertion for another challenge (a replayed one)", "authentication", os.urandom(32), signed,
        "the challenge is not the one issued", storedCounter=0)
    challenge = os.urandom(32)
    bad("an assertion from another origin", "authentication", challenge,
        device.assert_(challenge, origin="https://evil.example"), "the origin is not " + ORIGIN, storedCounter=0)
    challenge = os.urandom(32)
    bad("an assertion for another RP ID", "authentication", challenge, device.assert_(challenge, rp_id="evil.example"),
        "the authenticator data is for another relying party", storedCounter=0)
    challenge = os.urandom(32)
    bad("a sign counter that went back", "authentication", challenge, device.assert_(challenge, count=3),
        "the signature counter did not increase: the authenticator may have been cloned", storedCounter=5)
    challenge = os.urandom(32)
    bad("a counter that moved forward", "authentication", challenge, device.assert_(challenge, count=9), None,
        storedCounter=5, newCounter=9)
    unverified = Authenticator(verifies_user=False)
    challenge = os.urandom(32)
    unverified.register(challenge)
    challenge = os.urandom(32)
    cases.append({"name": "an assertion without user verification", "ceremony": "authentication",
                  "challenge": b64(challenge), "response": unverified.assert_(challenge), "error": "the user was not verified",
                  "publicKey": b64(unverified.cose()), "credentialId": b64(unverified.credential_id), "storedCounter": 0})

    document = {"rpId": RP_ID, "origin": ORIGIN, "generator": "soft-webauthn 0.1.4 on fido2 2.2.1", "cases": cases}
    Path(path).write_text(json.dumps(document, indent=1) + "\n")


def urlsafe_b64decode(text):
    from base64 import urlsafe_b64decode as decode
    return decode(text + "=" * (-len(text) % 4))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/SesameIdentityTests/Fixtures/webauthn-vectors.json")
