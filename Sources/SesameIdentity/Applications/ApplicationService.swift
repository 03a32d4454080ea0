import Foundation
import SesameOIDC

public protocol ApplicationStore: Sendable {
    /// `recoverableSecret`: a `client_secret_jwt` application's secret in clear, stored sealed in the same transaction.
    func insertClient(_ client: Client, recoverableSecret: String?) async throws
    func client(id: String) async throws -> Client?
    func clients() async throws -> [Client]
    /// Saves `client`; sealed secrets are dropped when it no longer uses `client_secret_jwt` or no longer has the
    /// secret they copy, and `recoverableSecret` is sealed and kept, all in one transaction.
    func updateClient(_ client: Client, recoverableSecret: String?) async throws
    func deleteClient(id: String) async throws
    /// Throws `IdentityError.conflict` when the application has a secret of that name.
    func insertClientSecret(_ secret: ClientSecret, applicationID: String, recoverableSecret: String?) async throws
    /// False when there was no such secret.
    func deleteClientSecret(name: String, applicationID: String) async throws -> Bool
}

extension ApplicationStore {
    public func insertClient(_ client: Client) async throws {
        try await insertClient(client, recoverableSecret: nil)
    }

    public func updateClient(_ client: Client) async throws {
        try await updateClient(client, recoverableSecret: nil)
    }

    public func insertClientSecret(_ secret: ClientSecret, applicationID: String) async throws {
        try await insertClientSecret(secret, applicationID: applicationID, recoverableSecret: nil)
    }
}

/// Registering applications: ids, secrets shown once, redirect URIs checked before they are stored.
public struct ApplicationService: Sendable {
    public let store: any ApplicationStore
    public let now: @Sendable () -> Date

    public init(store: any ApplicationStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.now = now
    }

    public struct Created: Sendable {
        public let client: Client
        /// The secret in clear, for confidential apps; it is not stored and cannot be shown again.
        public let secret: String?
    }

    public func create(name: String, type: ApplicationType, description: String? = nil, redirectURIs: [String],
                       postLogoutRedirectURIs: [String], isThirdParty: Bool = false, canManage: Bool = false,
                       idTokenSignedResponseAlg: SigningAlgorithm? = nil,
                       authentication: ClientAuthenticationSettings = .init(), isDeviceFlow: Bool = false)
        async throws -> Created
    {
        if canManage, type != .machineToMachine {
            throw IdentityError.invalidInput(phrase: "application.management_needs_machine_to_machine")
        }
        let name = try Self.validateName(name)
        try Self.validateRedirectURIs(redirectURIs, postLogoutRedirectURIs, type: type)
        // 256 random bits: a digest is enough at rest, a slow KDF would only slow the token endpoint. A private_key_jwt
        // application has no secret: its key is its credential.
        let secret = type.isConfidential && authentication.method != .privateKeyJWT ? SecureRandom.token() : nil
        var client = Client(
            id: SecureRandom.identifier(), name: name, description: description, type: type,
            secretHash: secret.map(SecretDigest.sha256Hex), redirectURIs: redirectURIs,
            postLogoutRedirectURIs: postLogoutRedirectURIs, isThirdParty: isThirdParty, canManage: canManage,
            createdAt: now(), idTokenSignedResponseAlg: idTokenSignedResponseAlg)
        authentication.apply(to: &client)
        client.isDeviceFlow = isDeviceFlow
        try Self.validateAuthentication(client)
        try Self.validateDeviceFlow(client)
        try await store.insertClient(client, recoverableSecret: Self.recoverable(secret, for: client))
        return Created(client: client, secret: secret)
    }

    /// What an administrator may change on an application; nil leaves a value as it is.
    public struct Changes: Sendable {
        public var name: String?
        /// `.some(nil)` clears the description.
        public var description: String??
        public var redirectURIs: [String]?
        public var postLogoutRedirectURIs: [String]?
        /// The ID token signing algorithm; `.some(nil)` returns to the server's default (ES384).
        public var idTokenSignedResponseAlg: SigningAlgorithm??
        /// Client authentication; each member that is `.some` replaces the stored value (`.some(nil)` clears it).
        public var authentication = ClientAuthenticationChanges()
        /// Whether a native app uses the device authorization grant (RFC 8628).
        public var isDeviceFlow: Bool?

        public init(name: String? = nil, description: String?? = nil, redirectURIs: [String]? = nil,
                    postLogoutRedirectURIs: [String]? = nil, idTokenSignedResponseAlg: SigningAlgorithm?? = nil,
                    authentication: ClientAuthenticationChanges = .init(), isDeviceFlow: Bool? = nil)
        {
            self.isDeviceFlow = isDeviceFlow
            self.authentication = authentication
            self.idTokenSignedResponseAlg = idTokenSignedResponseAlg
            self.name = name
            self.description = description
            self.redirectURIs = redirectURIs
            self.postLogoutRedirectURIs = postLogoutRedirectURIs
        }
    }

    public func application(id: String) async throws -> Client {
        guard let client = try await store.client(id: id) else {
            throw IdentityError(.notFound, phrase: "application.not_found", ["id": id])
        }
        return client
    }

    /// Applies `changes` with the same checks as `create`.
    public func update(id: String, _ changes: Changes) async throws -> Client {
        var client = try await application(id: id)
        if let name = changes.name { client.name = try Self.validateName(name) }
        if let description = changes.description {
            client.description = description?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        }
        if let uris = changes.redirectURIs { client.redirectURIs = uris }
        if let uris = changes.postLogoutRedirectURIs { client.postLogoutRedirectURIs = uris }
        if let algorithm = changes.idTokenSignedResponseAlg { client.idTokenSignedResponseAlg = algorithm }
        changes.authentication.apply(to: &client)
        if let isDeviceFlow = changes.isDeviceFlow { client.isDeviceFlow = isDeviceFlow }
        if client.tokenEndpointAuthMethod == .privateKeyJWT {
            // Its key is its credential: every secret goes (the store deletes the named ones in the same transaction),
            // so none comes back to life if the method is changed again; a new one is made then.
            client.secretHash = nil
            client.secrets = []
        }
        try Self.validateRedirectURIs(client.redirectURIs, client.postLogoutRedirectURIs, type: client.type)
        try Self.validateAuthentication(client)
        try Self.validateDeviceFlow(client)
        try await store.updateClient(client)
        return client
    }

    /// Replaces a confidential application's secret; the old one stops working at once. The new secret is
    /// returned in clear once and only its digest is stored.
    public func rotateSecret(id: String) async throws -> Created {
        var client = try await application(id: id)
        guard client.type.isConfidential else {
            throw IdentityError.invalidInput(phrase: "application.public_has_no_secret", ["type": client.type.rawValue])
        }
        try Self.refuseSecret(for: client)
        let secret = SecureRandom.token()
        client.secretHash = SecretDigest.sha256Hex(secret)
        try await store.updateClient(client, recoverableSecret: Self.recoverable(secret, for: client))
        return Created(client: client, secret: secret)
    }

    public func delete(id: String) async throws {
        let client = try await application(id: id)
        try await store.deleteClient(id: client.id)
    }

    // MARK: Named secrets

    /// Adds a named secret beside the others (Logto's application secrets): deploy it, then delete the old
    /// one, with no moment where the app cannot authenticate. Returns it with its value, shown once.
    public func addSecret(applicationID: String, name: String, expiresAt: Date?) async throws
        -> (secret: ClientSecret, value: String)
    {
        let client = try await application(id: applicationID)
        guard client.type.isConfidential else {
            throw IdentityError.invalidInput(phrase: "application.public_has_no_secret", ["type": client.type.rawValue])
        }
        try Self.refuseSecret(for: client)
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...256).contains(name.count) else {
            throw IdentityError.invalidInput(phrase: "application.secret_name_length")
        }
        let now = now()
        if let expiresAt, expiresAt <= now || expiresAt > now.addingTimeInterval(10 * 366 * 86400) {
            throw IdentityError.invalidInput(phrase: "application.secret_expiry_range")
        }
        let value = SecureRandom.token()
        let secret = ClientSecret(name: name, hash: SecretDigest.sha256Hex(value), createdAt: now, expiresAt: expiresAt)
        try await store.insertClientSecret(secret, applicationID: client.id,
                                           recoverableSecret: Self.recoverable(value, for: client))
        return (secret, value)
    }

    public func deleteSecret(applicationID: String, name: String) async throws {
        let client = try await application(id: applicationID)
        guard try await store.deleteClientSecret(name: name, applicationID: client.id) else {
            throw IdentityError(.notFound, phrase: "application.secret_not_found", ["name": name])
        }
    }

    /// Removes the original secret (made at creation or by rotation), once named secrets replace it.
    public func deleteLegacySecret(applicationID: String) async throws {
        var client = try await application(id: applicationID)
        guard client.secretHash != nil else {
            throw IdentityError(.notFound, phrase: "application.no_original_secret")
        }
        client.secretHash = nil
        try await store.updateClient(client)
    }

    /// A `private_key_jwt` application gets no secret. Throws `IdentityError.invalidInput`.
    static func refuseSecret(for client: Client) throws {
        if client.tokenEndpointAuthMethod == .privateKeyJWT {
            throw IdentityError.invalidInput(phrase: "application.private_key_jwt_has_no_secret")
        }
    }

    /// The secret to keep sealed: only a `client_secret_jwt` client's, whose assertions are MACed with it in clear.
    static func recoverable(_ secret: String?, for client: Client) -> String? {
        client.tokenEndpointAuthMethod == .clientSecretJWT ? secret : nil
    }

    /// Checks client authentication against the application's type (OpenID Connect Registration §2): public clients
    /// use `none`, confidential ones anything else; `private_key_jwt` needs exactly one of `jwks` (a JWK Set with a
    /// usable public key) and `jwks_uri` (https, or http on loopback); the assertion algorithm fits the method.
    /// Throws `IdentityError.invalidInput` naming the field.
    static func validateAuthentication(_ client: Client) throws {
        if let method = client.tokenEndpointAuthMethod, (method == .none) == client.type.isConfidential {
            throw IdentityError.invalidInput(phrase: "application.auth_method_type", [
                "method": method.rawValue, "type": client.type.rawValue,
            ])
        }
        if !client.type.isConfidential,
           client.jwks != nil || client.jwksURI != nil || client.tokenEndpointAuthSigningAlg != nil
        {
            throw IdentityError.invalidInput(phrase: "application.public_has_no_keys", ["type": client.type.rawValue])
        }
        if client.jwks != nil, client.jwksURI != nil {
            throw IdentityError.invalidInput(phrase: "application.jwks_and_uri")
        }
        if let jwks = client.jwks {
            do {
                _ = try ClientKeySets.publicKeys(in: jwks)
            } catch {
                throw IdentityError.invalidInput(phrase: error.phrase)
            }
        }
        if let uri = client.jwksURI { try validateKeySetURI(uri) }
        if client.tokenEndpointAuthMethod == .privateKeyJWT, client.jwks == nil, client.jwksURI == nil {
            throw IdentityError.invalidInput(phrase: "application.private_key_jwt_needs_keys")
        }
        if let alg = client.tokenEndpointAuthSigningAlg {
            let allowed = switch client.tokenEndpointAuthMethod {
            case let method? where !method.assertionAlgorithms.isEmpty: method.assertionAlgorithms
            default: ClientAuthenticationMethod.assertionAlgorithms
            }
            guard allowed.contains(alg) else {
                throw IdentityError.invalidInput(phrase: "input.one_of", [
                    "field": "tokenEndpointAuthSigningAlg", "values": allowed.joined(separator: ", "),
                ])
            }
        }
    }

    /// Only native apps use the device authorization grant (Logto's rule: devices are public clients). Throws
    /// `IdentityError.invalidInput`.
    static func validateDeviceFlow(_ client: Client) throws {
        if client.isDeviceFlow, client.type != .native {
            throw IdentityError.invalidInput(phrase: "application.device_flow_needs_native", ["type": client.type.rawValue])
        }
    }

    /// A `jwks_uri`: an absolute https URL without a fragment or credentials, of at most 2,048 bytes; plain http only
    /// on a loopback host (development and tests).
    static func validateKeySetURI(_ uri: String) throws {
        guard uri.utf8.count <= 2048, !uri.contains(where: \.isWhitespace),
              !uri.utf8.contains(where: RequestParameters.isRefusedControl),
              let components = URLComponents(string: uri), let host = components.host, !host.isEmpty,
              components.fragment == nil, components.user == nil, components.password == nil,
              let scheme = components.scheme?.lowercased(),
              scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased()))
        else { throw IdentityError.invalidInput(phrase: "application.jwks_uri_invalid", ["uri": uri]) }
    }

    static func validateName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 256 else {
            throw IdentityError.invalidInput(phrase: "application.name_length")
        }
        return name
    }

    static func validateRedirectURIs(_ redirectURIs: [String], _ postLogoutRedirectURIs: [String],
                                     type: ApplicationType) throws
    {
        if type == .machineToMachine, !(redirectURIs.isEmpty && postLogoutRedirectURIs.isEmpty) {
            throw IdentityError.invalidInput(phrase: "application.machine_to_machine_no_redirect_uris")
        }
        for uri in redirectURIs + postLogoutRedirectURIs {
            try validateRedirectURI(uri, type: type)
        }
    }

    /// Absolute URIs without a fragment (RFC 6749 §3.1.2); plain http only for web apps and loopback,
    /// custom schemes for native apps (RFC 8252).
    public static func validateRedirectURI(_ uri: String, type: ApplicationType) throws {
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased(),
              components.fragment == nil, !uri.contains(where: { $0.isWhitespace })
        else { throw IdentityError.invalidInput(phrase: "application.redirect_uri_invalid", ["uri": uri]) }
        switch scheme {
        case "https":
            guard components.host?.isEmpty == false else {
                throw IdentityError.invalidInput(phrase: "application.redirect_uri_no_host", ["uri": uri])
            }
        case "http":
            guard components.host?.isEmpty == false else {
                throw IdentityError.invalidInput(phrase: "application.redirect_uri_no_host", ["uri": uri])
            }
        default:
            guard type == .native else {
                throw IdentityError.invalidInput(phrase: "application.redirect_uri_scheme", ["uri": uri])
            }
        }
    }
}

/// How a new application authenticates at the token endpoint (OpenID Connect Registration §2); nil members: the
/// defaults (a confidential client's secret, basic or post).
public struct ClientAuthenticationSettings: Sendable, Equatable {
    public var method: ClientAuthenticationMethod?
    /// `private_key_jwt`: a JWK Set of public keys.
    public var jwks: JSONValue?
    /// `private_key_jwt`: where the JWK Set is published.
    public var jwksURI: String?
    /// The one algorithm its assertions may use.
    public var signingAlg: String?

    public init(method: ClientAuthenticationMethod? = nil, jwks: JSONValue? = nil, jwksURI: String? = nil,
                signingAlg: String? = nil)
    {
        self.method = method
        self.jwks = jwks
        self.jwksURI = jwksURI
        self.signingAlg = signingAlg
    }

    func apply(to client: inout Client) {
        client.tokenEndpointAuthMethod = method
        client.jwks = jwks
        client.jwksURI = jwksURI
        client.tokenEndpointAuthSigningAlg = signingAlg
    }
}

/// Changes to an application's client authentication: nil leaves a value as it is, `.some(nil)` clears it.
public struct ClientAuthenticationChanges: Sendable, Equatable {
    public var method: ClientAuthenticationMethod??
    public var jwks: JSONValue??
    public var jwksURI: String??
    public var signingAlg: String??

    public init(method: ClientAuthenticationMethod?? = nil, jwks: JSONValue?? = nil, jwksURI: String?? = nil,
                signingAlg: String?? = nil)
    {
        self.method = method
        self.jwks = jwks
        self.jwksURI = jwksURI
        self.signingAlg = signingAlg
    }

    func apply(to client: inout Client) {
        if let method { client.tokenEndpointAuthMethod = method }
        if let jwks { client.jwks = jwks }
        if let jwksURI { client.jwksURI = jwksURI }
        if let signingAlg { client.tokenEndpointAuthSigningAlg = signingAlg }
    }
}
