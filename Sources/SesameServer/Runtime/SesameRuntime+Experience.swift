import Foundation
import Logging
import SesameConnectors
import SesameIdentity
import SesameOIDC
import SesameStorage
import Synchronization

extension SesameRuntime {
    /// The saved sign-in experience, or the default before the first save.
    public func signInExperience() async throws -> SignInExperience {
        try await store.signInExperience() ?? .default
    }

    /// Validates and saves the settings, refusing a change that would lock everyone out.
    public func saveSignInExperience(_ settings: SignInExperience) async throws {
        let channels = try await codeChannels()
        try settings.validate(canSendCode: { channels.contains($0) }, assetOrigin: configuration.endpoint)
        try await store.saveSignInExperience(settings, now: provider.now())
    }

    /// `current` with a partial document applied, as Logto's `PATCH /api/sign-in-exp` does: top-level objects
    /// merge one level deep (`{"branding": {"primaryColor": ...}}` keeps the other branding fields), other values
    /// replace. Throws `IdentityError.invalidInput` for an unknown setting or a result of the wrong shape.
    public static func merge(_ patch: JSONValue, into current: SignInExperience) throws -> SignInExperience {
        guard let changes = patch.objectValue else {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.settings_not_object")
        }
        var merged = try JSONValue.decode(try JSONEncoder().encode(current)).objectValue ?? [:]
        for (key, value) in changes {
            guard merged[key] != nil else {
                throw IdentityError.invalidInput(phrase: "sign_in_experience.unknown_setting", ["key": key])
            }
            if case .object(var inner)? = merged[key], case .object(let innerChanges) = value {
                for (innerKey, innerValue) in innerChanges { inner[innerKey] = innerValue }
                merged[key] = .object(inner)
            } else {
                merged[key] = value
            }
        }
        do {
            return try JSONDecoder().decode(SignInExperience.self, from: JSONValue.object(merged).encoded())
        } catch {
            throw shapeError(error)
        }
    }

    /// Where a decoded document went wrong, in one line, as an `invalidInput` error.
    public static func shapeError(_ error: any Error) -> IdentityError {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return .invalidInput(phrase: "sign_in_experience.shape_missing",
                                 ["path": (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")])
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return .invalidInput(phrase: "sign_in_experience.shape_wrong_type",
                                 ["path": context.codingPath.map(\.stringValue).joined(separator: ".")])
        case DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? .invalidInput(phrase: "sign_in_experience.shape_not_json")
                : .invalidInput(phrase: "sign_in_experience.shape_invalid_value", ["path": path])
        default:
            return .invalidInput(phrase: "sign_in_experience.shape_other", ["detail": String(describing: error)])
        }
    }

    /// An administrator's change (Management API or Console): validated and saved like any other, then
    /// audited as `Admin.SignInExperience.Update` with the settings before and after and who made it.
    public func updateSignInExperience(from before: SignInExperience, to settings: SignInExperience,
                                       applicationID: String?, ip: String, by details: [String: JSONValue] = [:])
        async throws
    {
        try await saveSignInExperience(settings)
        var payload = details
        payload["before"] = try JSONValue.decode(try JSONEncoder().encode(before))
        payload["after"] = try JSONValue.decode(try JSONEncoder().encode(settings))
        audit.record(AuditEvent(key: "Admin.SignInExperience.Update", applicationID: applicationID, ip: ip,
                                payload: .object(payload), createdAt: provider.now()))
    }

    /// Whether email codes reach people: an enabled email connector, or, on a plain-http development
    /// endpoint only, the development console.
    public func canSendEmailCodes() async throws -> Bool {
        try await connectors.enabledEmailConnector() != nil || !configuration.isSecure
    }

    /// The identifiers a verification code can be sent to now: email addresses when `canSendEmailCodes()`,
    /// phone numbers when an SMS connector of the registry is enabled.
    public func codeChannels() async throws -> Set<SignInExperience.Identifier> {
        var channels: Set<SignInExperience.Identifier> = []
        if try await canSendEmailCodes() { channels.insert(.email) }
        let smsIDs = Set(connectors.registry.smsFactories.map(\.metadata.id))
        if try await connectors.store.connectors().contains(where: { $0.isEnabled && smsIDs.contains($0.id) }) {
            channels.insert(.phone)
        }
        return channels
    }

    /// Turns a connector on or off; turning off the connector the sign-in experience needs is refused.
    public func setConnectorEnabled(id: String, _ isEnabled: Bool) async throws {
        if !isEnabled { try await checkStillReachable(withoutConnector: id) }
        try await connectors.setEnabled(id: id, isEnabled)
    }

    /// Deletes a connector's configuration, with the same lock-out check as disabling it.
    public func deleteConnector(id: String) async throws {
        guard try await connectors.store.connector(id: id) != nil else {
            throw IdentityError(.notFound, phrase: "connector.not_configured", ["id": id])
        }
        try await checkStillReachable(withoutConnector: id)
        try await connectors.store.deleteConnector(id: id)
    }

    private func checkStillReachable(withoutConnector id: String) async throws {
        guard configuration.isSecure, try await connectors.enabledEmailConnector()?.id == id else { return }
        do {
            try await signInExperience().validate(canSendCode: { _ in false })
        } catch is IdentityError {
            throw IdentityError.invalidInput(phrase: "connector.needed_by_sign_in_experience")
        }
    }

    /// Issues a code for `address` and sends it with the enabled email connector (or the development
    /// console when none is enabled). The code reaches no log but the console connector's.
    public func sendEmailCode(to address: String, usage: UsageType, ip: String, locale: String?) async throws {
        let code = try await codes.issue(to: address, usage: usage.rawValue, ip: ip)
        try await deliverEmail(to: address, usage: usage, payload: MessagePayload(code: code, locale: locale),
                               counting: metrics.codeSent)
        audit.record(AuditEvent(key: "VerificationCode.Sent", ip: ip,
                                payload: ["to": .string(address), "usageType": .string(usage.rawValue)],
                                createdAt: provider.now()))
    }

    /// Hands a message to the enabled email connector, or to the development console when none is enabled (with
    /// a warning), counts it with `counting` (connector id, `success` or `failure`) and keeps it in the development
    /// mailbox when that is on. Throws the connector's error.
    func deliverEmail(to address: String, usage: UsageType, payload: MessagePayload,
                      counting: (_ connector: String, _ result: String) -> Void) async throws
    {
        let enabled = try await connectors.enabledEmailConnector()
        let connectorID = enabled?.id ?? "dev-console"
        do {
            if let enabled {
                try await enabled.connector.sendMessage(to: address, type: usage, payload: payload)
            } else {
                logger.warning("no email connector is enabled: the message goes to the development console")
                try await DevConsoleConnector(logger: logger).sendMessage(to: address, type: usage, payload: payload)
            }
        } catch {
            counting(connectorID, "failure")
            throw error
        }
        counting(connectorID, "success")
        mailbox?.record(to: address, usage: usage.rawValue, payload: payload)
    }
}

/// The last messages sent, readable at `/dev/mailbox` when `SESAME_DEV_MAILBOX=1` (development and tests).
public final class DevMailbox: Sendable {
    private let messages = Mutex<[JSONValue]>([])

    public init() {}

    func record(to address: String, usage: String, payload: MessagePayload) {
        var message: [String: JSONValue] = ["to": .string(address), "usageType": .string(usage),
                                            "sentAt": .string(ISO8601DateFormatter().string(from: Date()))]
        if let code = payload.code { message["code"] = .string(code) }
        if let link = payload.link { message["link"] = .string(link) }
        messages.withLock { list in
            list.append(.object(message))
            if list.count > 50 { list.removeFirst(list.count - 50) }
        }
    }

    public var all: [JSONValue] { messages.withLock { $0 } }
}
