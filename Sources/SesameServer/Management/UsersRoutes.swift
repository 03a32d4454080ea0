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
            let user = try await runtime.users.create(.init(
                username: try ManagementInput.optionalString(body, "username") ?? nil,
                email: try ManagementInput.optionalString(body, "primaryEmail") ?? nil,
                phone: try ManagementInput.optionalString(body, "primaryPhone") ?? nil,
                name: try ManagementInput.optionalString(body, "name") ?? nil,
                avatar: try ManagementInput.optionalString(body, "avatar") ?? nil,
                password: try ManagementInput.optionalString(body, "password") ?? nil), policy: settings.passwordPolicy)
            return Responses.json(Self.json(user))
        }
        api.get("users/:id") { _, context in
            Responses.json(Self.json(try await user(context)))
        }
        api.patch("users/:id") { request, context in
            var user = try await user(context)
            let body = try await ManagementInput.body(request)
            for key in body.objectValue?.keys.sorted() ?? [] where !["username", "primaryEmail", "primaryPhone", "name",
                                                                    "avatar"].contains(key) {
                throw IdentityError.invalidInput("'\(key)' cannot be changed here")
            }
            if let username = try ManagementInput.optionalString(body, "username") {
                user.username = try username.map(UserService.validateUsername)
            }
            if let email = try ManagementInput.optionalString(body, "primaryEmail") {
                user.primaryEmail = try email.map(UserService.normalizeEmail)
            }
            if let phone = try ManagementInput.optionalString(body, "primaryPhone") {
                user.primaryPhone = try phone.map(UserService.normalizePhone)
            }
            if let name = try ManagementInput.optionalString(body, "name") { user.name = name }
            if let avatar = try ManagementInput.optionalString(body, "avatar") {
                if let avatar, URL(string: avatar)?.scheme == nil {
                    throw IdentityError.invalidInput("the avatar must be an absolute URL")
                }
                user.avatar = avatar
            }
            guard user.username != nil || user.primaryEmail != nil || user.primaryPhone != nil else {
                throw IdentityError.invalidInput("a user needs a username, an email address or a phone number")
            }
            user.updatedAt = runtime.provider.now()
            try await runtime.store.updateUser(user)
            return Responses.json(Self.json(user))
        }
        api.patch("users/:id/password") { request, context in
            let user = try await user(context)
            let body = try await ManagementInput.body(request)
            guard let password = body["password"]?.stringValue else {
                throw IdentityError.invalidInput("'password' is required")
            }
            let policy = try await runtime.signInExperience().passwordPolicy
            try PasswordPolicyChecker(policy: policy).check(
                password, userInfo: [user.username, user.primaryEmail, user.name].compactMap { $0 })
            try await runtime.users.setPassword(userID: user.id, password: password, cost: policy.bcryptCost)
            return Responses.json(Self.json(try await self.user(context)))
        }
        api.patch("users/:id/is-suspended") { request, context in
            var user = try await user(context)
            let body = try await ManagementInput.body(request)
            guard let suspended = body["isSuspended"]?.boolValue else {
                throw IdentityError.invalidInput("'isSuspended' must be true or false")
            }
            user.isSuspended = suspended
            user.updatedAt = runtime.provider.now()
            try await runtime.store.updateUser(user)
            if suspended {
                // A suspended user is signed out everywhere.
                try await runtime.signOutEverywhere(userID: user.id)
            }
            return Responses.json(Self.json(user))
        }
        api.delete("users/:id") { _, context in
            let user = try await user(context)
            try await runtime.store.deleteUser(id: user.id)
            return Response(status: .noContent)
        }
    }

    private func user(_ context: SesameRequestContext) async throws -> User {
        let id = context.parameters.get("id") ?? ""
        guard let user = try await runtime.store.user(id: id) else {
            throw IdentityError(.notFound, "user '\(id)' does not exist")
        }
        return user
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
        ]
    }
}
