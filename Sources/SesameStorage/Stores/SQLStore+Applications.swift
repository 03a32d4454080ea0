import Foundation
import SesameIdentity
import SesameOIDC

extension SQLStore: ClientStore, ApplicationStore {
    private static let columns = """
        id, name, description, type, secret_hash, redirect_uris, post_logout_redirect_uris, is_third_party, created_at,
        id_token_signed_response_alg, token_endpoint_auth_method, jwks, jwks_uri, token_endpoint_auth_signing_alg,
        is_device_flow
        """
    /// The columns read back, with `can_manage`: whether one of the app's roles holds the Management API's
    /// `all` permission.
    static let clientColumns = """
        applications.id, applications.name, applications.description, applications.type, applications.secret_hash,
        applications.redirect_uris, applications.post_logout_redirect_uris, applications.is_third_party,
        applications.created_at, applications.id_token_signed_response_alg, applications.token_endpoint_auth_method,
        applications.jwks, applications.jwks_uri, applications.token_endpoint_auth_signing_alg,
        applications.is_device_flow, CASE WHEN EXISTS (
            SELECT 1 FROM applications_roles ar JOIN roles_scopes rs ON rs.role_id = ar.role_id
            JOIN resource_scopes s ON s.id = rs.scope_id JOIN resources r ON r.id = s.resource_id
            WHERE ar.application_id = applications.id AND r.indicator = 'https://default.logto.app/api'
            AND s.name = 'all') THEN 1 ELSE 0 END AS can_manage
        """

    /// Inserts the application; with `canManage`, it gets the built-in "Management API access" role, and with
    /// `recoverableSecret` (a `client_secret_jwt` application's secret) a sealed copy of it, in the same transaction.
    public func insertClient(_ client: Client, recoverableSecret: String?) async throws {
        defer { clientCache.removeAll() }
        var statements: [(String, [SQLValue])] = [
            ("INSERT INTO applications (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             Self.binds(client)),
        ]
        if client.canManage {
            statements.append(("INSERT INTO applications_roles (application_id, role_id) VALUES (?, ?)",
                               [.text(client.id), .text(RoleService.managementRoleID)]))
        }
        try await writeApplication(statements, keeping: recoverableSecret, applicationID: client.id,
                                   conflict: IdentityError(.conflict, phrase: "application.id_taken"))
    }

    /// Runs `statements` and, with `recoverableSecret`, the insert of its sealed copy, in one transaction; when something
    /// is sealed, one that first proves this process's secret is still the database's (`sealing(_:)`). A
    /// unique-constraint violation becomes `conflict` when one is given.
    private func writeApplication(_ statements: [(String, [SQLValue])], keeping recoverableSecret: String?,
                                  applicationID: String, conflict: IdentityError? = nil) async throws
    {
        var statements = statements
        if let recoverableSecret {
            statements.append(try sealedSecretInsert(recoverableSecret, applicationID: applicationID))
        }
        do {
            if recoverableSecret == nil {
                try await database.transaction(statements)
            } else {
                try await sealing { [statements] database in
                    for (sql, binds) in statements { try await database.query(sql, binds) }
                }
            }
        } catch {
            if let conflict, Self.uniqueViolation(error) != nil { throw conflict }
            throw error
        }
    }

    /// The statement storing a sealed copy of `secret`, keyed by a fresh id and tied to the secret's digest.
    private func sealedSecretInsert(_ secret: String, applicationID: String) throws -> (String, [SQLValue]) {
        ("""
         INSERT INTO application_sealed_secrets (id, application_id, secret_hash, sealed_secret, created_at)
         VALUES (?, ?, ?, ?, ?)
         """, [.text(SecureRandom.identifier()), .text(applicationID), .text(SecretDigest.sha256Hex(secret)),
               .text(try secretBox.seal(Data(secret.utf8))), .date(Date())])
    }

    public func recoverableSecrets(clientID: String) async throws -> [String] {
        try await database.query("""
            SELECT id, sealed_secret FROM application_sealed_secrets WHERE application_id = ? ORDER BY created_at, id
            """, .text(clientID)).map { row in
            let plain = try secretBox.open(try row.string("sealed_secret"),
                                           subject: "a client_secret_jwt secret of application '\(clientID)'")
            return String(decoding: plain, as: UTF8.self)
        }
    }

    public func useClientAssertion(clientID: String, jti: String, expiresAt: Date) async throws -> Bool {
        do {
            try await database.query("""
                INSERT INTO client_assertions (client_id, jti_digest, expires_at) VALUES (?, ?, ?)
                """, .text(clientID), .text(SecretDigest.sha256Hex(jti)), .date(expiresAt))
            return true
        } catch {
            if Self.uniqueViolation(error) != nil { return false }
            throw error
        }
    }

    public func client(id: String) async throws -> Client? {
        try await clientCache.value(id) {
            guard var client = try await database.query("SELECT \(Self.clientColumns) FROM applications WHERE id = ?",
                                                        .text(id)).first.map(Self.clientFromRow)
            else { return nil }
            client.secrets = try await secrets(condition: "application_id = ?", [.text(id)])[id] ?? []
            return client
        }
    }

    public func clients() async throws -> [Client] {
        let secrets = try await secrets(condition: "1 = 1", [])
        return try await database.query("SELECT \(Self.clientColumns) FROM applications ORDER BY created_at, id").map {
            var client = try Self.clientFromRow($0)
            client.secrets = secrets[client.id] ?? []
            return client
        }
    }

    public func insertClientSecret(_ secret: ClientSecret, applicationID: String, recoverableSecret: String?)
        async throws
    {
        defer { clientCache.removeAll() }
        try await writeApplication([("""
            INSERT INTO application_secrets (application_id, name, secret_hash, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?)
            """, [.text(applicationID), .text(secret.name), .text(secret.hash), .date(secret.createdAt),
                  .date(secret.expiresAt)])], keeping: recoverableSecret, applicationID: applicationID,
            conflict: IdentityError(.conflict, phrase: "application.secret_name_taken", ["name": secret.name]))
    }

    /// Deletes the named secret and any sealed copy of it, in one transaction.
    public func deleteClientSecret(name: String, applicationID: String) async throws -> Bool {
        defer { clientCache.removeAll() }
        return try await database.withTransaction { database in
            let deleted = try await database.query("""
                DELETE FROM application_secrets WHERE application_id = ? AND name = ? RETURNING secret_hash
                """, .text(applicationID), .text(name))
            for row in deleted {
                try await database.query("""
                    DELETE FROM application_sealed_secrets WHERE application_id = ? AND secret_hash = ?
                    AND secret_hash NOT IN (SELECT secret_hash FROM application_secrets WHERE application_id = ?)
                    AND secret_hash NOT IN (SELECT secret_hash FROM applications WHERE id = ? AND secret_hash IS NOT NULL)
                    """, .text(applicationID), .text(try row.string("secret_hash")), .text(applicationID),
                    .text(applicationID))
            }
            return !deleted.isEmpty
        }
    }

    /// Named secrets by application, oldest first.
    private func secrets(condition: String, _ binds: [SQLValue]) async throws -> [String: [ClientSecret]] {
        var result: [String: [ClientSecret]] = [:]
        for row in try await database.query("""
            SELECT application_id, name, secret_hash, created_at, expires_at FROM application_secrets
            WHERE \(condition) ORDER BY created_at, name
            """, binds)
        {
            result[try row.string("application_id"), default: []].append(ClientSecret(
                name: try row.string("name"), hash: try row.string("secret_hash"), createdAt: try row.date("created_at"),
                expiresAt: row.optionalDate("expires_at")))
        }
        return result
    }

    /// Saves `client` and, in the same transaction, keeps its secrets in step: every sealed copy goes when it no longer
    /// uses `client_secret_jwt`, a copy of a secret it no longer has goes, a `private_key_jwt` client's named secrets go,
    /// and `recoverableSecret` (a new secret of a `client_secret_jwt` client) is sealed and kept.
    public func updateClient(_ client: Client, recoverableSecret: String?) async throws {
        defer { clientCache.removeAll() }
        let binds = Self.binds(client)
        var statements: [(String, [SQLValue])] = [("""
            UPDATE applications SET name = ?, description = ?, type = ?, secret_hash = ?, redirect_uris = ?,
            post_logout_redirect_uris = ?, is_third_party = ?, created_at = ?, id_token_signed_response_alg = ?,
            token_endpoint_auth_method = ?, jwks = ?, jwks_uri = ?, token_endpoint_auth_signing_alg = ?, is_device_flow = ?
            WHERE id = ?
            """, Array(binds.dropFirst()) + [binds[0]])]
        // The digests whose sealed copies stay: the client's secrets while it uses client_secret_jwt, else none.
        let kept = client.tokenEndpointAuthMethod == .clientSecretJWT
            ? [client.secretHash].compactMap { $0 } + client.secrets.map(\.hash) : []
        statements.append(("""
            DELETE FROM application_sealed_secrets WHERE application_id = ?
            \(kept.isEmpty ? "" : "AND secret_hash NOT IN (\(Self.placeholders(kept.count)))")
            """, [.text(client.id)] + kept.map { .text($0) }))
        if client.tokenEndpointAuthMethod == .privateKeyJWT {
            // A private_key_jwt client has no secrets (ApplicationService's rule): its named ones go with the switch.
            statements.append(("DELETE FROM application_secrets WHERE application_id = ?", [.text(client.id)]))
        }
        try await writeApplication(statements, keeping: recoverableSecret, applicationID: client.id)
    }

    public func deleteClient(id: String) async throws {
        defer { clientCache.removeAll() }
        try await database.transaction([
            ("DELETE FROM application_secrets WHERE application_id = ?", [.text(id)]),
            ("DELETE FROM application_sealed_secrets WHERE application_id = ?", [.text(id)]),
            ("DELETE FROM client_assertions WHERE client_id = ?", [.text(id)]),
            ("DELETE FROM device_codes WHERE client_id = ?", [.text(id)]),
            ("DELETE FROM applications WHERE id = ?", [.text(id)]),
        ])
    }

    private static func binds(_ client: Client) -> [SQLValue] {
        [.text(client.id), .text(client.name), .string(client.description), .text(client.type.rawValue),
         .string(client.secretHash), .json(client.redirectURIs), .json(client.postLogoutRedirectURIs),
         .bool(client.isThirdParty), .date(client.createdAt), .string(client.idTokenSignedResponseAlg?.rawValue),
         .string(client.tokenEndpointAuthMethod?.rawValue), client.jwks.map { .text($0.encodedString()) } ?? .null,
         .string(client.jwksURI), .string(client.tokenEndpointAuthSigningAlg), .bool(client.isDeviceFlow)]
    }

    static func clientFromRow(_ row: SQLRow) throws -> Client {
        guard let type = ApplicationType(rawValue: try row.string("type")) else { throw StorageError.corrupt("type") }
        var client = Client(
            id: try row.string("id"), name: try row.string("name"), description: row.optionalString("description"),
            type: type, secretHash: row.optionalString("secret_hash"), redirectURIs: try row.json("redirect_uris"),
            postLogoutRedirectURIs: try row.json("post_logout_redirect_uris"),
            isThirdParty: try row.bool("is_third_party"), canManage: try row.bool("can_manage"),
            createdAt: try row.date("created_at"),
            idTokenSignedResponseAlg: try row.optionalString("id_token_signed_response_alg").map {
                guard let algorithm = SigningAlgorithm(rawValue: $0) else {
                    throw StorageError.corrupt("id_token_signed_response_alg")
                }
                return algorithm
            })
        client.tokenEndpointAuthMethod = try row.optionalString("token_endpoint_auth_method").map {
            guard let method = ClientAuthenticationMethod(rawValue: $0) else {
                throw StorageError.corrupt("token_endpoint_auth_method")
            }
            return method
        }
        client.jwks = try row.optionalString("jwks").map {
            guard let jwks = try? JSONValue.decode(Data($0.utf8)) else { throw StorageError.corrupt("jwks") }
            return jwks
        }
        client.jwksURI = row.optionalString("jwks_uri")
        client.tokenEndpointAuthSigningAlg = row.optionalString("token_endpoint_auth_signing_alg")
        client.isDeviceFlow = try row.bool("is_device_flow")
        return client
    }
}
