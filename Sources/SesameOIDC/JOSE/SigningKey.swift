import Crypto
import CryptoExtras
import Foundation

/// A private signing key with its `kid`. Private material is kept as bytes so the store can encrypt it.
public struct SigningKey: Sendable {
    public enum KeyError: Error, Sendable { case invalidKeyMaterial, signingFailed }

    public let kid: String
    public let algorithm: SigningAlgorithm
    /// P-256/P-384 and Ed25519: the raw private scalar; RS256: PKCS#1 DER.
    public let privateKeyBytes: Data
    public let createdAt: Date
    /// When a newer key took over; published until `retiredAt` plus the longest JWT lifetime.
    public var retiredAt: Date?

    private let signer: Signer

    public init(kid: String, algorithm: SigningAlgorithm, privateKeyBytes: Data, createdAt: Date, retiredAt: Date? = nil)
        throws
    {
        self.kid = kid
        self.algorithm = algorithm
        self.privateKeyBytes = privateKeyBytes
        self.createdAt = createdAt
        self.retiredAt = retiredAt
        do {
            switch algorithm {
            case .es384: signer = .p384(try P384.Signing.PrivateKey(rawRepresentation: privateKeyBytes))
            case .es256: signer = .p256(try P256.Signing.PrivateKey(rawRepresentation: privateKeyBytes))
            case .edDSA: signer = .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: privateKeyBytes))
            case .rs256: signer = .rsa(try _RSA.Signing.PrivateKey(derRepresentation: privateKeyBytes))
            }
        } catch {
            throw KeyError.invalidKeyMaterial
        }
    }

    /// A fresh key. The `kid` is the RFC 7638 thumbprint of its public JWK.
    public static func generate(_ algorithm: SigningAlgorithm, now: Date) throws -> SigningKey {
        let bytes: Data
        switch algorithm {
        case .es384: bytes = P384.Signing.PrivateKey().rawRepresentation
        case .es256: bytes = P256.Signing.PrivateKey().rawRepresentation
        case .edDSA: bytes = Curve25519.Signing.PrivateKey().rawRepresentation
        case .rs256: bytes = try _RSA.Signing.PrivateKey(keySize: .bits2048).derRepresentation
        }
        let provisional = try SigningKey(kid: "", algorithm: algorithm, privateKeyBytes: bytes, createdAt: now)
        return try SigningKey(kid: provisional.publicKey.thumbprint, algorithm: algorithm, privateKeyBytes: bytes,
                              createdAt: now)
    }

    public var publicKey: VerificationKey {
        switch signer {
        case .p384(let key): return VerificationKey(kid: kid, key: .p384(key.publicKey))
        case .p256(let key): return VerificationKey(kid: kid, key: .p256(key.publicKey))
        case .ed25519(let key): return VerificationKey(kid: kid, key: .ed25519(key.publicKey))
        case .rsa(let key): return VerificationKey(kid: kid, key: .rsa(key.publicKey))
        }
    }

    /// The JWS signature over `input` (ECDSA as r‖s, RFC 7518 §3.4).
    public func sign(_ input: [UInt8]) throws -> Data {
        do {
            switch signer {
            case .p384(let key): return try key.signature(for: input).rawRepresentation
            case .p256(let key): return try key.signature(for: input).rawRepresentation
            case .ed25519(let key): return try key.signature(for: input)
            case .rsa(let key): return try key.signature(for: input, padding: .insecurePKCS1v1_5).rawRepresentation
            }
        } catch {
            throw KeyError.signingFailed
        }
    }

    private enum Signer: Sendable {
        case p384(P384.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }
}

/// A public key as published in the JWKS, able to check signatures.
public struct VerificationKey: Sendable {
    enum Key: Sendable {
        case p384(P384.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
    }

    public let kid: String
    let key: Key

    public var algorithm: SigningAlgorithm {
        switch key {
        case .p384: .es384
        case .p256: .es256
        case .ed25519: .edDSA
        case .rsa: .rs256
        }
    }

    /// The public JWK (RFC 7517) with `kid`, `alg` and `use`.
    public var jwk: JSONValue {
        var members = requiredMembers.mapValues { JSONValue.string($0) }
        members["kid"] = .string(kid)
        members["alg"] = .string(algorithm.rawValue)
        members["use"] = "sig"
        return .object(members)
    }

    /// The members RFC 7638 hashes for a thumbprint.
    private var requiredMembers: [String: String] {
        switch key {
        case .p384(let key):
            let raw = key.rawRepresentation
            return ["kty": "EC", "crv": "P-384", "x": Base64URL.encode(raw.prefix(48)),
                    "y": Base64URL.encode(raw.suffix(48))]
        case .p256(let key):
            let raw = key.rawRepresentation
            return ["kty": "EC", "crv": "P-256", "x": Base64URL.encode(raw.prefix(32)),
                    "y": Base64URL.encode(raw.suffix(32))]
        case .ed25519(let key):
            return ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(key.rawRepresentation)]
        case .rsa(let key):
            // Primitives of a key we hold always exist; an empty JWK would fail verification loudly.
            let primitives = try? key.getKeyPrimitives()
            return ["kty": "RSA", "n": Base64URL.encode(stripLeadingZeros(primitives?.modulus ?? Data())),
                    "e": Base64URL.encode(stripLeadingZeros(primitives?.publicExponent ?? Data()))]
        }
    }

    /// RFC 7638 JWK thumbprint, SHA-256, base64url.
    public var thumbprint: String {
        let members = requiredMembers
        let json = "{" + members.keys.sorted().map { "\"\($0)\":\"\(members[$0]!)\"" }.joined(separator: ",") + "}"
        return Base64URL.encode(SHA256.hash(data: Data(json.utf8)))
    }

    public func isValidSignature(_ signature: Data, for input: [UInt8]) -> Bool {
        switch key {
        case .p384(let key):
            guard let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: input)
        case .p256(let key):
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: input)
        case .ed25519(let key):
            return key.isValidSignature(signature, for: input)
        case .rsa(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: input,
                                        padding: .insecurePKCS1v1_5)
        }
    }

    private func stripLeadingZeros(_ data: Data) -> Data {
        Data(data.drop(while: { $0 == 0 }))
    }
}

extension VerificationKey {
    /// Reads a public JWK (EC P-256/P-384, OKP Ed25519, RSA), as a relying party would from the JWKS.
    public init(jwk: JSONValue) throws {
        func member(_ name: String) throws -> Data {
            guard let text = jwk[name]?.stringValue, let data = Base64URL.decode(text) else {
                throw SigningKey.KeyError.invalidKeyMaterial
            }
            return data
        }
        let kid = jwk["kid"]?.stringValue ?? ""
        do {
            switch (jwk["kty"]?.stringValue, jwk["crv"]?.stringValue) {
            case ("EC", "P-384"):
                self.init(kid: kid, key: .p384(try P384.Signing.PublicKey(rawRepresentation: try member("x") + member("y"))))
            case ("EC", "P-256"):
                self.init(kid: kid, key: .p256(try P256.Signing.PublicKey(rawRepresentation: try member("x") + member("y"))))
            case ("OKP", "Ed25519"):
                self.init(kid: kid, key: .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: try member("x"))))
            case ("RSA", _):
                self.init(kid: kid, key: .rsa(try _RSA.Signing.PublicKey(n: try member("n"), e: try member("e"))))
            default:
                throw SigningKey.KeyError.invalidKeyMaterial
            }
        } catch {
            throw SigningKey.KeyError.invalidKeyMaterial
        }
    }
}
