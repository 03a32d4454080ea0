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
            let body = try await ManagementInput.body(request)
            for key in body.objectValue?.keys.sorted() ?? [] where !["username", "primaryEmail", "primaryPhone", "name",
                                                                    "avatar"].contains(key) {
                throw IdentityError.invalidInput(phrase: "input.cannot_change", ["field": key])
            }
            let user = try await runtime.users.update(id: context.parameters.get("id") ?? "", .init(
                username: try ManagementInput.optionalString(body, "username"),
                email: try ManagementInput.optionalString(body, "primaryEmail"),
                phone: try ManagementInput.optionalString(body, "primaryPhone"),
                name: try ManagementInput.optionalString(body, "name"),
                avatar: try ManagementInput.optionalString(body, "avatar")))
            return Responses.json(Self.json(user))
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
        ]
    }
}
