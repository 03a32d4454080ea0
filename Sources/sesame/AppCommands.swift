import ArgumentParser
import Foundation
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage

struct App: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app", abstract: "Manage applications (OIDC clients).",
        subcommands: [Create.self, Update.self, List.self])

    /// `--id-token-alg`: an algorithm name, or `default` (ES384) for `update`.
    static func idTokenAlgorithm(_ name: String, allowingDefault: Bool) throws -> SigningAlgorithm? {
        if allowingDefault, name == "default" { return nil }
        guard let algorithm = SigningAlgorithm(rawValue: name) else {
            throw fail("--id-token-alg must be one of ES384, ES256, RS256, EdDSA\(allowingDefault ? " or default" : "")")
        }
        return algorithm
    }

    /// `--auth-method`: a `token_endpoint_auth_method`, or `default` (the type's own) for `update`.
    static func authenticationMethod(_ name: String, allowingDefault: Bool) throws -> ClientAuthenticationMethod? {
        if allowingDefault, name == "default" { return nil }
        guard let method = ClientAuthenticationMethod(rawValue: name) else {
            throw fail("--auth-method must be one of "
                + ClientAuthenticationMethod.allCases.map(\.rawValue).joined(separator: ", ")
                + (allowingDefault ? " or default" : ""))
        }
        return method
    }

    /// Reads `--jwks-file`: a JWK Set of public keys, as JSON (at most 1 MiB).
    static func keySet(file path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read \(path)") }
        guard data.count <= 1 << 20, let jwks = try? JSONValue.decode(data), jwks.objectValue != nil else {
            throw fail("\(path) is not a JWK Set (a JSON object with a \"keys\" array)")
        }
        return jwks
    }

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case traditional, spa, native, m2m

        var type: ApplicationType {
            switch self {
            case .traditional: .traditional
            case .spa: .spa
            case .native: .native
            case .m2m: .machineToMachine
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an application; prints its ID and, for confidential types, the secret once.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Display name.") var name: String
        @Option(help: "traditional, spa, native or m2m.") var type: Kind
        @Option(name: .customLong("redirect-uri"), help: "Allowed redirect URI (repeat for several).")
        var redirectURIs: [String] = []
        @Option(name: .customLong("post-logout-redirect-uri"), help: "Allowed post sign-out URI (repeatable).")
        var postLogoutRedirectURIs: [String] = []
        @Flag(help: "A third-party app: users see a consent page.") var thirdParty = false
        @Flag(help: "Give this m2m app the built-in role \"Management API access\" (resource https://default.logto.app/api, scope all).")
        var management = false
        @Option(help: "The algorithm of its ID tokens: ES384 (default), ES256, RS256 or EdDSA.") var idTokenAlg: String?
        @Option(help: "How it authenticates at the token endpoint: client_secret_basic, client_secret_post, client_secret_jwt or private_key_jwt (default: its secret, basic or post).")
        var authMethod: String?
        @Option(help: "private_key_jwt: a file holding its public keys as a JWK Set (JSON).") var jwksFile: String?
        @Option(help: "private_key_jwt: the https URL where it publishes its JWK Set.") var jwksUri: String?
        @Option(help: "The one algorithm its client assertions may use (RS256, ES256, ES384, EdDSA, HS256, HS384, HS512).")
        var authSigningAlg: String?
        @Flag(help: "A native app on a TV, console or command line that signs in with the device flow (RFC 8628).")
        var deviceFlow = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let algorithm = try idTokenAlg.flatMap { try App.idTokenAlgorithm($0, allowingDefault: false) }
            let authentication = ClientAuthenticationSettings(
                method: try authMethod.flatMap { try App.authenticationMethod($0, allowingDefault: false) },
                jwks: try jwksFile.map(App.keySet(file:)), jwksURI: jwksUri, signingAlg: authSigningAlg)
            try await withRuntime(options) { runtime in
                let created = try await runtime.applications.create(
                    name: name, type: type.type, redirectURIs: redirectURIs,
                    postLogoutRedirectURIs: postLogoutRedirectURIs, isThirdParty: thirdParty, canManage: management,
                    idTokenSignedResponseAlg: algorithm, authentication: authentication, isDeviceFlow: deviceFlow)
                if json {
                    var object: [String: JSONValue] = ["id": .string(created.client.id)]
                    object["secret"] = created.secret.map { .string($0) } ?? .null
                    Console.json(.object(object))
                } else {
                    print("Created \(created.client.type.rawValue) application \"\(created.client.name)\"")
                    print("App ID:     \(created.client.id)")
                    if let secret = created.secret {
                        print("App secret: \(secret)")
                        print(created.client.tokenEndpointAuthMethod == .clientSecretJWT
                            ? "Store the secret now: Sesame keeps it sealed for client_secret_jwt and cannot show it again."
                            : "Store the secret now: Sesame keeps only its digest and cannot show it again.")
                    }
                    print("Issuer:     \(runtime.configuration.issuer)")
                    if created.client.isDeviceFlow {
                        print("Device authorization endpoint: \(runtime.configuration.issuer)/device/auth")
                    }
                }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an application: its name, redirect URIs, ID token algorithm, client authentication or device flow.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The App ID.") var id: String
        @Option(help: "Display name.") var name: String?
        @Option(name: .customLong("redirect-uri"), help: "Allowed redirect URI, replacing the list (repeat for several).")
        var redirectURIs: [String] = []
        @Option(name: .customLong("post-logout-redirect-uri"), help: "Allowed post sign-out URI, replacing the list.")
        var postLogoutRedirectURIs: [String] = []
        @Option(help: "The algorithm of its ID tokens: ES384, ES256, RS256, EdDSA, or default (ES384).")
        var idTokenAlg: String?
        @Option(help: "How it authenticates: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, or default (its secret, basic or post).")
        var authMethod: String?
        @Option(help: "private_key_jwt: a file holding its public keys as a JWK Set (JSON); replaces --jwks-uri.")
        var jwksFile: String?
        @Option(help: "private_key_jwt: the https URL of its JWK Set; replaces an inline JWK Set.") var jwksUri: String?
        @Option(help: "The one algorithm its client assertions may use, or default (any the method allows).")
        var authSigningAlg: String?
        @Flag(help: "Replace its original secret with a new one, printed once (after switching to client_secret_jwt, this makes the secret it MACs with).")
        var newSecret = false
        @Flag(inversion: .prefixedNo, help: "Whether a native app signs in with the device flow (RFC 8628).")
        var deviceFlow: Bool?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let algorithm: SigningAlgorithm?? = try idTokenAlg.map { try App.idTokenAlgorithm($0, allowingDefault: true) }
            var authentication = ClientAuthenticationChanges()
            if let authMethod {
                authentication.method = .some(try App.authenticationMethod(authMethod, allowingDefault: true))
            }
            if let jwksFile {
                authentication.jwks = .some(try App.keySet(file: jwksFile))
                authentication.jwksURI = .some(nil)
            }
            if let jwksUri {
                authentication.jwksURI = .some(jwksUri)
                authentication.jwks = .some(nil)
            }
            if let authSigningAlg { authentication.signingAlg = .some(authSigningAlg == "default" ? nil : authSigningAlg) }
            guard name != nil || !redirectURIs.isEmpty || !postLogoutRedirectURIs.isEmpty || algorithm != nil
                || authentication != ClientAuthenticationChanges() || newSecret || deviceFlow != nil
            else {
                throw fail("nothing to change: give --name, --redirect-uri, --post-logout-redirect-uri, --id-token-alg, "
                    + "--auth-method, --jwks-file, --jwks-uri, --auth-signing-alg, --new-secret or --[no-]device-flow")
            }
            try await withRuntime(options) { runtime in
                var client = try await runtime.applications.update(id: id, .init(
                    name: name, redirectURIs: redirectURIs.isEmpty ? nil : redirectURIs,
                    postLogoutRedirectURIs: postLogoutRedirectURIs.isEmpty ? nil : postLogoutRedirectURIs,
                    idTokenSignedResponseAlg: algorithm, authentication: authentication, isDeviceFlow: deviceFlow))
                var secret: String?
                if newSecret {
                    let rotated = try await runtime.applications.rotateSecret(id: id)
                    client = rotated.client
                    secret = rotated.secret
                }
                let alg = (client.idTokenSignedResponseAlg ?? runtime.configuration.defaultSigningAlgorithm).rawValue
                let method = client.effectiveAuthenticationMethod.rawValue
                var object: [String: JSONValue] = [
                    "id": .string(client.id), "name": .string(client.name), "idTokenSignedResponseAlg": .string(alg),
                    "tokenEndpointAuthMethod": client.tokenEndpointAuthMethod.map { .string($0.rawValue) } ?? .null,
                    "isDeviceFlow": .bool(client.isDeviceFlow),
                ]
                var message = "Updated application \"\(client.name)\" (\(client.id)); ID tokens signed \(alg); "
                    + "authenticates with \(method)"
                if let secret {
                    object["secret"] = .string(secret)
                    message += "\nApp secret: \(secret)\nStore the secret now: it cannot be shown again."
                } else if client.tokenEndpointAuthMethod == .clientSecretJWT,
                          try await runtime.store.recoverableSecrets(clientID: client.id).isEmpty
                {
                    message += "\nNo secret is kept for client_secret_jwt yet: run again with --new-secret."
                }
                report(json, .object(object), message)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List applications.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                let clients = try await runtime.store.clients()
                if json {
                    Console.json(.array(clients.map { client in
                        ["id": .string(client.id), "name": .string(client.name), "type": .string(client.type.rawValue),
                         "redirectUris": .array(client.redirectURIs.map { .string($0) }),
                         "postLogoutRedirectUris": .array(client.postLogoutRedirectURIs.map { .string($0) }),
                         "idTokenSignedResponseAlg": .string((client.idTokenSignedResponseAlg
                                                                  ?? runtime.configuration.defaultSigningAlgorithm).rawValue),
                         "tokenEndpointAuthMethod": .string(client.effectiveAuthenticationMethod.rawValue),
                         "isDeviceFlow": .bool(client.isDeviceFlow)]
                    }))
                } else if clients.isEmpty {
                    print("no applications")
                } else {
                    for client in clients {
                        print("\(client.id)  \(client.type.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) "
                            + "\((client.idTokenSignedResponseAlg ?? runtime.configuration.defaultSigningAlgorithm).rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) "
                            + client.name)
                    }
                }
            }
        }
    }
}

struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Username.") var username: String?
        @Option(help: "Primary email address.") var email: String?
        @Option(help: "Primary phone number with country code.") var phone: String?
        @Option(help: "Password (at least 8 characters).") var password: String?
        @Option(help: "Display name.") var name: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard username != nil || email != nil || phone != nil else {
                throw fail("give --email, --username or --phone")
            }
        }

        func run() async throws {
            try await withRuntime(options) { runtime in
                let user = try await runtime.users.create(.init(
                    username: username, email: email, phone: phone, name: name, password: password))
                if json {
                    Console.json(["id": .string(user.id)])
                } else {
                    print("Created user \(user.id) (\(user.username ?? user.primaryEmail ?? user.primaryPhone ?? ""))")
                }
            }
        }
    }
}

struct Resource: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resource", abstract: "Manage API resources.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an API resource and its scopes.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Resource indicator, an absolute URI (RFC 8707).") var indicator: String
        @Option(help: "Display name (defaults to the indicator).") var name: String?
        @Option(name: .customLong("scope"), help: "Permission scope (repeatable).") var scopes: [String] = []
        @Option(help: "Access token lifetime in seconds.") var accessTokenTtl = 3600
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                let resource = try await runtime.resources.create(
                    name: name, indicator: indicator, scopes: scopes, accessTokenTTL: accessTokenTtl)
                if json {
                    Console.json(["id": .string(resource.id), "indicator": .string(resource.indicator),
                                  "scopes": .array(resource.scopes.map { .string($0.name) })])
                } else {
                    print("Created API resource \(resource.indicator) (\(resource.id)) with scopes: "
                        + (resource.scopes.isEmpty ? "none" : resource.scopes.map(\.name).joined(separator: ", ")))
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API resources.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                let resources = try await runtime.store.resources()
                if json {
                    Console.json(.array(resources.map { resource in
                        ["id": .string(resource.id), "indicator": .string(resource.indicator),
                         "scopes": .array(resource.scopes.map { .string($0.name) })]
                    }))
                } else if resources.isEmpty {
                    print("no API resources")
                } else {
                    for resource in resources {
                        print("\(resource.indicator)  scopes: \(resource.scopes.map(\.name).joined(separator: " "))")
                    }
                }
            }
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage signing keys.", subcommands: [Rotate.self, List.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new signing key for one algorithm: published at once, signing after 70 seconds (when "
                + "every cached JWKS has it); that algorithm's old keys stay published until their tokens expire, and "
                + "other algorithms' keys are left alone.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "ES384 (default), ES256, RS256 or EdDSA.") var alg: String = "ES384"
        @Flag(help: "Sign with the new key at once: only before any relying party cached the JWKS (at setup).")
        var immediately = false
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard SigningAlgorithm(rawValue: alg) != nil else {
                throw fail("--alg must be one of ES384, ES256, RS256, EdDSA")
            }
        }

        func run() async throws {
            try await withRuntime(options) { runtime in
                let key = try await runtime.rotateKeys(algorithm: SigningAlgorithm(rawValue: alg) ?? .es384,
                                                       immediately: immediately)
                let signsFrom = ISO8601DateFormatter().string(from: await runtime.provider.keys.activation(of: key))
                if json {
                    Console.json(["kid": .string(key.kid), "alg": .string(key.algorithm.rawValue),
                                  "signsFrom": .string(signsFrom)])
                } else {
                    print("New signing key \(key.kid) (\(key.algorithm.rawValue)): published now, signing from \(signsFrom)")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List signing keys, newest first, with the one each algorithm signs with marked current.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                let snapshot = try await runtime.provider.keys.snapshot()
                let currentKeys = Set(snapshot.currentByAlgorithm.values.map(\.kid))
                let keys = try await runtime.store.signingKeys()
                let formatter = ISO8601DateFormatter()
                if json {
                    Console.json(.array(keys.map { key in
                        var object: [String: JSONValue] = [
                            "kid": .string(key.kid), "alg": .string(key.algorithm.rawValue),
                            "createdAt": .string(formatter.string(from: key.createdAt)),
                            "current": .bool(currentKeys.contains(key.kid)),
                            "default": .bool(key.kid == snapshot.current.kid),
                        ]
                        object["retiredAt"] = key.retiredAt.map { .string(formatter.string(from: $0)) } ?? .null
                        return .object(object)
                    }))
                } else {
                    for key in keys {
                        let status = key.kid == snapshot.current.kid ? "current (default)"
                            : currentKeys.contains(key.kid) ? "current"
                            : key.retiredAt.map { "retired \(formatter.string(from: $0))" } ?? "next"
                        print("\(key.kid)  \(key.algorithm.rawValue)  created \(formatter.string(from: key.createdAt))  \(status)")
                    }
                }
            }
        }
    }
}
