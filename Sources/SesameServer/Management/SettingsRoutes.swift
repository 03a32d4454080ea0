import Foundation
import HTTPTypes
import Hummingbird
import SesameConnectors
import SesameIdentity
import SesameOIDC
import SesameStorage

/// `/api/sign-in-exp`, `/api/resources`, `/api/connectors` and `/api/connector-factories`.
struct SettingsRoutes: Sendable {
    let runtime: SesameRuntime

    func register(on api: RouterGroup<SesameRequestContext>) {
        api.get("sign-in-exp") { _, _ in
            Responses.json(try Self.encode(try await runtime.signInExperience()))
        }
        api.patch("sign-in-exp") { request, context in
            let patch = try await ManagementInput.body(request)
            let current = try await runtime.signInExperience()
            let settings = try SesameRuntime.merge(patch, into: current)
            try await runtime.updateSignInExperience(from: current, to: settings,
                                                     applicationID: context.managementClientID, ip: context.clientIP)
            return Responses.json(try Self.encode(settings))
        }

        api.get("logs") { request, _ in
            let (offset, limit) = try ManagementInput.page(request)
            let query = try request.queryParameters()
            func date(_ name: String) throws -> Date? {
                guard let text = try query.single(name) else { return nil }
                guard let milliseconds = Int64(text) else {
                    throw IdentityError.invalidInput(phrase: "input.must_be_milliseconds", ["field": name])
                }
                return Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
            }
            await runtime.audit.flush()
            let result = try await runtime.store.auditEvents(AuditQuery(
                userID: try query.single("userId"), applicationID: try query.single("applicationId"),
                key: try query.single("logKey"), from: try date("startTime"), to: try date("endTime"),
                offset: offset, limit: limit))
            return Responses.json(.array(result.events.map(Self.json)),
                                  headers: [HTTPField.Name("Total-Number")!: "\(result.total)"])
        }
        api.get("resources") { _, _ in
            Responses.json(.array(try await runtime.store.resources().map(Self.json)))
        }
        api.post("resources") { request, _ in
            let body = try await ManagementInput.body(request)
            guard let indicator = body["indicator"]?.stringValue else {
                throw IdentityError.invalidInput(phrase: "input.required", ["field": "indicator"])
            }
            let resource = try await runtime.resources.create(
                name: try ManagementInput.optionalString(body, "name") ?? nil, indicator: indicator,
                scopes: try ManagementInput.stringList(body["scopes"], "scopes") ?? [],
                accessTokenTTL: body["accessTokenTtl"]?.intValue.map(Int.init) ?? 3600)
            return Responses.json(Self.json(resource))
        }
        api.get("resources/:id") { _, context in
            Responses.json(Self.json(try await runtime.resources.resource(id: context.parameters.get("id") ?? "")))
        }
        api.patch("resources/:id") { request, context in
            let body = try await ManagementInput.body(request)
            var ttl: Int?
            if let value = body["accessTokenTtl"] {
                guard let seconds = value.intValue else {
                    throw IdentityError.invalidInput(phrase: "input.must_be_number", ["field": "accessTokenTtl"])
                }
                ttl = Int(seconds)
            }
            let resource = try await runtime.resources.update(
                id: context.parameters.get("id") ?? "", name: try ManagementInput.optionalString(body, "name") ?? nil,
                accessTokenTTL: ttl)
            return Responses.json(Self.json(resource))
        }
        api.delete("resources/:id") { _, context in
            try await runtime.resources.delete(id: context.parameters.get("id") ?? "")
            return Response(status: .noContent)
        }
        api.get("resources/:id/scopes") { _, context in
            let resource = try await runtime.resources.resource(id: context.parameters.get("id") ?? "")
            return Responses.json(.array(resource.scopes.map { Self.json($0, resourceID: resource.id) }))
        }
        api.post("resources/:id/scopes") { request, context in
            let body = try await ManagementInput.body(request)
            guard let name = body["name"]?.stringValue else {
                throw IdentityError.invalidInput(phrase: "input.required", ["field": "name"])
            }
            let resourceID = context.parameters.get("id") ?? ""
            let scope = try await runtime.resources.addScope(
                resourceID: resourceID, name: name,
                description: try ManagementInput.optionalString(body, "description") ?? nil)
            return Responses.json(Self.json(scope, resourceID: resourceID), status: .created)
        }
        api.delete("resources/:id/scopes/:scopeId") { _, context in
            try await runtime.resources.deleteScope(resourceID: context.parameters.get("id") ?? "",
                                                    scopeID: context.parameters.get("scopeId") ?? "")
            return Response(status: .noContent)
        }

        api.get("connector-factories") { _, _ in
            Responses.json(.array(runtime.connectors.registry.emailFactories.map { Self.json($0.metadata) }))
        }
        api.get("connectors") { _, _ in
            let stored = try await runtime.connectors.store.connectors()
            return Responses.json(.array(stored.compactMap { connector in
                runtime.connectors.registry.emailFactory(id: connector.id).map { Self.json(connector, $0.metadata) }
            }))
        }
        api.post("connectors") { request, _ in
            let body = try await ManagementInput.body(request)
            guard let id = body["connectorId"]?.stringValue, let config = body["config"], config.objectValue != nil else {
                throw IdentityError.invalidInput(phrase: "connector.id_and_config_required")
            }
            try await Self.connectorCall { try await runtime.connectors.save(id: id, config: try await unmasked(config, id: id)) }
            return Responses.json(try await connector(id))
        }
        api.patch("connectors/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            let body = try await ManagementInput.body(request)
            if let config = body["config"] {
                try await Self.connectorCall { try await runtime.connectors.save(id: id, config: try await unmasked(config, id: id)) }
            }
            if let enabled = body["enabled"] {
                guard let enabled = enabled.boolValue else {
                    throw IdentityError.invalidInput(phrase: "input.must_be_boolean", ["field": "enabled"])
                }
                try await Self.connectorCall { try await runtime.setConnectorEnabled(id: id, enabled) }
            }
            return Responses.json(try await connector(id))
        }
        api.delete("connectors/:id") { _, context in
            try await runtime.deleteConnector(id: context.parameters.get("id") ?? "")
            return Response(status: .noContent)
        }
        api.post("connectors/:id/test") { request, context in
            let id = context.parameters.get("id") ?? ""
            let body = try await ManagementInput.body(request)
            guard let email = body["email"]?.stringValue else {
                throw IdentityError.invalidInput(phrase: "input.required", ["field": "email"])
            }
            var usage = UsageType.generic
            if let raw = body["usageType"] {
                guard let value = raw.stringValue.flatMap(UsageType.init(rawValue:)) else {
                    throw IdentityError.invalidInput(phrase: "input.one_of", [
                        "field": "usageType", "values": UsageType.allCases.map(\.rawValue).joined(separator: ", "),
                    ])
                }
                usage = value
            }
            try await Self.connectorCall {
                try await runtime.connectors.test(id: id, to: email, config: body["config"], usage: usage)
            }
            return Response(status: .noContent)
        }
    }

    /// Connector failures keep their stable code; the message never includes the configuration.
    static func connectorCall(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ConnectorError {
            let status = error.code == .invalidConfig || error.code == .templateNotFound ? 422 : 502
            var body: [String: JSONValue] = ["code": .string("connector." + error.code.rawValue),
                                             "message": .string(error.message)]
            body["providerCode"] = error.providerCode.map { .string($0) }
            body["requestId"] = error.requestID.map { .string($0) }
            throw ConnectorFailure(status: status, body: .object(body))
        }
    }

    /// A connector failure as the Management API answers it, with the provider's code and request id.
    struct ConnectorFailure: RenderedError {
        let status: Int
        let body: JSONValue

        var response: Response {
            Responses.json(body, status: HTTPResponse.Status(code: status), headers: [.cacheControl: "no-store"])
        }
    }

    /// A configuration read back has its secrets masked; sending it back keeps the stored secrets, while the
    /// destination stays the stored one.
    private func unmasked(_ config: JSONValue, id: String) async throws -> JSONValue {
        guard let object = config.objectValue, let factory = runtime.connectors.registry.emailFactory(id: id) else {
            return config
        }
        let stored = try await runtime.connectors.store.connector(id: id)?.config
        return .object(factory.metadata.restoringSecrets(in: object, from: stored, isKept: { $0 == "******" }))
    }

    private func connector(_ id: String) async throws -> JSONValue {
        guard let stored = try await runtime.connectors.store.connector(id: id),
              let factory = runtime.connectors.registry.emailFactory(id: id)
        else { throw IdentityError(.notFound, phrase: "connector.not_configured", ["id": id]) }
        return Self.json(stored, factory.metadata)
    }

    static func json(_ event: AuditEvent) -> JSONValue {
        var payload = event.payload.objectValue ?? [:]
        payload["userId"] = event.userID.map { .string($0) } ?? .null
        payload["applicationId"] = event.applicationID.map { .string($0) } ?? .null
        payload["ip"] = event.ip.map { .string($0) } ?? .null
        return ["id": .string(event.id), "key": .string(event.key), "payload": .object(payload),
                "createdAt": ManagementInput.epochMilliseconds(event.createdAt)]
    }

    static func encode(_ settings: SignInExperience) throws -> JSONValue {
        try JSONValue.decode(try JSONEncoder().encode(settings))
    }

    static func json(_ resource: APIResource) -> JSONValue {
        ["id": .string(resource.id), "name": .string(resource.name), "indicator": .string(resource.indicator),
         "accessTokenTtl": .int(Int64(resource.accessTokenTTL)),
         "scopes": .array(resource.scopes.map { json($0, resourceID: resource.id) })]
    }

    static func json(_ scope: ResourceScope, resourceID: String) -> JSONValue {
        ["id": .string(scope.id), "resourceId": .string(resourceID), "name": .string(scope.name),
         "description": scope.description.map { .string($0) } ?? .null]
    }

    static func json(_ metadata: ConnectorMetadata) -> JSONValue {
        ["id": .string(metadata.id), "type": .string(metadata.kind.rawValue),
         "name": .object(metadata.name.mapValues { .string($0) }),
         "description": .object(metadata.description.mapValues { .string($0) }), "readme": .string(metadata.readme),
         "formItems": .array(metadata.fields.map { field in
             ["key": .string(field.key), "type": .string(field.type.rawValue), "label": .string(field.label),
              "required": .bool(!field.isOptional), "isSecret": .bool(field.isSecret),
              "options": .array(field.options.map { .string($0) })]
         })]
    }

    /// A connector with its secret fields masked: they can be replaced, never read back.
    static func json(_ connector: StoredConnector, _ metadata: ConnectorMetadata) -> JSONValue {
        var config = connector.config.objectValue ?? [:]
        for key in metadata.secretKeys where config[key] != nil { config[key] = "******" }
        return ["id": .string(connector.id), "connectorId": .string(connector.id), "type": .string(connector.kind),
                "enabled": .bool(connector.isEnabled), "config": .object(config),
                "name": .object(metadata.name.mapValues { .string($0) })]
    }
}
