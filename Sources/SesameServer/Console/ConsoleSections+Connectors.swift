import Foundation
import HTTPTypes
import Hummingbird
import SesameConnectors
import SesameIdentity
import SesameOIDC
import SesameStorage

/// Email connectors: each one's README, a form built from its configuration schema (templates as JSON),
/// a test send with the unsaved form, save, enable and disable.
extension ConsoleSections {
    func registerConnectors(on console: RouterGroup<SesameRequestContext>) {
        console.get("connectors") { request, context in
            let visit = visit(request, context)
            let stored = try await runtime.connectors.store.connectors()
            let connectors = runtime.connectors.registry.emailFactories.map { factory in
                let saved = stored.first { $0.id == factory.metadata.id }
                return ["id": factory.metadata.id, "name": localized(factory.metadata.name, visit),
                        "description": localized(factory.metadata.description, visit),
                        "isConfigured": saved != nil, "isEnabled": saved?.isEnabled ?? false] as [String: Any]
            }
            return visit.page("connectors", title: visit.t("connectors"), section: .connectors, model: [
                "connectors": connectors, "hasEnabled": stored.contains { $0.isEnabled },
            ], notice: visit.notice(request))
        }
        console.get("connectors/:id") { request, context in
            let visit = visit(request, context)
            let factory = try factory(context.parameters.get("id"))
            let saved = try await runtime.connectors.store.connector(id: factory.metadata.id)
            let language = try await runtime.signInExperience().languages.first ?? "en"
            return try await connectorPage(visit, factory, values: saved?.config ?? Self.starterConfig(factory, language: language),
                                           notice: visit.notice(request))
        }
        console.post("connectors/:id") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let factory = try factory(context.parameters.get("id"))
            let config: JSONValue
            // "Save and enable" saves, then turns the connector on (turning off another email connector).
            let enabling = try form.single("enable") == "1"
            do {
                config = try await configuration(from: form, factory)
                try await runtime.connectors.save(id: factory.metadata.id, config: config)
                if enabling { try await runtime.setConnectorEnabled(id: factory.metadata.id, true) }
            } catch let error as ConnectorError {
                return try await connectorPage(visit, factory, values: try formValues(form, factory),
                                               testAddress: try form.text("testAddress"), failure: error,
                                               echoesTypedSecrets: true)
            }
            return visit.redirect("/console/connectors/\(factory.metadata.id)", notice: enabling ? "savedEnabled" : "saved")
        }
        console.post("connectors/:id/test") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let factory = try factory(context.parameters.get("id"))
            let address = try form.text("testAddress") ?? ""
            let values = try formValues(form, factory)
            guard (try? UserService.normalizeEmail(address)) != nil else {
                return try await connectorPage(visit, factory, values: values, testAddress: address,
                                               addressError: visit.t("testAddressInvalid"), echoesTypedSecrets: true,
                                               status: .badRequest)
            }
            do {
                let config = try await configuration(from: form, factory)
                try await runtime.connectors.test(id: factory.metadata.id, to: address, config: config)
            } catch let error as ConnectorError {
                return try await connectorPage(visit, factory, values: values, testAddress: address, failure: error,
                                               echoesTypedSecrets: true,
                                               status: error.code == .invalidConfig ? .badRequest : .badGateway)
            }
            runtime.audit.record(AuditEvent(key: "Connector.Test", ip: context.clientIP,
                                            payload: ["connectorId": .string(factory.metadata.id), "to": .string(address)],
                                            createdAt: runtime.provider.now()))
            return try await connectorPage(visit, factory, values: values, testAddress: address,
                                           echoesTypedSecrets: true, notice: visit.text("testSentTo", ["address": address]))
        }
        for action in ["enable", "disable"] {
            console.post("connectors/:id/\(action)") { request, context in
                let visit = visit(request, context)
                _ = try await request.consoleForm(visit)
                let factory = try factory(context.parameters.get("id"))
                do {
                    try await runtime.setConnectorEnabled(id: factory.metadata.id, action == "enable")
                } catch let error as ConnectorError {
                    let saved = try await runtime.connectors.store.connector(id: factory.metadata.id)
                    return try await connectorPage(visit, factory, values: saved?.config ?? [:], failure: error)
                } catch let error as IdentityError {
                    let saved = try await runtime.connectors.store.connector(id: factory.metadata.id)
                    return try await connectorPage(visit, factory, values: saved?.config ?? [:],
                                                   error: visit.text.message(error))
                }
                return visit.redirect("/console/connectors/\(factory.metadata.id)", notice: action + "d")
            }
        }
        console.post("connectors/:id/delete") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            let factory = try factory(context.parameters.get("id"))
            do {
                try await runtime.deleteConnector(id: factory.metadata.id)
            } catch let error as IdentityError where error.code != .notFound {
                let saved = try await runtime.connectors.store.connector(id: factory.metadata.id)
                return try await connectorPage(visit, factory, values: saved?.config ?? [:],
                                               error: visit.text.message(error))
            }
            return visit.redirect("/console/connectors", notice: "deleted")
        }
    }

    private func factory(_ id: String?) throws -> any EmailConnectorFactory {
        guard let factory = runtime.connectors.registry.emailFactory(id: id ?? "") else {
            let known = runtime.connectors.registry.emailFactories.map(\.metadata.id).joined(separator: ", ")
            throw IdentityError(.notFound, phrase: "connector.unknown", ["id": id ?? "", "known": known])
        }
        return factory
    }

    private func localized(_ texts: [String: String], _ visit: ConsoleVisit) -> String {
        texts[visit.text.language] ?? texts["en"] ?? ""
    }

    /// What a new configuration starts from: a template for each usage type, in `language` (the sign-in
    /// experience's default, the language most people who get the messages read), from
    /// `emails/verification-code.html` (`emails/organization-invitation.html` for invitations) and the phrases
    /// `emails.subject.<usage>`, `emails.body.<usage>` and the footer (`emails.button.<usage>` for invitations).
    static func starterConfig(_ factory: any EmailConnectorFactory, language: String) -> JSONValue {
        guard factory.metadata.fields.contains(where: { $0.type == .templates }) else { return [:] }
        let book = PhraseBook(locale: PhraseBook.pageLocales.contains(language) ? language : "en")
        return ["templates": .array(UsageType.allCases.map { usage in
            let invitation = usage == .organizationInvitation
            let file = invitation ? "emails/organization-invitation.html" : "emails/verification-code.html"
            var content = (ServerResources.text(file) ?? usage.requiredPlaceholder)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            for (slot, key) in [("%{body}", "body." + usage.rawValue), ("%{button}", "button." + usage.rawValue),
                                ("%{footer}", invitation ? "footer." + usage.rawValue : "footer")]
            {
                content = content.replacingOccurrences(of: slot, with: Markdown.escape(book("emails", key)))
            }
            return ["usageType": .string(usage.rawValue), "subject": .string(book("emails", "subject." + usage.rawValue)),
                    "content": .string(content)]
        })]
    }

    /// The submitted form as a configuration: typed fields, templates parsed from JSON, and a blank secret
    /// field keeping the stored secret.
    private func configuration(from form: RequestParameters, _ factory: any EmailConnectorFactory) async throws
        -> JSONValue
    {
        let stored = try await runtime.connectors.store.connector(id: factory.metadata.id)?.config
        var config: [String: JSONValue] = [:]
        for field in factory.metadata.fields {
            let raw = try form.single("config." + field.key) ?? ""
            let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            switch field.type {
            case _ where field.isSecret:
                if !raw.isEmpty { config[field.key] = .string(raw) }
            case .templates:
                guard let data = trimmed.data(using: .utf8), let templates = try? JSONValue.decode(data),
                      templates.arrayValue != nil
                else { throw ConnectorError.invalidConfig("'\(field.key)' must be a JSON array of templates") }
                config[field.key] = templates
            case .number:
                guard !trimmed.isEmpty else { continue }
                guard let number = Int64(trimmed) else {
                    throw ConnectorError.invalidConfig("'\(field.key)' must be a whole number")
                }
                config[field.key] = .int(number)
            case .boolean:
                config[field.key] = .bool(form.isChecked("config." + field.key))
            case .string, .text:
                if !trimmed.isEmpty { config[field.key] = .string(field.type == .text ? raw : trimmed) }
            }
        }
        // A blank secret field keeps the saved secret, as long as the destination stays the saved one.
        return .object(factory.metadata.restoringSecrets(in: config, from: stored, isKept: { $0 == nil }))
    }

    /// The form as typed, to show again after a failed save or a test, so nothing typed is lost: a secret the
    /// administrator just typed comes back to the same administrator (the page is `no-store`); a saved secret
    /// is never sent to the browser.
    private func formValues(_ form: RequestParameters, _ factory: any EmailConnectorFactory) throws -> JSONValue {
        var values: [String: JSONValue] = [:]
        for field in factory.metadata.fields {
            if let raw = try form.single("config." + field.key) { values[field.key] = .string(raw) }
        }
        return .object(values)
    }

    /// `failure`: a connector's own error, shown as a plain hint in the Console's language
    /// (`connectorHint.<connector>.<code>`, else `connectorHint.<code>`) followed by the provider's words.
    private func connectorPage(_ visit: ConsoleVisit, _ factory: any EmailConnectorFactory, values: JSONValue,
                               testAddress: String? = nil, error: String? = nil, failure: ConnectorError? = nil,
                               addressError: String? = nil, echoesTypedSecrets: Bool = false, notice: String? = nil,
                               status: HTTPResponse.Status? = nil) async throws -> Response
    {
        var error = error
        var errorDetail: String?
        if let failure {
            let hints = ["connectorHint.\(factory.metadata.id).\(failure.code.rawValue)",
                         "connectorHint.\(failure.code.rawValue)", "connectorHint.other"]
            error = visit.t(hints.first(where: visit.text.has) ?? "connectorHint.other")
            errorDetail = failure.message
        }
        let metadata = factory.metadata
        let saved = try await runtime.connectors.store.connector(id: metadata.id)
        let fields = metadata.fields.map { field -> [String: Any] in
            var value = ""
            switch values[field.key] {
            case .string(let text)?: value = text
            case .int(let number)?: value = String(number)
            case let other? where field.type == .templates: value = Self.prettyJSON(other)
            default: break
            }
            // Only what the administrator typed in this form comes back; a stored secret never does.
            if field.isSecret && !echoesTypedSecrets { value = "" }
            var item: [String: Any] = [
                "key": field.key, "label": field.label, "isOptional": field.isOptional, "value": value,
                "isSecret": field.isSecret, "hasValue": saved?.config[field.key] != nil,
                "isTemplates": field.type == .templates, "isNumber": field.type == .number,
                "isMultiline": field.type == .text && !field.isSecret,
                "isSelect": !field.options.isEmpty && !field.isSecret,
                "isText": field.type == .string && field.options.isEmpty && !field.isSecret,
            ]
            item["options"] = field.options.map { option in
                ["value": option, "label": option, "isSelected": option == (value.isEmpty ? field.options[0] : value)]
            }
            return item
        }
        var model: [String: Any] = [
            "id": metadata.id, "name": localized(metadata.name, visit),
            "description": localized(metadata.description, visit), "readme": Markdown.html(metadata.readme),
            "fields": fields, "isConfigured": saved != nil, "isEnabled": saved?.isEnabled ?? false,
            "testAddress": testAddress ?? "",
        ]
        model["error"] = error
        model["errorDetail"] = errorDetail
        model["addressError"] = addressError
        return visit.page("connector", title: localized(metadata.name, visit), section: .connectors, model: model,
                          notice: notice, status: status ?? (error == nil && addressError == nil ? .ok : .badRequest))
    }

    /// Templates as indented JSON for the editor, keys in a stable order.
    static func prettyJSON(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return value.encodedString() }
        return String(decoding: data, as: UTF8.self)
    }
}
