import Crypto
import CryptoExtras
import Foundation
import SesameOIDC

/// The relying party side of Web Authentication (W3C WebAuthn Level 2): the options a browser passes to
/// `navigator.credentials.create()` / `.get()`, and the checks of §7.1 (registering a new credential) and §7.2
/// (verifying an authentication assertion) on what it sends back. Sesame asks for attestation `none`, a
/// discoverable credential (a passkey) and user verification, as Logto does (`../design/logto-reference.md` §3).
public struct WebAuthnRelyingParty: Sendable {
    /// The RP ID: the host of `SESAME_ENDPOINT` (a domain; browsers refuse IP addresses).
    public let id: String
    /// Shown by the browser beside the passkey.
    public let name: String
    /// The origin every ceremony must come from: scheme, host and port of `SESAME_ENDPOINT`.
    public let origin: String

    /// COSE algorithms accepted, most preferred first (RFC 9053): ES256, EdDSA, ES384, RS256.
    public static let algorithms = [-7, -8, -35, -257]
    /// How long the browser may take, in milliseconds (the challenge itself lives as long as the experience step).
    public static let timeout = 300_000

    public init(id: String, name: String, origin: String) {
        self.id = id
        self.name = name
        self.origin = origin
    }

    /// Why a response was refused: one short English reason (never a secret), shown after
    /// `session.mfa.webauthn_verification_failed`.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    // MARK: Options

    /// `PublicKeyCredentialCreationOptionsJSON` (§5.4): `challenge` and `userHandle` as base64url.
    /// `exclude`: the user's passkeys, so an authenticator that holds one already says so.
    public func registrationOptions(challenge: [UInt8], userHandle: String, userName: String, displayName: String,
                                    exclude: [WebAuthnCredential]) -> JSONValue
    {
        [
            "rp": ["id": .string(id), "name": .string(name)],
            "user": ["id": .string(Base64URL.encode(Array(userHandle.utf8))), "name": .string(userName),
                     "displayName": .string(displayName)],
            "challenge": .string(Base64URL.encode(challenge)),
            "pubKeyCredParams": .array(Self.algorithms.map { ["type": "public-key", "alg": .int(Int64($0))] }),
            "timeout": .int(Int64(Self.timeout)),
            "attestation": "none",
            "excludeCredentials": .array(exclude.map(Self.descriptor)),
            "authenticatorSelection": ["residentKey": "required", "requireResidentKey": true,
                                       "userVerification": "required"],
        ]
    }

    /// `PublicKeyCredentialRequestOptionsJSON` (§5.5). An empty `allow` asks for any discoverable credential of
    /// this RP (passkey sign-in).
    public func authenticationOptions(challenge: [UInt8], allow: [WebAuthnCredential]) -> JSONValue {
        [
            "challenge": .string(Base64URL.encode(challenge)),
            "timeout": .int(Int64(Self.timeout)),
            "rpId": .string(id),
            "allowCredentials": .array(allow.map(Self.descriptor)),
            "userVerification": "required",
        ]
    }

    static func descriptor(_ credential: WebAuthnCredential) -> JSONValue {
        ["type": "public-key", "id": .string(credential.credentialID),
         "transports": .array(credential.transports.map { .string($0) })]
    }

    // MARK: Registration (§7.1)

    /// Checks a `RegistrationResponseJSON` against the `challenge` this RP issued; returns the credential to
    /// store (its id, COSE key, counter and transports). Throws `Failure`.
    public func verifyRegistration(_ response: JSONValue, challenge: [UInt8], agent: String? = nil) throws
        -> WebAuthnCredential
    {
        let credentialID = try Self.credentialID(of: response)
        let body = response["response"]
        let clientData = try Self.bytes(body?["clientDataJSON"], "clientDataJSON")
        try checkClientData(clientData, type: "webauthn.create", challenge: challenge)
        let attestation: CBOR
        do {
            attestation = try CBOR.decode(try Self.bytes(body?["attestationObject"], "attestationObject"))
        } catch let error as CBOR.DecodingError {
            throw Failure("the attestation object is not valid CBOR: \(error.description)")
        }
        guard let format = attestation["fmt"]?.textValue, case .map(let statement)? = attestation["attStmt"],
              let authData = attestation["authData"]?.bytesValue
        else { throw Failure("the attestation object lacks fmt, attStmt or authData") }
        // Attestation `none` was asked for (§8.7); browsers answer it so. Any other format would need its own checks.
        guard format == "none", statement.isEmpty else {
            throw Failure("attestation format '\(format)' is not accepted (Sesame asks for 'none')")
        }
        let data = try AuthenticatorData(authData)
        try check(data)
        guard let attested = data.attestedCredential else { throw Failure("no attested credential data") }
        guard Base64URL.encode(attested.id) == credentialID else {
            throw Failure("the credential id differs from the one in the authenticator data")
        }
        // The key must be one we can verify with, of an algorithm we offered.
        _ = try PublicKey(cose: attested.publicKey)
        let transports = (body?["transports"]?.arrayValue ?? []).compactMap(\.stringValue)
            .filter { $0.count <= 32 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "-") } }.prefix(8)
        return WebAuthnCredential(credentialID: credentialID, publicKey: attested.publicKey, counter: data.signCount,
                                  transports: Array(transports), agent: agent.map { String($0.prefix(256)) },
                                  name: nil, rpID: id)
    }

    // MARK: Authentication (§7.2)

    /// The new signature counter after checking an `AuthenticationResponseJSON` made with `credential` against
    /// `challenge`. Throws `Failure` for a wrong type, challenge, origin or RP, missing user presence or
    /// verification, a bad signature, or a counter that did not move forward (a cloned authenticator, §6.1.1).
    public func verifyAuthentication(_ response: JSONValue, challenge: [UInt8], credential: WebAuthnCredential)
        throws -> UInt32
    {
        guard try Self.credentialID(of: response) == credential.credentialID else {
            throw Failure("the assertion is for another credential")
        }
        let body = response["response"]
        let clientData = try Self.bytes(body?["clientDataJSON"], "clientDataJSON")
        try checkClientData(clientData, type: "webauthn.get", challenge: challenge)
        let authData = try Self.bytes(body?["authenticatorData"], "authenticatorData")
        let signature = try Self.bytes(body?["signature"], "signature")
        let data = try AuthenticatorData(authData)
        try check(data)
        let key = try PublicKey(cose: credential.publicKey)
        guard key.isValidSignature(signature, for: authData + Array(SHA256.hash(data: clientData))) else {
            throw Failure("the signature does not verify")
        }
        if data.signCount != 0 || credential.counter != 0, data.signCount <= credential.counter {
            throw Failure("the signature counter did not increase: the authenticator may have been cloned")
        }
        return data.signCount
    }

    /// The credential id a response names (`id`, which must equal `rawId` when both are sent), base64url.
    public static func credentialID(of response: JSONValue) throws -> String {
        guard response.objectValue != nil else { throw Failure("the credential is not a JSON object") }
        guard let id = response["id"]?.stringValue, !id.isEmpty, id.utf8.count <= 1366,
              let raw = Base64URL.decode(id), !raw.isEmpty
        else { throw Failure("the credential id is missing or not base64url") }
        if let rawID = response["rawId"]?.stringValue, rawID != id { throw Failure("id and rawId differ") }
        if let type = response["type"]?.stringValue, type != "public-key", type != "WebAuthn" {
            throw Failure("the credential type is not public-key")
        }
        return Base64URL.encode(raw)
    }

    /// The user handle an assertion carries (discoverable credentials), decoded to the user id.
    public static func userHandle(of response: JSONValue) -> String? {
        guard let text = response["response"]?["userHandle"]?.stringValue, let bytes = Base64URL.decode(text) else {
            return nil
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    // MARK: Checks

    private func checkClientData(_ bytes: [UInt8], type: String, challenge: [UInt8]) throws {
        guard let clientData = try? JSONValue.decode(Data(bytes)), clientData.objectValue != nil else {
            throw Failure("clientDataJSON is not a JSON object")
        }
        guard clientData["type"]?.stringValue == type else { throw Failure("clientDataJSON.type is not \(type)") }
        guard let sent = clientData["challenge"]?.stringValue, let sentBytes = Base64URL.decode(sent),
              SecretDigest.constantTimeEquals(SecretDigest.hex(sentBytes), SecretDigest.hex(challenge))
        else { throw Failure("the challenge is not the one issued") }
        guard clientData["origin"]?.stringValue == origin else {
            throw Failure("the origin is not \(origin)")
        }
        if clientData["crossOrigin"]?.boolValue == true { throw Failure("cross-origin ceremonies are not accepted") }
    }

    private func check(_ data: AuthenticatorData) throws {
        guard data.rpIDHash == Array(SHA256.hash(data: Data(id.utf8))) else {
            throw Failure("the authenticator data is for another relying party")
        }
        guard data.flags & 0x01 != 0 else { throw Failure("the user was not present") }
        guard data.flags & 0x04 != 0 else { throw Failure("the user was not verified") }
    }

    private static func bytes(_ value: JSONValue?, _ name: String) throws -> [UInt8] {
        guard let text = value?.stringValue, text.utf8.count <= 64 * 1024, let data = Base64URL.decode(text) else {
            throw Failure("\(name) is missing or not base64url")
        }
        return Array(data)
    }

    // MARK: Authenticator data (§6.1)

    struct AuthenticatorData {
        let rpIDHash: [UInt8]
        let flags: UInt8
        let signCount: UInt32
        let attestedCredential: (id: [UInt8], publicKey: [UInt8])?

        init(_ bytes: [UInt8]) throws {
            guard bytes.count >= 37 else { throw Failure("the authenticator data is too short") }
            rpIDHash = Array(bytes[0..<32])
            flags = bytes[32]
            signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
            var offset = 37
            if flags & 0x40 != 0 {
                // AAGUID (16), credential id length (2), credential id, COSE key.
                guard bytes.count >= offset + 18 else { throw Failure("the attested credential data is too short") }
                offset += 16
                let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
                offset += 2
                guard length > 0, length <= 1023, bytes.count >= offset + length else {
                    throw Failure("the credential id length is wrong")
                }
                let id = Array(bytes[offset..<(offset + length)])
                offset += length
                let key: (CBOR, Int)
                do {
                    key = try CBOR.decodePrefix(Array(bytes[offset...]))
                } catch let error as CBOR.DecodingError {
                    throw Failure("the credential public key is not valid CBOR: \(error.description)")
                }
                attestedCredential = (id, Array(bytes[offset..<(offset + key.1)]))
                offset += key.1
            } else {
                attestedCredential = nil
            }
            if flags & 0x80 != 0 {
                do {
                    offset += try CBOR.decodePrefix(Array(bytes[offset...])).1
                } catch {
                    throw Failure("the extensions are not valid CBOR")
                }
            }
            guard offset == bytes.count else { throw Failure("the authenticator data has bytes left over") }
        }
    }

    // MARK: COSE keys (RFC 9053, RFC 8230)

    enum PublicKey {
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)

        init(cose bytes: [UInt8]) throws {
            let key: CBOR
            do { key = try CBOR.decode(bytes) } catch { throw Failure("the credential public key is not valid CBOR") }
            guard let kty = key[1]?.intValue, let alg = key[3]?.intValue else {
                throw Failure("the credential public key lacks kty or alg")
            }
            guard WebAuthnRelyingParty.algorithms.contains(alg) else {
                throw Failure("COSE algorithm \(alg) was not offered")
            }
            do {
                switch (kty, alg, key[-1]?.intValue) {
                case (2, -7, 1):
                    guard let x = key[-2]?.bytesValue, let y = key[-3]?.bytesValue, x.count == 32, y.count == 32 else {
                        throw Failure("a P-256 key needs 32-byte x and y")
                    }
                    self = .p256(try P256.Signing.PublicKey(rawRepresentation: x + y))
                case (2, -35, 2):
                    guard let x = key[-2]?.bytesValue, let y = key[-3]?.bytesValue, x.count == 48, y.count == 48 else {
                        throw Failure("a P-384 key needs 48-byte x and y")
                    }
                    self = .p384(try P384.Signing.PublicKey(rawRepresentation: x + y))
                case (1, -8, 6):
                    guard let x = key[-2]?.bytesValue, x.count == 32 else { throw Failure("an Ed25519 key needs 32 bytes") }
                    self = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: x))
                case (3, -257, _):
                    guard let n = key[-1]?.bytesValue, let e = key[-2]?.bytesValue, n.count >= 256, n.count <= 1024,
                          !e.isEmpty, e.count <= 8
                    else { throw Failure("an RSA key needs a modulus of 2048 to 8192 bits") }
                    self = .rsa(try _RSA.Signing.PublicKey(n: n, e: e))
                default:
                    throw Failure("key type \(kty) with algorithm \(alg) is not supported")
                }
            } catch let failure as Failure {
                throw failure
            } catch {
                throw Failure("the credential public key is not a valid point or modulus")
            }
        }

        /// ECDSA signatures come DER-encoded in WebAuthn (§6.5.6); EdDSA and RSASSA-PKCS1-v1_5 as raw bytes.
        func isValidSignature(_ signature: [UInt8], for data: [UInt8]) -> Bool {
            switch self {
            case .p256(let key):
                guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
                return key.isValidSignature(parsed, for: data)
            case .p384(let key):
                guard let parsed = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
                return key.isValidSignature(parsed, for: data)
            case .ed25519(let key):
                return key.isValidSignature(signature, for: data)
            case .rsa(let key):
                return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: data,
                                            padding: .insecurePKCS1v1_5)
            }
        }
    }
}
