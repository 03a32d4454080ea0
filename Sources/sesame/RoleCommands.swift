import ArgumentParser
import Foundation
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage

/// `sesame role ...`: roles and who holds them, the same rules as `/api/roles`.
struct RoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role", abstract: "Manage roles (permissions of API resources for users and m2m apps).",
        subcommands: [Create.self, List.self, Assign.self, Unassign.self])

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case user, m2m

        var type: RoleType { self == .user ? .user : .machineToMachine }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a role holding permissions.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Unique name, 1 to 128 characters.") var name: String
        @Option(help: "Description (defaults to the name).") var description: String?
        @Option(help: "user (default) or m2m.") var type: Kind = .user
        @Flag(name: .customLong("default"), help: "Give the role to every new user (user roles only).")
        var isDefault = false
        @Option(name: .customLong("permission"),
                help: "RESOURCE:SCOPE, the resource by indicator or name, e.g. https://api.example.com:read:books (repeatable).")
        var permissions: [String] = []
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                let resources = try await runtime.store.resources()
                var scopeIDs: [String] = []
                for permission in Array(NSOrderedSet(array: permissions)) as? [String] ?? permissions {
                    guard let scope = RoleCommand.scope(permission, in: resources) else {
                        throw fail("no API resource defines the permission '\(permission)' (give RESOURCE:SCOPE, "
                            + "see `sesame resource list`)")
                    }
                    scopeIDs.append(scope.id)
                }
                let role = try await runtime.roles.create(name: name, description: description ?? name,
                                                          type: type.type, isDefault: isDefault, scopeIDs: scopeIDs)
                report(json, ["id": .string(role.id), "name": .string(role.name), "type": .string(role.type.rawValue),
                              "isDefault": .bool(role.isDefault)],
                       "Created \(role.type.rawValue) role \"\(role.name)\" (\(role.id)) with \(scopeIDs.count) permission(s)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List roles with their permissions and holders.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                var listings: [RoleListing] = []
                var page = 0
                while true {
                    let result = try await runtime.roles.roles(RoleQuery(offset: page * 100, limit: 100))
                    listings += result.roles
                    if result.roles.count < 100 { break }
                    page += 1
                }
                var items: [JSONValue] = []
                for listing in listings {
                    let permissions = try await runtime.roles.permissions(ofRole: listing.role.id)
                        .map { $0.resourceIndicator + ":" + $0.scope.name }
                    if json {
                        let role = listing.role
                        items.append(["id": .string(role.id), "name": .string(role.name),
                                      "description": .string(role.description), "type": .string(role.type.rawValue),
                                      "isDefault": .bool(role.isDefault), "usersCount": .int(Int64(listing.usersCount)),
                                      "applicationsCount": .int(Int64(listing.applicationsCount)),
                                      "permissions": .array(permissions.map { .string($0) })])
                    } else {
                        let role = listing.role
                        let kind = role.type == .user ? "user" : "m2m"
                        print("\(role.id)  \(kind.padding(toLength: 4, withPad: " ", startingAt: 0)) \(role.name)"
                            + (role.isDefault ? " (default)" : "")
                            + "  users: \(listing.usersCount), apps: \(listing.applicationsCount)"
                            + "  permissions: " + (permissions.isEmpty ? "none" : permissions.joined(separator: " ")))
                    }
                }
                if json { Console.json(.array(items)) } else if listings.isEmpty { print("no roles") }
            }
        }
    }

    /// Who `assign` and `unassign` act on.
    struct Holder: ParsableArguments {
        @Argument(help: "The role's name or id.") var role: String
        @Option(help: "A user's id, email, username or phone.") var user: String?
        @Option(help: "A machine-to-machine application's id.") var app: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (user == nil) != (app == nil) else { throw fail("give exactly one of --user and --app") }
        }

        /// The role's id and the subject, looked up.
        func resolve(_ runtime: SesameRuntime) async throws -> (role: Role, subject: PermissionSubject) {
            var found = try await runtime.store.role(id: role)
            if found == nil { found = try await runtime.roles.role(named: role) }
            guard let found else { throw fail("no role is named or has the id '\(role)' (see `sesame role list`)") }
            if let app { return (found, .client(app)) }
            let identifier = user ?? ""
            var account = try await runtime.store.user(id: identifier)
            if account == nil { account = try await runtime.store.user(identifier: identifier) }
            guard let account else { throw fail("no user has the id or identifier '\(identifier)'") }
            return (found, .account(account.id))
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a role to a user or an m2m application.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var holder: Holder

        func run() async throws {
            try await withRuntime(options) { runtime in
                let (role, subject) = try await holder.resolve(runtime)
                let added = try await runtime.roles.assign(roleIDs: [role.id], to: subject)
                report(holder.json, ["roleId": .string(role.id), "added": .bool(!added.isEmpty)],
                       added.isEmpty ? "\(subject.label) already holds \"\(role.name)\""
                           : "Gave \"\(role.name)\" to \(subject.label)")
            }
        }
    }

    struct Unassign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a role from a user or an m2m application.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var holder: Holder

        func run() async throws {
            try await withRuntime(options) { runtime in
                let (role, subject) = try await holder.resolve(runtime)
                try await runtime.roles.unassign(roleID: role.id, from: subject)
                report(holder.json, ["roleId": .string(role.id), "removed": true],
                       "Took \"\(role.name)\" from \(subject.label)")
            }
        }
    }

    /// The scope named by `RESOURCE:SCOPE`, where RESOURCE is an indicator (itself holding colons) or a name:
    /// the longest resource prefix followed by `:` wins.
    static func scope(_ permission: String, in resources: [APIResource]) -> ResourceScope? {
        let candidates = resources.flatMap { resource in [(resource.indicator, resource), (resource.name, resource)] }
            .filter { permission.hasPrefix($0.0 + ":") }
            .sorted { $0.0.count > $1.0.count }
        for (prefix, resource) in candidates {
            let name = String(permission.dropFirst(prefix.count + 1))
            if let scope = resource.scopes.first(where: { $0.name == name }) { return scope }
        }
        return nil
    }
}

extension PermissionSubject {
    var label: String {
        switch self {
        case .account(let id): "user \(id)"
        case .client(let id): "application \(id)"
        }
    }
}
