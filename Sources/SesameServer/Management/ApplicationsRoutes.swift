import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// `/api/applications`, shaped like Logto's Management API.
struct ApplicationsRoutes: Sendable {
    let runtime: SesameRuntime

    func register(on api: RouterGroup<SesameRequestContext>) {
        api.get("applications") { request, _ in
            let (offset, limit) = try ManagementInput.page(request)
            let all = try await runtime.store.clients()
            let page = all.dropFirst(offset).prefix(limit).map { Self.json($0, defaultAlgorithm: runtime.configuration.defaultSigningAlgorithm) }
            return Responses.json(.array(Array(page)), headers: [HTTPField.Name("Total-Number")!: "\(all.count)"])
        }
        api.post("applications") { request, _ in
            let body = try await ManagementInput.body(request)
            guard let name = body["name"]?.stringValue else {
                throw IdentityError.invalidInput(phrase: "input.required", ["field": "name"])
            }
            guard let typeName = body["type"]?.stringValue, let type = ApplicationType(rawValue: typeName) else {
                throw IdentityError.invalidInput(phrase: "input.one_of", [
                    "field": "type", "values": "Traditional, SPA, Native, MachineToMachine",
                ])
            }
            let metadata = body["oidcClientMetadata"]
            let authentication = try Self.authentication(metadata)
            let created = try await runtime.applications.create(
                name: name, type: type, description: try ManagementInput.optionalString(body, "description") ?? nil,
                redirectURIs: try ManagementInput.stringList(metadata?["redirectUris"], "redirectUris") ?? [],
                postLogoutRedirectURIs: try ManagementInput.stringList(metadata?["postLogoutRedirectUris"],
                                                                       "postLogoutRedirectUris") ?? [],
                isThirdParty: body["isThirdParty"]?.boolValue ?? false,
                idTokenSignedResponseAlg: try Self.idTokenAlgorithm(metadata) ?? nil,
                authentication: ClientAuthenticationSettings(
                    method: authentication.method ?? nil, jwks: authentication.jwks ?? nil,
                    jwksURI: authentication.jwksURI ?? nil, signingAlg: authentication.signingAlg ?? nil),
                isDeviceFlow: try Self.isDeviceFlow(body) ?? false)
            return Responses.json(Self.json(created.client, secret: created.secret,
                                                    defaultAlgorithm: runtime.configuration.defaultSigningAlgorithm))
        }
        api.get("applications/:id") { _, context in
            Responses.json(Self.json(try await client(context), defaultAlgorithm: runtime.configuration.defaultSigningAlgorithm))
        }
        api.patch("applications/:id") { request, context in
            let body = try await ManagementInput.body(request)
            let metadata = body["oidcClientMetadata"]
            if let metadata, metadata.objectValue == nil {
                throw IdentityError.invalidInput(phrase: "input.must_be_object", ["field": "oidcClientMetadata"])
            }
            let updated = try await runtime.applications.update(id: context.parameters.get("id") ?? "", .init(
                name: try ManagementInput.optionalString(body, "name").map { $0 ?? "" },
                description: try ManagementInput.optionalString(body, "description"),
                redirectURIs: try ManagementInput.stringList(metadata?["redirectUris"], "redirectUris"),
                postLogoutRedirectURIs: try ManagementInput.stringList(metadata?["postLogoutRedirectUris"],
                                                                       "postLogoutRedirectUris"),
                idTokenSignedResponseAlg: try Self.idTokenAlgorithm(metadata),
                authentication: try Self.authentication(metadata), isDeviceFlow: try Self.isDeviceFlow(body)))
            return Responses.json(Self.json(updated, defaultAlgorithm: runtime.configuration.defaultSigningAlgorithm))
        }
        api.get("applications/:id/secrets") { _, context in
            let client = try await client(context)
            return Responses.json(.array(client.secrets.map { Self.json($0, applicationID: client.id) }))
        }
        api.post("applications/:id/secrets") { request, context in
            let body = try await ManagementInput.body(request)
            guard let name = body["name"]?.stringValue else {
                throw IdentityError.invalidInput(phrase: "input.required", ["field": "name"])
            }
            var expiresAt: Date?
            switch body["expiresAt"] {
            case nil, .null?: break
            case .int(let milliseconds)?: expiresAt = Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
            default:
                throw IdentityError.invalidInput(phrase: "input.must_be_milliseconds_or_null", ["field": "expiresAt"])
            }
            let id = context.parameters.get("id") ?? ""
            let added = try await runtime.applications.addSecret(applicationID: id, name: name, expiresAt: expiresAt)
            return Responses.json(Self.json(added.secret, applicationID: id, value: added.value), status: .created)
        }
        api.delete("applications/:id/secrets/:name") { _, context in
            // Path parameters arrive percent-encoded; a name may hold any character.
            try await runtime.applications.deleteSecret(applicationID: context.parameters.get("id") ?? "",
                                                        name: context.parameters.get("name")?.removingPercentEncoding ?? "")
            return Response(status: .noContent)
        }
        api.delete("applications/:id/legacy-secret") { _, context in
            try await runtime.applications.deleteLegacySecret(applicationID: context.parameters.get("id") ?? "")
            return Response(status: .noContent)
        }
        api.delete("applications/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            // A script must not saw off the branch it sits on: its own app is deleted from the Console.
            if id == context.managementClientID {
                throw IdentityError.invalidInput(phrase: "application.cannot_delete_itself")
            }
            try await runtime.applications.delete(id: id)
            return Response(status: .noContent)
        }
    }

    private func client(_ context: SesameRequestContext) async throws -> Client {
        try await runtime.applications.application(id: context.parameters.get("id") ?? "")
    }

    /// Logto's secret shape, without the value (Sesame keeps only a digest), which only the creation returns.
    static func json(_ secret: ClientSecret, applicationID: String, value: String? = nil) -> JSONValue {
        var object: [String: JSONValue] = [
            "applicationId": .string(applicationID), "name": .string(secret.name),
            "createdAt": ManagementInput.epochMilliseconds(secret.createdAt),
            "expiresAt": secret.expiresAt.map(ManagementInput.epochMilliseconds) ?? .null,
        ]
        if let value { object["value"] = .string(value) }
        return .object(object)
    }

    /// Logto's `customClientMetadata.isDeviceFlow`: absent → nil (unchanged). Throws `IdentityError.invalidInput` when
    /// `customClientMetadata` is not an object or the member is not a boolean.
    static func isDeviceFlow(_ body: JSONValue) throws -> Bool? {
        guard let custom = body["customClientMetadata"] else { return nil }
        guard custom.objectValue != nil else {
            throw IdentityError.invalidInput(phrase: "input.must_be_object", ["field": "customClientMetadata"])
        }
        return try ManagementInput.optionalBool(custom, "isDeviceFlow")
    }

    /// `oidcClientMetadata.idTokenSignedResponseAlg`: absent → nil (unchanged), null → the default (ES384), else one
    /// of the algorithms Sesame signs with. Throws `IdentityError.invalidInput` for another value.
    static func idTokenAlgorithm(_ metadata: JSONValue?) throws -> SigningAlgorithm?? {
        guard let value = metadata?["idTokenSignedResponseAlg"] else { return nil }
        if value == .null { return .some(nil) }
        guard let name = value.stringValue, let algorithm = SigningAlgorithm(rawValue: name) else {
            throw IdentityError.invalidInput(phrase: "input.one_of", [
                "field": "idTokenSignedResponseAlg",
                "values": SigningAlgorithm.allCases.map(\.rawValue).joined(separator: ", "),
            ])
        }
        return .some(algorithm)
    }

    /// The client authentication members of `oidcClientMetadata` (`tokenEndpointAuthMethod`, `jwks`, `jwksUri`,
    /// `tokenEndpointAuthSigningAlg`): absent → unchanged, null → cleared. Throws `IdentityError.invalidInput` for a
    /// value of the wrong type or an unknown method; `ApplicationService` checks the rest.
    static func authentication(_ metadata: JSONValue?) throws -> ClientAuthenticationChanges {
        guard let metadata else { return .init() }
        var changes = ClientAuthenticationChanges()
        if let value = try ManagementInput.optionalString(metadata, "tokenEndpointAuthMethod") {
            changes.method = .some(try value.map {
                guard let method = ClientAuthenticationMethod(rawValue: $0) else {
                    throw IdentityError.invalidInput(phrase: "input.one_of", [
                        "field": "tokenEndpointAuthMethod",
                        "values": ClientAuthenticationMethod.allCases.map(\.rawValue).joined(separator: ", "),
                    ])
                }
                return method
            })
        }
        switch metadata["jwks"] {
        case nil: break
        case .null?: changes.jwks = .some(nil)
        case .object(let members)?: changes.jwks = .some(.object(members))
        default: throw IdentityError.invalidInput(phrase: "input.must_be_object", ["field": "jwks"])
        }
        if let value = try ManagementInput.optionalString(metadata, "jwksUri") { changes.jwksURI = .some(value) }
        if let value = try ManagementInput.optionalString(metadata, "tokenEndpointAuthSigningAlg") {
            changes.signingAlg = .some(value)
        }
        return changes
    }

    /// `defaultAlgorithm`: the server's (`SESAME_SIGNING_ALG`), shown for an application that chose none.
    static func json(_ client: Client, secret: String? = nil, defaultAlgorithm: SigningAlgorithm = .es384) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(client.id), "name": .string(client.name), "type": .string(client.type.rawValue),
            "description": client.description.map { .string($0) } ?? .null,
            "oidcClientMetadata": [
                "redirectUris": .array(client.redirectURIs.map { .string($0) }),
                "postLogoutRedirectUris": .array(client.postLogoutRedirectURIs.map { .string($0) }),
                "idTokenSignedResponseAlg": .string((client.idTokenSignedResponseAlg ?? defaultAlgorithm).rawValue),
                // null: the type's default (client_secret_basic or client_secret_post; none for public clients).
                "tokenEndpointAuthMethod": client.tokenEndpointAuthMethod.map { .string($0.rawValue) } ?? .null,
                "jwks": client.jwks ?? .null,
                "jwksUri": client.jwksURI.map { .string($0) } ?? .null,
                "tokenEndpointAuthSigningAlg": client.tokenEndpointAuthSigningAlg.map { .string($0) } ?? .null,
            ],
            "customClientMetadata": ["isDeviceFlow": .bool(client.isDeviceFlow)],
            "isThirdParty": .bool(client.isThirdParty),
            "hasLegacySecret": .bool(client.secretHash != nil),
            "createdAt": ManagementInput.epochMilliseconds(client.createdAt),
        ]
        if let secret { object["secret"] = .string(secret) }
        return .object(object)
    }
}
