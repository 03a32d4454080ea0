import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// `/api/users`, shaped like Logto's Management API.
struct UsersRoutes: Sendable {
    let runtime: SesameRuntime

    func register(on api: RouterGroup<SesameRequestContext>) {
        api.get("users") { request, _ in
            let (offset, limit) = try ManagementInput.page(request)
            let search = try request.queryParameters().single("search")
            let result = try await runtime.store.searchUsers(term: search, offset: offset, limit: limit)
            return Responses.json(.array(result.users.map(Self.json)),
                                  headers: [HTTPField.Name("Total-Number")!: "\(result.total)"])
        }
        api.post("users") { request, _ in
            let body = try await ManagementInput.body(request)
            let settings = try await runtime.signInExperience()
            var input = UserService.NewUser(
                username: try ManagementInput.optionalString(body, "username") ?? nil,
                email: try ManagementInput.optionalString(body, "primaryEmail") ?? nil,
                phone: try ManagementInput.optionalString(body, "primaryPhone") ?? nil,
                name: try ManagementInput.optionalString(body, "name") ?? nil,
                avatar: try ManagementInput.optionalString(body, "avatar") ?? nil,
                password: try ManagementInput.optionalString(body, "password") ?? nil)
            if let profile = body["profile"], profile != .null { input.profile = try UserProfile().merging(profile) }
            let user = try await runtime.users.create(input, policy: settings.passwordPolicy)
            return Responses.json(Self.json(user))
        }
        api.get("users/:id") { _, context in
            Responses.json(Self.json(try await user(context)))
        }
        api.patch("users/:id") { request, context in
            let body = try await ManagementInput.body(request)
            for key in body.objectValue?.keys.sorted() ?? [] where !["username", "primaryEmail", "primaryPhone", "name",
                                                                    "avatar", "profile"].contains(key) {
                throw IdentityError.invalidInput(phrase: "input.cannot_change", ["field": key])
            }
            let user = try await runtime.users.update(id: context.parameters.get("id") ?? "", .init(
                username: try ManagementInput.optionalString(body, "username"),
                email: try ManagementInput.optionalString(body, "primaryEmail"),
                phone: try ManagementInput.optionalString(body, "primaryPhone"),
                name: try ManagementInput.optionalString(body, "name"),
                avatar: try ManagementInput.optionalString(body, "avatar"), profile: body["profile"]))
            return Responses.json(Self.json(user))
        }
        // Logto's `PATCH /api/users/{id}/profile`: `{"profile": {...}}`, merged field by field; answers the profile.
        api.patch("users/:id/profile") { request, context in
            let body = try await ManagementInput.body(request)
            guard let profile = body["profile"] else {
                throw IdentityError.invalidInput(phrase: "input.required", ["field": "profile"])
            }
            let user = try await runtime.users.update(id: context.parameters.get("id") ?? "", .init(profile: profile))
            return Responses.json(user.profile.json)
        }
        api.patch("users/:id/password") { request, context in
            let body = try await ManagementInput.body(request)
            guard let password = body["password"]?.stringValue else {
                throw IdentityError.invalidInput(phrase: "input.required", ["field": "password"])
            }
            let policy = try await runtime.signInExperience().passwordPolicy
            let user = try await runtime.users.changePassword(userID: context.parameters.get("id") ?? "",
                                                              password: password, policy: policy)
            // As after the user's own recovery, every session and token has ended (`changePassword`).
            return Responses.json(Self.json(user))
        }
        api.patch("users/:id/is-suspended") { request, context in
            let body = try await ManagementInput.body(request)
            guard let suspended = body["isSuspended"]?.boolValue else {
                throw IdentityError.invalidInput(phrase: "input.must_be_boolean", ["field": "isSuspended"])
            }
            let user = try await runtime.users.setSuspended(id: context.parameters.get("id") ?? "", suspended)
            // A suspended user is signed out everywhere (`setSuspended`).
            return Responses.json(Self.json(user))
        }
        api.delete("users/:id") { _, context in
            try await runtime.users.delete(id: context.parameters.get("id") ?? "")
            return Response(status: .noContent)
        }
        registerMfa(on: api)
    }

    /// Logto's `/api/users/{userId}/mfa-verifications` (`../design/logto-reference.md` §3): list (no secret is ever
    /// returned after creation), add a TOTP or backup codes (given or generated), remove one.
    private func registerMfa(on api: RouterGroup<SesameRequestContext>) {
        api.get("users/:id/mfa-verifications") { _, context in
            let user = try await user(context)
            return Responses.json(.array(try await runtime.mfa.store.mfaVerifications(userID: user.id).map(Self.json)))
        }
        api.post("users/:id/mfa-verifications") { request, context in
            let body = try await ManagementInput.body(request)
            let user = try await user(context)
            switch body["type"]?.stringValue {
            case MfaFactor.totp.rawValue?:
                try ManagementInput.allowOnly(body, ["type", "secret"])
                let secret = try (ManagementInput.optionalString(body, "secret") ?? nil)
                    .map(MfaService.validTotpSecret) ?? MfaService.newTotpSecret()
                try await runtime.mfa.addTotp(userID: user.id, secret: secret)
                let uri = ExperienceEngine.totpURI(secret: secret, user: user, runtime: runtime)
                return Responses.json(["type": "Totp", "secret": .string(secret),
                                       "secretQrCode": .string(try ExperienceRoutes.qrDataURL(uri))])
            case MfaFactor.backupCode.rawValue?:
                try ManagementInput.allowOnly(body, ["type", "codes"])
                var codes = MfaService.newBackupCodes()
                if let given = body["codes"], given != .null {
                    guard let list = given.arrayValue?.compactMap(\.stringValue), list.count == given.arrayValue?.count
                    else { throw IdentityError(.wrongBackupCodeFormat, phrase: "mfa.wrong_backup_code_format") }
                    codes = try MfaService.validBackupCodes(list)
                }
                try await runtime.mfa.setBackupCodes(userID: user.id, codes: codes, replacing: false)
                return Responses.json(["type": "BackupCode", "codes": .array(codes.map { .string($0) })])
            default:
                // Passkeys are made by the user's authenticator, never by an administrator (as Logto).
                throw IdentityError.invalidInput(phrase: "input.one_of", ["field": "type", "values": "Totp, BackupCode"])
            }
        }
        api.delete("users/:id/mfa-verifications/:verificationId") { _, context in
            let user = try await user(context)
            // An administrator may remove the last factor (a reset); backup codes go with the last real factor.
            try await runtime.mfa.remove(userID: user.id, id: context.parameters.get("verificationId") ?? "",
                                         policy: try await runtime.signInExperience().mfa.policy, force: true)
            return Response(status: .noContent)
        }
    }

    /// A factor as Logto lists it: `{id, createdAt, type, lastUsedAt?, agent?, name?, remainCodes?}` (ISO 8601 times).
    static func json(_ verification: MfaVerification) -> JSONValue {
        let iso = ISO8601DateFormatter()
        var json: [String: JSONValue] = ["id": .string(verification.id), "type": .string(verification.factor.rawValue),
                                         "createdAt": .string(iso.string(from: verification.createdAt))]
        if let used = verification.lastUsedAt { json["lastUsedAt"] = .string(iso.string(from: used)) }
        switch verification.kind {
        case .webAuthn(let credential):
            json["agent"] = credential.agent.map { .string($0) } ?? .null
            json["name"] = credential.name.map { .string($0) } ?? .null
        case .backupCode(let codes):
            json["remainCodes"] = .int(Int64(codes.filter { $0.usedAt == nil }.count))
        case .totp:
            break
        }
        return .object(json)
    }

    private func user(_ context: SesameRequestContext) async throws -> User {
        try await runtime.users.user(id: context.parameters.get("id") ?? "")
    }

    static func json(_ user: User) -> JSONValue {
        func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        return [
            "id": .string(user.id), "username": string(user.username), "primaryEmail": string(user.primaryEmail),
            "primaryPhone": string(user.primaryPhone), "name": string(user.name), "avatar": string(user.avatar),
            "isSuspended": .bool(user.isSuspended), "hasPassword": .bool(user.passwordHash != nil),
            "createdAt": ManagementInput.epochMilliseconds(user.createdAt),
            "updatedAt": ManagementInput.epochMilliseconds(user.updatedAt),
            "lastSignInAt": user.lastSignInAt.map(ManagementInput.epochMilliseconds) ?? .null,
            "profile": user.profile.json,
        ]
    }
}
