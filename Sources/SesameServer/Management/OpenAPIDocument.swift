import Foundation
import SesameConnectors
import SesameIdentity
import SesameOIDC

/// The OpenAPI 3 description of the Management API and the Experience API, served at `/api/swagger.json`.
enum OpenAPIDocument {
    struct Operation {
        let method: String
        let path: String
        let tag: String
        let summary: String
        var body: String? = nil
        var response: String? = nil
        var isList = false
        var isPublic = false
        var status = "200"
        /// Answers besides 400 that tell the caller something (status → description).
        var errors: [String: String] = [:]
        /// Query parameters besides paging (name → schema).
        var query: [String: JSONValue] = [:]
    }

    static let organizationErrors = ["422": "A Logto rule refused it (organization.require_membership, organization.invalid_role_type, organization.role_names_not_found, ...)"]
    static let invitationErrors = [
        "422": "organization_invitation.pending_exists, organization_invitation.already_member, organization_invitation.accepted_user_required, organization_invitation.ended, organization_invitation.email_mismatch, organization.invalid_role_type",
        "429": "Too many invitation emails for the address or the invitation",
        "502": "The email connector failed (connector.*)",
    ]
    static let consentErrors = [
        "422": "application.third_party_application_only, organization.require_membership",
    ]
    static let organizationOperations: [Operation] = {
        var operations: [Operation] = [
            .init(method: "get", path: "/api/organizations", tag: "Organizations",
                  summary: "List organizations with member counts", response: "OrganizationListing", isList: true,
                  query: ["q": ["type": "string"], "showFeatured": ["type": "string", "enum": ["true", "false"]]]),
            .init(method: "post", path: "/api/organizations", tag: "Organizations", summary: "Create an organization",
                  body: "OrganizationCreate", response: "Organization", status: "201"),
            .init(method: "get", path: "/api/organizations/{id}", tag: "Organizations", summary: "Get an organization",
                  response: "Organization"),
            .init(method: "patch", path: "/api/organizations/{id}", tag: "Organizations",
                  summary: "Change an organization", body: "OrganizationPatch", response: "Organization"),
            .init(method: "delete", path: "/api/organizations/{id}", tag: "Organizations",
                  summary: "Delete an organization with its memberships", status: "204"),
            .init(method: "get", path: "/api/organizations/{id}/users/{userId}/scopes", tag: "Organizations",
                  summary: "The organization permissions a member holds there", response: "OrganizationScope",
                  isList: true, errors: organizationErrors),
            .init(method: "get", path: "/api/organization-scopes", tag: "Organization template",
                  summary: "Organization permissions", response: "OrganizationScope", isList: true,
                  query: ["q": ["type": "string"]]),
            .init(method: "post", path: "/api/organization-scopes", tag: "Organization template",
                  summary: "Create an organization permission", body: "OrganizationScopeCreate",
                  response: "OrganizationScope", status: "201", errors: organizationErrors),
            .init(method: "get", path: "/api/organization-scopes/{id}", tag: "Organization template",
                  summary: "Get an organization permission", response: "OrganizationScope"),
            .init(method: "patch", path: "/api/organization-scopes/{id}", tag: "Organization template",
                  summary: "Change an organization permission", body: "OrganizationScopePatch",
                  response: "OrganizationScope", errors: organizationErrors),
            .init(method: "delete", path: "/api/organization-scopes/{id}", tag: "Organization template",
                  summary: "Delete an organization permission (every role loses it)", status: "204"),
            .init(method: "get", path: "/api/organization-roles", tag: "Organization template",
                  summary: "Organization roles with their permissions", response: "OrganizationRole", isList: true,
                  query: ["q": ["type": "string"]]),
            .init(method: "post", path: "/api/organization-roles", tag: "Organization template",
                  summary: "Create an organization role", body: "OrganizationRoleCreate", response: "OrganizationRole",
                  status: "201", errors: organizationErrors),
            .init(method: "get", path: "/api/organization-roles/{id}", tag: "Organization template",
                  summary: "Get an organization role", response: "OrganizationRole"),
            .init(method: "patch", path: "/api/organization-roles/{id}", tag: "Organization template",
                  summary: "Rename an organization role", body: "OrganizationScopePatch", response: "OrganizationRole",
                  errors: organizationErrors),
            .init(method: "delete", path: "/api/organization-roles/{id}", tag: "Organization template",
                  summary: "Delete an organization role (every member loses it)", status: "204"),
        ]
        for (path, body, item) in [("scopes", "OrganizationScopeIds", "OrganizationScope"),
                                   ("resource-scopes", "ScopeIds", "RoleScope")] {
            operations += [
                .init(method: "get", path: "/api/organization-roles/{id}/\(path)", tag: "Organization template",
                      summary: "A role's \(path == "scopes" ? "organization" : "API") permissions", response: item,
                      isList: true),
                .init(method: "post", path: "/api/organization-roles/{id}/\(path)", tag: "Organization template",
                      summary: "Add permissions to a role", body: body, status: "201", errors: organizationErrors),
                .init(method: "put", path: "/api/organization-roles/{id}/\(path)", tag: "Organization template",
                      summary: "Replace a role's permissions", body: body, status: "204", errors: organizationErrors),
                .init(method: "delete", path: "/api/organization-roles/{id}/\(path)/{scopeId}",
                      tag: "Organization template", summary: "Remove a permission from a role", status: "204"),
            ]
        }
        for (path, member, ids, item) in [("users", "userId", "UserIds", "OrganizationUser"),
                                          ("applications", "applicationId", "ApplicationIds", "OrganizationApplication")] {
            operations += [
                .init(method: "get", path: "/api/organizations/{id}/\(path)", tag: "Organizations",
                      summary: "Member \(path) with their organization roles", response: item, isList: true,
                      query: path == "users" ? ["q": ["type": "string"], "organizationRoleId": ["type": "string"]] : [:]),
                .init(method: "post", path: "/api/organizations/{id}/\(path)", tag: "Organizations",
                      summary: "Add members", body: ids, response: ids, status: "201", errors: organizationErrors),
                .init(method: "put", path: "/api/organizations/{id}/\(path)", tag: "Organizations",
                      summary: "Replace the members of this kind", body: ids, status: "204", errors: organizationErrors),
                .init(method: "delete", path: "/api/organizations/{id}/\(path)/{\(member)}", tag: "Organizations",
                      summary: "Remove a member (its roles there go with it)", status: "204"),
                .init(method: "post", path: "/api/organizations/{id}/\(path)/roles", tag: "Organizations",
                      summary: "Give organization roles to several members", body: path == "users"
                          ? "OrganizationUserRoles" : "OrganizationApplicationRoles", status: "201",
                      errors: organizationErrors),
                .init(method: "get", path: "/api/organizations/{id}/\(path)/{\(member)}/roles", tag: "Organizations",
                      summary: "A member's roles in the organization", response: "OrganizationRole", isList: true,
                      errors: organizationErrors),
                .init(method: "post", path: "/api/organizations/{id}/\(path)/{\(member)}/roles", tag: "Organizations",
                      summary: "Give a member roles (by id or name)", body: "OrganizationRoleRefs", status: "201",
                      errors: organizationErrors),
                .init(method: "put", path: "/api/organizations/{id}/\(path)/{\(member)}/roles", tag: "Organizations",
                      summary: "Replace a member's roles", body: "OrganizationRoleRefs", status: "204",
                      errors: organizationErrors),
                .init(method: "delete", path: "/api/organizations/{id}/\(path)/{\(member)}/roles/{organizationRoleId}",
                      tag: "Organizations", summary: "Take a role from a member", status: "204",
                      errors: organizationErrors),
                .init(method: "get", path: "/api/\(path)/{id}/organizations", tag: path == "users" ? "Users" : "Applications",
                      summary: "The organizations it belongs to, with its roles in each",
                      response: "OrganizationMembership", isList: true, errors: organizationErrors),
            ]
        }
        operations += [
            .init(method: "get", path: "/api/organizations/{id}/jit/email-domains", tag: "Organizations",
                  summary: "Email domains whose new users join just in time", response: "JITEmailDomain", isList: true),
            .init(method: "post", path: "/api/organizations/{id}/jit/email-domains", tag: "Organizations",
                  summary: "Add a just-in-time email domain", body: "JITEmailDomainCreate", response: "JITEmailDomain",
                  status: "201"),
            .init(method: "put", path: "/api/organizations/{id}/jit/email-domains", tag: "Organizations",
                  summary: "Replace the just-in-time email domains", body: "JITEmailDomains", status: "204"),
            .init(method: "delete", path: "/api/organizations/{id}/jit/email-domains/{emailDomain}",
                  tag: "Organizations", summary: "Remove a just-in-time email domain", status: "204"),
            .init(method: "get", path: "/api/organizations/{id}/jit/roles", tag: "Organizations",
                  summary: "The roles just-in-time members get", response: "OrganizationRole", isList: true),
            .init(method: "post", path: "/api/organizations/{id}/jit/roles", tag: "Organizations",
                  summary: "Add just-in-time roles", body: "OrganizationRoleIds", status: "201",
                  errors: organizationErrors),
            .init(method: "put", path: "/api/organizations/{id}/jit/roles", tag: "Organizations",
                  summary: "Replace the just-in-time roles", body: "OrganizationRoleIds", status: "204",
                  errors: organizationErrors),
            .init(method: "delete", path: "/api/organizations/{id}/jit/roles/{organizationRoleId}",
                  tag: "Organizations", summary: "Remove a just-in-time role", status: "204"),
            .init(method: "get", path: "/api/applications/{id}/users/{userId}/consent-organizations",
                  tag: "Applications", summary: "The organizations a user let this third-party app see",
                  response: "ConsentOrganizations", errors: consentErrors),
            .init(method: "post", path: "/api/applications/{id}/users/{userId}/consent-organizations",
                  tag: "Applications", summary: "Let a third-party app see more of the user's organizations",
                  body: "OrganizationIds", status: "201", errors: consentErrors),
            .init(method: "put", path: "/api/applications/{id}/users/{userId}/consent-organizations",
                  tag: "Applications", summary: "Replace the organizations a third-party app may see",
                  body: "OrganizationIds", status: "204", errors: consentErrors),
            .init(method: "delete",
                  path: "/api/applications/{id}/users/{userId}/consent-organizations/{organizationId}",
                  tag: "Applications", summary: "Withdraw the consent to one organization", status: "204",
                  errors: consentErrors),
            .init(method: "get", path: "/api/organization-invitations", tag: "Organization invitations",
                  summary: "List invitations (newest first)", response: "OrganizationInvitation", isList: true,
                  query: ["organizationId": ["type": "string"], "inviterId": ["type": "string"],
                          "invitee": ["type": "string"]]),
            .init(method: "post", path: "/api/organization-invitations", tag: "Organization invitations",
                  summary: "Invite an email address (with messagePayload, send it with the email connector)",
                  body: "OrganizationInvitationCreate", response: "OrganizationInvitation", status: "201",
                  errors: invitationErrors),
            .init(method: "get", path: "/api/organization-invitations/{id}", tag: "Organization invitations",
                  summary: "Get an invitation", response: "OrganizationInvitation"),
            .init(method: "delete", path: "/api/organization-invitations/{id}", tag: "Organization invitations",
                  summary: "Delete an invitation", status: "204"),
            .init(method: "put", path: "/api/organization-invitations/{id}/status", tag: "Organization invitations",
                  summary: "Accept (for a user with the invited email) or revoke a pending invitation",
                  body: "OrganizationInvitationStatus", response: "OrganizationInvitation", errors: invitationErrors),
            .init(method: "post", path: "/api/organization-invitations/{id}/message", tag: "Organization invitations",
                  summary: "Send the invitation email again (at most once a minute)", body: "InvitationMessage",
                  status: "204", errors: invitationErrors),
        ]
        return operations
    }()

    static let roleErrors = ["422": "A Logto rule refused it (role.name_in_use, role.scope_exists, user.invalid_role_type, ...)"]
    static let roleOperations: [Operation] = [
        .init(method: "get", path: "/api/roles", tag: "Roles",
              summary: "List roles with how many users and applications hold each", response: "RoleListing",
              isList: true, query: ["type": ["type": "string", "enum": ["User", "MachineToMachine"]],
                                    "search": ["type": "string"], "excludeUserId": ["type": "string"],
                                    "excludeApplicationId": ["type": "string"]]),
        .init(method: "post", path: "/api/roles", tag: "Roles", summary: "Create a role with permissions",
              body: "RoleCreate", response: "Role", errors: roleErrors),
        .init(method: "get", path: "/api/roles/{id}", tag: "Roles", summary: "Get a role", response: "Role"),
        .init(method: "patch", path: "/api/roles/{id}", tag: "Roles", summary: "Rename a role or change isDefault",
              body: "RolePatch", response: "Role", errors: roleErrors),
        .init(method: "delete", path: "/api/roles/{id}", tag: "Roles",
              summary: "Delete a role (every user and application loses it)", status: "204", errors: roleErrors),
        .init(method: "get", path: "/api/roles/{id}/scopes", tag: "Roles", summary: "A role's permissions",
              response: "RoleScope", isList: true),
        .init(method: "post", path: "/api/roles/{id}/scopes", tag: "Roles", summary: "Add permissions to a role",
              body: "ScopeIds", response: "RoleScope", isList: true, status: "201", errors: roleErrors),
        .init(method: "delete", path: "/api/roles/{id}/scopes/{scopeId}", tag: "Roles",
              summary: "Remove a permission from a role", status: "204", errors: roleErrors),
        .init(method: "get", path: "/api/roles/{id}/users", tag: "Roles", summary: "Users holding a role",
              response: "User", isList: true, query: ["search": ["type": "string"]]),
        .init(method: "post", path: "/api/roles/{id}/users", tag: "Roles", summary: "Give a role to users",
              body: "UserIds", status: "201", errors: roleErrors),
        .init(method: "delete", path: "/api/roles/{id}/users/{userId}", tag: "Roles",
              summary: "Take a role from a user", status: "204"),
        .init(method: "get", path: "/api/roles/{id}/applications", tag: "Roles",
              summary: "Machine-to-machine applications holding a role", response: "Application", isList: true),
        .init(method: "post", path: "/api/roles/{id}/applications", tag: "Roles",
              summary: "Give a role to machine-to-machine applications", body: "ApplicationIds", status: "201",
              errors: roleErrors),
        .init(method: "delete", path: "/api/roles/{id}/applications/{applicationId}", tag: "Roles",
              summary: "Take a role from an application", status: "204"),
        .init(method: "get", path: "/api/users/{id}/roles", tag: "Users", summary: "A user's roles", response: "Role",
              isList: true),
        .init(method: "post", path: "/api/users/{id}/roles", tag: "Users",
              summary: "Give roles to a user (roles held already are skipped)", body: "RoleIds",
              response: "RoleAssignment", status: "201", errors: roleErrors),
        .init(method: "put", path: "/api/users/{id}/roles", tag: "Users", summary: "Replace a user's roles",
              body: "RoleIds", response: "RoleAssignment", errors: roleErrors),
        .init(method: "delete", path: "/api/users/{id}/roles/{roleId}", tag: "Users", summary: "Take a role from a user",
              status: "204"),
        .init(method: "get", path: "/api/applications/{id}/roles", tag: "Applications",
              summary: "A machine-to-machine application's roles", response: "Role", isList: true, errors: roleErrors),
        .init(method: "post", path: "/api/applications/{id}/roles", tag: "Applications",
              summary: "Give roles to a machine-to-machine application", body: "RoleIds", response: "RoleAssignment",
              status: "201", errors: roleErrors),
        .init(method: "put", path: "/api/applications/{id}/roles", tag: "Applications",
              summary: "Replace a machine-to-machine application's roles", body: "RoleIds", response: "RoleAssignment",
              errors: roleErrors),
        .init(method: "delete", path: "/api/applications/{id}/roles/{roleId}", tag: "Applications",
              summary: "Take a role from an application", status: "204", errors: roleErrors),
        .init(method: "get", path: "/api/configs/id-token", tag: "Configs",
              summary: "Which extended claims (roles, ...) the ID token carries", response: "IDTokenConfig"),
        .init(method: "put", path: "/api/configs/id-token", tag: "Configs",
              summary: "Choose the extended claims the ID token carries", body: "IDTokenConfig",
              response: "IDTokenConfig"),
    ]

    static let operations: [Operation] = [
        .init(method: "get", path: "/api/status", tag: "Status", summary: "Health check", isPublic: true, status: "204"),
        .init(method: "get", path: "/api/status/ready", tag: "Status",
              summary: "Readiness: the database answers and every migration is applied", isPublic: true,
              status: "204", errors: ["503": "The database is unreachable or migrations are pending (Retry-After)"]),
        .init(method: "get", path: "/api/applications", tag: "Applications", summary: "List applications",
              response: "Application", isList: true),
        .init(method: "post", path: "/api/applications", tag: "Applications",
              summary: "Create an application (the secret is returned once)", body: "ApplicationCreate",
              response: "Application"),
        .init(method: "get", path: "/api/applications/{id}", tag: "Applications", summary: "Get an application",
              response: "Application"),
        .init(method: "patch", path: "/api/applications/{id}", tag: "Applications", summary: "Update an application",
              body: "ApplicationPatch", response: "Application"),
        .init(method: "delete", path: "/api/applications/{id}", tag: "Applications", summary: "Delete an application",
              status: "204"),
        .init(method: "get", path: "/api/applications/{id}/secrets", tag: "Applications",
              summary: "An application's named secrets (values are never read back)", response: "ApplicationSecret",
              isList: true),
        .init(method: "post", path: "/api/applications/{id}/secrets", tag: "Applications",
              summary: "Add a named secret (its value is returned once)", body: "ApplicationSecretCreate",
              response: "ApplicationSecret", status: "201"),
        .init(method: "delete", path: "/api/applications/{id}/secrets/{name}", tag: "Applications",
              summary: "Delete a named secret", status: "204"),
        .init(method: "delete", path: "/api/applications/{id}/legacy-secret", tag: "Applications",
              summary: "Delete the original secret (made at creation or rotation)", status: "204"),
        .init(method: "get", path: "/api/users", tag: "Users", summary: "List or search users", response: "User",
              isList: true),
        .init(method: "post", path: "/api/users", tag: "Users", summary: "Create a user", body: "UserCreate",
              response: "User"),
        .init(method: "get", path: "/api/users/{id}", tag: "Users", summary: "Get a user", response: "User"),
        .init(method: "patch", path: "/api/users/{id}", tag: "Users", summary: "Update a user's profile",
              body: "UserPatch", response: "User"),
        .init(method: "patch", path: "/api/users/{id}/profile", tag: "Users",
              summary: "Merge fields into a user's standard profile (null clears one)", body: "UserProfilePatch",
              response: "UserProfile"),
        .init(method: "patch", path: "/api/users/{id}/password", tag: "Users", summary: "Set a user's password",
              body: "Password", response: "User"),
        .init(method: "patch", path: "/api/users/{id}/is-suspended", tag: "Users", summary: "Suspend or restore a user",
              body: "Suspension", response: "User"),
        .init(method: "delete", path: "/api/users/{id}", tag: "Users", summary: "Delete a user", status: "204"),
        .init(method: "get", path: "/api/users/{id}/mfa-verifications", tag: "Users",
              summary: "A user's second factors (no secret is ever returned after creation)",
              response: "MfaVerification", isList: true),
        .init(method: "post", path: "/api/users/{id}/mfa-verifications", tag: "Users",
              summary: "Add a TOTP (secret given or generated) or backup codes (given or generated); returned once",
              body: "MfaVerificationCreate", response: "MfaVerificationCreated",
              errors: ["422": "user.totp_already_in_use, user.totp_secret_invalid, user.backup_code_already_in_use, "
                  + "user.wrong_backup_code_format, session.mfa.backup_code_can_not_be_alone"]),
        .init(method: "delete", path: "/api/users/{id}/mfa-verifications/{verificationId}", tag: "Users",
              summary: "Remove one of a user's second factors", status: "204"),
        .init(method: "get", path: "/api/sign-in-exp", tag: "Sign-in experience", summary: "Get the settings",
              response: "SignInExperience"),
        .init(method: "patch", path: "/api/sign-in-exp", tag: "Sign-in experience",
              summary: "Change the settings (objects merge one level deep)", body: "Object", response: "SignInExperience"),
        .init(method: "get", path: "/api/logs", tag: "Audit log",
              summary: "Audit events, newest first (userId, applicationId, logKey, startTime, endTime)",
              response: "Log", isList: true),
        .init(method: "get", path: "/api/resources", tag: "API resources", summary: "List API resources",
              response: "Resource", isList: true),
        .init(method: "post", path: "/api/resources", tag: "API resources", summary: "Create an API resource",
              body: "ResourceCreate", response: "Resource"),
        .init(method: "get", path: "/api/resources/{id}", tag: "API resources", summary: "Get an API resource",
              response: "Resource"),
        .init(method: "patch", path: "/api/resources/{id}", tag: "API resources",
              summary: "Rename an API resource or change its token lifetime", body: "ResourcePatch",
              response: "Resource"),
        .init(method: "delete", path: "/api/resources/{id}", tag: "API resources",
              summary: "Delete an API resource and its scopes", status: "204"),
        .init(method: "get", path: "/api/resources/{id}/scopes", tag: "API resources",
              summary: "The scopes of an API resource", response: "Scope", isList: true),
        .init(method: "post", path: "/api/resources/{id}/scopes", tag: "API resources", summary: "Add a scope",
              body: "ScopeCreate", response: "Scope", status: "201"),
        .init(method: "delete", path: "/api/resources/{id}/scopes/{scopeId}", tag: "API resources",
              summary: "Remove a scope", status: "204"),
        .init(method: "get", path: "/api/connector-factories", tag: "Connectors",
              summary: "The connectors Sesame ships, with their configuration forms", response: "ConnectorFactory",
              isList: true),
        .init(method: "get", path: "/api/connectors", tag: "Connectors", summary: "Configured connectors (secrets masked)",
              response: "Connector", isList: true),
        .init(method: "post", path: "/api/connectors", tag: "Connectors", summary: "Configure a connector",
              body: "ConnectorCreate", response: "Connector"),
        .init(method: "patch", path: "/api/connectors/{id}", tag: "Connectors",
              summary: "Change a connector's configuration or enable it", body: "ConnectorPatch", response: "Connector"),
        .init(method: "delete", path: "/api/connectors/{id}", tag: "Connectors", summary: "Remove a connector",
              status: "204"),
        .init(method: "post", path: "/api/connectors/{id}/test", tag: "Connectors",
              summary: "Send a test code (123456)", body: "ConnectorTest", status: "204"),
        .init(method: "put", path: "/api/experience", tag: "Experience", summary: "Start an experience",
              body: "ExperienceStart", isPublic: true, status: "204"),
        .init(method: "post", path: "/api/experience/verification/verification-code", tag: "Experience",
              summary: "Send a code", body: "CodeRequest", response: "Verification", isPublic: true),
        .init(method: "post", path: "/api/experience/verification/verification-code/verify", tag: "Experience",
              summary: "Check a code", body: "CodeCheck", response: "Verification", isPublic: true),
        .init(method: "post", path: "/api/experience/verification/password", tag: "Experience",
              summary: "Check a password", body: "PasswordCheck", response: "Verification", isPublic: true),
        .init(method: "put", path: "/api/experience/interaction-event", tag: "Experience",
              summary: "Switch between SignIn and Register after a verified code", body: "ExperienceStart",
              isPublic: true, status: "204", errors: ["404": "No experience in progress"]),
        .init(method: "post", path: "/api/experience/identification", tag: "Experience", summary: "Identify the user",
              body: "Verification", isPublic: true, status: "204",
              errors: ["404": "No account uses the verified identifier (user.user_not_exist)",
                       "422": "The verified email already has an account (user.email_already_in_use)"]),
        .init(method: "post", path: "/api/experience/profile", tag: "Experience", summary: "Fill the new profile",
              body: "ProfileField", isPublic: true, status: "204"),
        .init(method: "put", path: "/api/experience/profile/password", tag: "Experience",
              summary: "Set the new password (recovery)", body: "Password", isPublic: true, status: "204"),
        .init(method: "post", path: "/api/experience/submit", tag: "Experience", summary: "Finish",
              response: "Redirect", isPublic: true),
    ] + roleOperations + organizationOperations

    static func string(_ description: String? = nil, nullable: Bool = false) -> JSONValue {
        var schema: [String: JSONValue] = ["type": nullable ? ["string", "null"] : "string"]
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }

    static let stringArray: JSONValue = ["type": "array", "items": ["type": "string"]]
    /// A field of a user's standard profile (null in a request clears it).
    static let profileText: JSONValue = ["type": ["string", "null"], "maxLength": 256]
    /// Logto's `customClientMetadata`, of which Sesame keeps `isDeviceFlow` (a Native app using RFC 8628's device grant).
    static let customClientMetadata = object(["isDeviceFlow": boolean])

    /// An application's `id_token_signed_response_alg` (null in a request: the default, ES384).
    static let idTokenAlgorithm: JSONValue = ["type": ["string", "null"], "enum": ["ES384", "ES256", "RS256", "EdDSA", .null]]
    /// Client authentication (OpenID Connect Registration §2, RFC 7523), the members `oidcClientMetadata` adds to
    /// Logto's; null in a request clears one.
    static let clientAuthentication: [String: JSONValue] = [
        "tokenEndpointAuthMethod": ["type": ["string", "null"],
                                    "enum": .array(ClientAuthenticationMethod.allCases.map { .string($0.rawValue) } + [.null])],
        "jwks": ["type": ["object", "null"], "description": "a JWK Set of public keys, for private_key_jwt"],
        "jwksUri": ["type": ["string", "null"], "description": "where the JWK Set is published (https)"],
        "tokenEndpointAuthSigningAlg": ["type": ["string", "null"],
                                        "enum": .array(ClientAuthenticationMethod.assertionAlgorithms.map { .string($0) } + [.null])],
    ]
    static let applicationMetadata = object(["redirectUris": stringArray, "postLogoutRedirectUris": stringArray,
                                             "idTokenSignedResponseAlg": idTokenAlgorithm]
                                                .merging(clientAuthentication) { $1 })
    static let integer: JSONValue = ["type": "integer"]
    static let boolean: JSONValue = ["type": "boolean"]
    static let identifier = object(["type": ["type": "string", "enum": ["email", "phone", "username"]], "value": string()],
                                   required: ["type", "value"])

    static let schemas: [String: JSONValue] = [
        "Error": object(["code": string("stable error code"), "message": string(),
                         "providerCode": string("a connector provider's own error code"),
                         "requestId": string("a connector provider's request id, for its support")],
                        required: ["code", "message"]),
        "Object": ["type": "object"],
        "Application": object([
            "id": string(), "name": string(), "description": string(nullable: true),
            "type": ["type": "string", "enum": ["Traditional", "SPA", "Native", "MachineToMachine"]],
            "secret": string("only in the answer to the creation"),
            "oidcClientMetadata": applicationMetadata, "customClientMetadata": customClientMetadata,
            "isThirdParty": boolean, "hasLegacySecret": boolean, "createdAt": integer,
        ], required: ["id", "name", "type", "oidcClientMetadata"]),
        "ApplicationSecret": object([
            "applicationId": string(), "name": string(), "value": string("only in the answer to the creation"),
            "createdAt": integer, "expiresAt": ["type": ["integer", "null"]],
        ], required: ["applicationId", "name", "createdAt", "expiresAt"]),
        "ApplicationSecretCreate": object(["name": string(), "expiresAt": ["type": ["integer", "null"]]],
                                          required: ["name"]),
        "ApplicationCreate": object([
            "name": string(), "type": ["type": "string", "enum": ["Traditional", "SPA", "Native", "MachineToMachine"]],
            "description": string(nullable: true), "isThirdParty": boolean,
            "oidcClientMetadata": applicationMetadata, "customClientMetadata": customClientMetadata,
        ], required: ["name", "type"]),
        "ApplicationPatch": object([
            "name": string(), "description": string(nullable: true),
            "oidcClientMetadata": applicationMetadata, "customClientMetadata": customClientMetadata,
        ]),
        "User": object([
            "id": string(), "username": string(nullable: true), "primaryEmail": string(nullable: true),
            "primaryPhone": string(nullable: true), "name": string(nullable: true), "avatar": string(nullable: true),
            "isSuspended": boolean, "hasPassword": boolean, "createdAt": integer, "updatedAt": integer,
            "lastSignInAt": ["type": ["integer", "null"]], "profile": ["$ref": "#/components/schemas/UserProfile"],
        ], required: ["id", "isSuspended", "createdAt", "updatedAt"]),
        "UserProfile": object([
            "familyName": profileText, "givenName": profileText, "middleName": profileText, "nickname": profileText,
            "preferredUsername": profileText, "profile": profileText, "website": profileText, "gender": profileText,
            "birthdate": profileText, "zoneinfo": profileText, "locale": profileText,
            "address": object(["formatted": profileText, "streetAddress": profileText, "locality": profileText,
                               "region": profileText, "postalCode": profileText, "country": profileText]),
        ]),
        "UserProfilePatch": object(["profile": ["$ref": "#/components/schemas/UserProfile"]], required: ["profile"]),
        "UserCreate": object(["username": string(), "primaryEmail": string(), "primaryPhone": string(),
                              "name": string(), "avatar": string(), "password": string(),
                              "profile": ["$ref": "#/components/schemas/UserProfile"]]),
        "UserPatch": object(["username": string(nullable: true), "primaryEmail": string(nullable: true),
                             "primaryPhone": string(nullable: true), "name": string(nullable: true),
                             "avatar": string(nullable: true),
                             "profile": ["$ref": "#/components/schemas/UserProfile"]]),
        "Password": object(["password": string()], required: ["password"]),
        "Suspension": object(["isSuspended": boolean], required: ["isSuspended"]),
        "SignInExperience": object([
            "signUp": ["type": "object"], "signIn": ["type": "object"], "passwordPolicy": ["type": "object"],
            "branding": ["type": "object"], "languages": stringArray,
            "mfa": object(["factors": ["type": "array", "items": ["type": "string", "enum": ["Totp", "WebAuthn", "BackupCode"]]],
                           "policy": ["type": "string", "enum": .array(MfaPolicy.allCases.map { .string($0.rawValue) })]],
                          required: ["factors", "policy"]),
        ], required: ["signUp", "signIn", "passwordPolicy", "branding", "languages", "mfa"]),
        "MfaVerification": object([
            "id": string(), "type": ["type": "string", "enum": ["Totp", "WebAuthn", "BackupCode"]],
            "createdAt": string("ISO 8601"), "lastUsedAt": string("ISO 8601"), "agent": string(nullable: true),
            "name": string(nullable: true), "remainCodes": integer,
        ], required: ["id", "type", "createdAt"]),
        "MfaVerificationCreate": object([
            "type": ["type": "string", "enum": ["Totp", "BackupCode"]], "secret": string("base32, 16 to 32 characters"),
            "codes": stringArray,
        ], required: ["type"]),
        "MfaVerificationCreated": object([
            "type": string(), "secret": string(), "secretQrCode": string("an SVG data URL"), "codes": stringArray,
        ], required: ["type"]),
        "Resource": object(["id": string(), "name": string(), "indicator": string(), "accessTokenTtl": integer,
                            "scopes": ["type": "array", "items": ["$ref": "#/components/schemas/Scope"]]],
                           required: ["id", "indicator"]),
        "ResourcePatch": object(["name": string(), "accessTokenTtl": integer]),
        "Scope": object(["id": string(), "resourceId": string(), "name": string(),
                         "description": string(nullable: true)], required: ["id", "name"]),
        "ScopeCreate": object(["name": string(), "description": string(nullable: true)], required: ["name"]),
        "ResourceCreate": object(["indicator": string(), "name": string(), "scopes": stringArray,
                                  "accessTokenTtl": integer], required: ["indicator"]),
        "ConnectorFactory": object(["id": string(), "type": string(), "name": ["type": "object"],
                                    "description": ["type": "object"], "readme": string(),
                                    "formItems": ["type": "array", "items": ["type": "object"]]], required: ["id"]),
        "Connector": object(["id": string(), "connectorId": string(), "type": string(), "enabled": boolean,
                             "config": ["type": "object"], "name": ["type": "object"]], required: ["id", "enabled"]),
        "ConnectorCreate": object(["connectorId": string(), "config": ["type": "object"]],
                                  required: ["connectorId", "config"]),
        "ConnectorPatch": object(["config": ["type": "object"], "enabled": boolean]),
        "ConnectorTest": object(["email": string(), "config": ["type": "object"],
                                 "usageType": ["type": "string", "enum": .array(UsageType.allCases.map { .string($0.rawValue) })]],
                                required: ["email"]),
        "ExperienceStart": object(["interactionEvent": ["type": "string", "enum": ["SignIn", "Register", "ForgotPassword"]]],
                                  required: ["interactionEvent"]),
        "CodeRequest": object(["identifier": identifier, "interactionEvent": string()], required: ["identifier"]),
        "CodeCheck": object(["identifier": identifier, "verificationId": string(), "code": string()],
                            required: ["identifier", "verificationId", "code"]),
        "PasswordCheck": object(["identifier": identifier, "password": string()], required: ["identifier", "password"]),
        "Verification": object(["verificationId": string()], required: ["verificationId"]),
        "ProfileField": object(["type": ["type": "string", "enum": ["username", "password", "name"]], "value": string()],
                               required: ["type", "value"]),
        "Redirect": object(["redirectTo": string()], required: ["redirectTo"]),
        "Role": object(["id": string(), "name": string(), "description": string(),
                        "type": ["type": "string", "enum": ["User", "MachineToMachine"]], "isDefault": boolean,
                        "createdAt": integer], required: ["id", "name", "description", "type", "isDefault"]),
        "RoleListing": object(["id": string(), "name": string(), "description": string(),
                               "type": ["type": "string", "enum": ["User", "MachineToMachine"]], "isDefault": boolean,
                               "createdAt": integer, "usersCount": integer, "applicationsCount": integer,
                               "featuredUsers": ["type": "array", "items": object([
                                   "id": string(), "avatar": string(nullable: true), "name": string(nullable: true)])],
                               "featuredApplications": ["type": "array", "items": object([
                                   "id": string(), "name": string(), "type": string()])]],
                              required: ["id", "name", "type", "usersCount", "applicationsCount"]),
        "RoleCreate": object(["name": string(), "description": string(),
                              "type": ["type": "string", "enum": ["User", "MachineToMachine"]], "isDefault": boolean,
                              "scopeIds": stringArray], required: ["name", "description"]),
        "RolePatch": object(["name": string(), "description": string(), "isDefault": boolean]),
        "RoleScope": object(["id": string(), "resourceId": string(), "name": string(),
                             "description": string(nullable: true),
                             "resource": object(["id": string(), "name": string(), "indicator": string()])],
                            required: ["id", "name", "resource"]),
        "ScopeIds": object(["scopeIds": stringArray], required: ["scopeIds"]),
        "UserIds": object(["userIds": stringArray], required: ["userIds"]),
        "ApplicationIds": object(["applicationIds": stringArray], required: ["applicationIds"]),
        "RoleIds": object(["roleIds": stringArray], required: ["roleIds"]),
        "RoleAssignment": object(["roleIds": stringArray, "addedRoleIds": stringArray], required: ["roleIds"]),
        "IDTokenConfig": object(["enabledExtendedClaims": ["type": "array", "items": [
            "type": "string", "enum": .array(StandardScope.extendedClaims.sorted().map { .string($0) })]]],
                                required: ["enabledExtendedClaims"]),
        "Organization": object(organizationProperties, required: ["id", "name", "customData", "isMfaRequired"]),
        "OrganizationListing": object(organizationProperties.merging([
            "usersCount": integer,
            "featuredUsers": ["type": "array", "items": object([
                "id": string(), "avatar": string(nullable: true), "name": string(nullable: true)])],
        ]) { _, new in new }, required: ["id", "name", "usersCount"]),
        "OrganizationMembership": object(organizationProperties.merging(["organizationRoles": roleRefs]) { _, new in new },
                                         required: ["id", "name", "organizationRoles"]),
        "OrganizationCreate": object(organizationInput, required: ["name"]),
        "OrganizationPatch": object(organizationInput),
        "OrganizationScope": object(["id": string(), "name": string(), "description": string(nullable: true),
                                     "createdAt": integer], required: ["id", "name"]),
        "OrganizationScopeCreate": object(["name": string(), "description": string(nullable: true)], required: ["name"]),
        "OrganizationScopePatch": object(["name": string(), "description": string(nullable: true)]),
        "OrganizationInvitation": object([
            "id": string(), "inviterId": string(nullable: true), "invitee": string(),
            "acceptedUserId": string(nullable: true), "organizationId": string(),
            "status": ["type": "string", "enum": ["Pending", "Accepted", "Expired", "Revoked"]],
            "createdAt": integer, "updatedAt": integer, "expiresAt": integer, "organizationRoles": roleRefs,
        ], required: ["id", "invitee", "organizationId", "status", "expiresAt"]),
        "OrganizationInvitationCreate": object([
            "invitee": string("An email address"), "organizationId": string(), "inviterId": string(nullable: true),
            "expiresAt": ["type": "integer", "description": "Epoch milliseconds, in the future, at most 90 days away"],
            "organizationRoleIds": ["type": "array", "items": ["type": "string"]],
            "messagePayload": ["oneOf": [["type": "boolean", "enum": [false]], invitationMessage]],
        ], required: ["invitee", "organizationId", "expiresAt"]),
        "OrganizationInvitationStatus": object([
            "status": ["type": "string", "enum": ["Accepted", "Revoked"]], "acceptedUserId": string(nullable: true),
        ], required: ["status"]),
        "InvitationMessage": invitationMessage,
        "OrganizationIds": object(["organizationIds": stringArray], required: ["organizationIds"]),
        "ConsentOrganizations": object([
            "organizations": ["type": "array", "items": ["$ref": "#/components/schemas/Organization"]],
        ], required: ["organizations"]),
        "OrganizationRole": object(["id": string(), "name": string(), "description": string(nullable: true),
                                    "type": ["type": "string", "enum": ["User", "MachineToMachine"]], "createdAt": integer,
                                    "scopes": ["type": "array", "items": ["$ref": "#/components/schemas/OrganizationScope"]],
                                    "resourceScopes": ["type": "array", "items": ["$ref": "#/components/schemas/RoleScope"]]],
                                   required: ["id", "name", "type"]),
        "OrganizationRoleCreate": object(["name": string(), "description": string(nullable: true),
                                          "type": ["type": "string", "enum": ["User", "MachineToMachine"]],
                                          "organizationScopeIds": stringArray, "resourceScopeIds": stringArray],
                                         required: ["name"]),
        "JITEmailDomain": object(["organizationId": string(), "emailDomain": string()],
                                 required: ["organizationId", "emailDomain"]),
        "JITEmailDomainCreate": object(["emailDomain": string()], required: ["emailDomain"]),
        "JITEmailDomains": object(["emailDomains": stringArray], required: ["emailDomains"]),
        "OrganizationRoleIds": object(["organizationRoleIds": stringArray], required: ["organizationRoleIds"]),
        "OrganizationScopeIds": object(["organizationScopeIds": stringArray], required: ["organizationScopeIds"]),
        "OrganizationRoleRefs": object(["organizationRoleIds": stringArray, "organizationRoleNames": stringArray]),
        "OrganizationUserRoles": object(["userIds": stringArray, "organizationRoleIds": stringArray],
                                        required: ["userIds", "organizationRoleIds"]),
        "OrganizationApplicationRoles": object(["applicationIds": stringArray, "organizationRoleIds": stringArray],
                                               required: ["applicationIds", "organizationRoleIds"]),
        "OrganizationUser": object(["id": string(), "organizationRoles": roleRefs], required: ["id", "organizationRoles"]),
        "OrganizationApplication": object(["id": string(), "name": string(), "organizationRoles": roleRefs],
                                          required: ["id", "organizationRoles"]),
        "Log": object(["id": string(), "key": string(), "payload": ["type": "object"], "createdAt": integer],
                      required: ["id", "key", "payload", "createdAt"]),
    ]

    /// Logto's `messagePayload`: `link` (default: Sesame's `/invitation/{id}` page), `locale`, and further
    /// template variables.
    static let invitationMessage: JSONValue = [
        "type": "object",
        "properties": ["link": ["type": "string", "format": "uri", "maxLength": 2048], "locale": string()],
        "additionalProperties": ["type": ["string", "number", "boolean"], "maxLength": 1024],
    ]

    static let roleRefs: JSONValue = ["type": "array", "items": object(["id": string(), "name": string()],
                                                                      required: ["id", "name"])]
    static let organizationInput: [String: JSONValue] = [
        "name": string(), "description": string(nullable: true), "customData": ["type": "object"],
        "isMfaRequired": boolean, "color": string("#RRGGBB", nullable: true),
        "branding": object(["logoUrl": string(), "darkLogoUrl": string(), "favicon": string(), "darkFavicon": string()]),
    ]
    static let organizationProperties: [String: JSONValue] = organizationInput.merging([
        "id": string(), "createdAt": integer,
    ]) { _, new in new }

    static let bearerDescription = "client_credentials token for resource https://default.logto.app/api with scope all"

    static func document(endpoint: String) -> JSONValue {
        var paths: [String: [String: JSONValue]] = [:]
        for operation in operations {
            var responses: [String: JSONValue] = [
                "400": ["description": "Invalid input", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]],
            ]
            if let response = operation.response {
                let reference: JSONValue = ["$ref": .string("#/components/schemas/\(response)")]
                let schema: JSONValue = operation.isList ? ["type": "array", "items": reference] : reference
                var success: [String: JSONValue] = ["description": "OK", "content": ["application/json": ["schema": schema]]]
                if operation.isList {
                    success["headers"] = ["Total-Number": ["description": "How many there are in all",
                                                           "schema": ["type": "string"]]]
                }
                responses[operation.status] = .object(success)
            } else {
                responses[operation.status] = ["description": "Done"]
            }
            if !operation.isPublic {
                responses["401"] = ["description": "No or invalid token"]
                responses["403"] = ["description": "Not a Management API token"]
            }
            let pathParameters = operation.path.split(separator: "/").filter { $0.hasPrefix("{") }
                .map { String($0.dropFirst().dropLast()) }
            if !pathParameters.isEmpty { responses["404"] = ["description": "Not found"] }
            for (status, description) in operation.errors {
                responses[status] = ["description": .string(description),
                                     "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
            }
            var entry: [String: JSONValue] = [
                "tags": [.string(operation.tag)], "summary": .string(operation.summary),
                "operationId": .string(operation.method + operation.path.split(separator: "/").map {
                    $0.replacingOccurrences(of: "{", with: "").replacingOccurrences(of: "}", with: "")
                        .replacingOccurrences(of: "-", with: "_").capitalized
                }.joined()),
                "responses": .object(responses),
            ]
            if operation.isPublic { entry["security"] = [] }
            if let body = operation.body {
                entry["requestBody"] = ["required": true, "content": ["application/json": ["schema":
                    ["$ref": .string("#/components/schemas/\(body)")]]]]
            }
            var parameters: [JSONValue] = []
            for name in pathParameters {
                parameters.append(["name": .string(name), "in": "path", "required": true, "schema": ["type": "string"]])
            }
            let unpaged: Set = ["/api/applications/{id}/secrets", "/api/resources", "/api/resources/{id}/scopes",
                                "/api/connectors", "/api/connector-factories", "/api/roles/{id}/scopes",
                                "/api/users/{id}/roles", "/api/applications/{id}/roles", "/api/users/{id}/mfa-verifications",
                                "/api/organizations/{id}/users/{userId}/scopes", "/api/organization-roles/{id}/scopes",
                                "/api/organization-roles/{id}/resource-scopes", "/api/organizations/{id}/users/{userId}/roles",
                                "/api/organizations/{id}/applications/{applicationId}/roles",
                                "/api/users/{id}/organizations", "/api/applications/{id}/organizations",
                                "/api/organizations/{id}/jit/email-domains", "/api/organizations/{id}/jit/roles"]
            if operation.isList, !unpaged.contains(operation.path) {
                parameters.append(["name": "page", "in": "query", "schema": ["type": "integer", "minimum": 1]])
                parameters.append(["name": "page_size", "in": "query",
                                   "schema": ["type": "integer", "minimum": 1, "maximum": 100]])
            }
            if operation.path == "/api/users", operation.method == "get" {
                parameters.append(["name": "search", "in": "query", "schema": ["type": "string"]])
            }
            for (name, schema) in operation.query.sorted(by: { $0.key < $1.key }) {
                parameters.append(["name": .string(name), "in": "query", "schema": schema])
            }
            if operation.path == "/api/logs" {
                for name in ["userId", "applicationId", "logKey"] {
                    parameters.append(["name": .string(name), "in": "query", "schema": ["type": "string"]])
                }
                for name in ["startTime", "endTime"] {
                    parameters.append(["name": .string(name), "in": "query", "schema": ["type": "integer"]])
                }
            }
            if !parameters.isEmpty { entry["parameters"] = .array(parameters) }
            paths[operation.path, default: [:]][operation.method] = .object(entry)
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "Sesame Management API", "version": "0.1.0",
                     "description": "Logto-shaped Management API and Experience API of Sesame."],
            "servers": [["url": .string(endpoint)]],
            "security": [["bearer": []]],
            "paths": .object(paths.mapValues { .object($0) }),
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                               "description": .string(bearerDescription)]],
                "schemas": .object(schemas),
            ],
        ]
    }
}
