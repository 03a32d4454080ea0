import Foundation
import Logging
import SesameConnectors
import SesameIdentity
import SesameOIDC
import SesameStorage

/// The open database and the services built on it, shared by the server and the CLI verbs.
public struct SesameRuntime: Sendable {
    public let configuration: ServerConfiguration
    public let database: any SQLDatabase
    /// Prometheus metrics of this runtime (`GET /metrics` on `SESAME_METRICS_ADDRESS`).
    public let metrics = SesameMetrics()
    /// Discovery and the JWKS as last rendered, answered in the channel pipeline (`PublishedDocumentHandler`).
    public let publishedDocuments = PublishedDocuments()
    public let store: SQLStore
    public let provider: OIDCProvider
    public let users: UserService
    public let applications: ApplicationService
    public let resources: ResourceService
    /// Roles and who holds them (RBAC).
    public let roles: RoleService
    /// Organizations, the organization template and memberships.
    public let organizations: OrganizationService
    /// Invitations to organizations; sending them is `sendInvitation` (SesameRuntime+Invitations).
    public let invitations: OrganizationInvitationService
    public let rateLimiter: RateLimiter
    public let connectors: ConnectorService
    public let codes: VerificationCodeService
    public let mfa: MfaService
    public let audit: AuditLogger
    /// Console administrators and their sessions.
    public let administrators: AdministratorService
    /// Set when `SESAME_DEV_MAILBOX=1`: recent messages for `/dev/mailbox`.
    public let mailbox: DevMailbox?
    /// Signs CSRF tokens; a key of its own, derived from SESAME_SECRET.
    public let csrf: SecretBox
    public let logger: Logger

    /// Opens the database and applies pending migrations.
    public static func open(_ configuration: ServerConfiguration, logger: Logger,
                            now: @escaping @Sendable () -> Date = { Date() }) async throws -> SesameRuntime
    {
        let database = try await DatabaseURL.open(configuration.databaseURL, logger: logger)
        do {
            let applied = try await Migrator(database: database).migrate(now: now())
            if !applied.isEmpty { logger.info("applied migrations", metadata: ["versions": "\(applied)"]) }
        } catch {
            try? await database.close()
            throw error
        }
        let runtime = SesameRuntime(configuration: configuration, database: database, logger: logger, now: now)
        do {
            // Every process that opens the database must hold the secret it was sealed with.
            try await runtime.store.verifySecret(configuration.secret)
        } catch {
            try? await database.close()
            throw error
        }
        try await runtime.ensureManagementResource()
        return runtime
    }

    init(configuration: ServerConfiguration, database: any SQLDatabase, logger: Logger,
         now: @escaping @Sendable () -> Date)
    {
        self.configuration = configuration
        self.database = database
        self.logger = logger
        store = SQLStore(database: database, secretBox: SecretBox(secret: configuration.secret),
                         secret: configuration.secret)
        users = UserService(store: store, claimsStore: store, hasher: PasswordHasher(), now: now)
        var providerConfiguration = ProviderConfiguration(issuer: configuration.issuer)
        providerConfiguration.keyActivationDelay = configuration.keyActivationDelay
        providerConfiguration.defaultSigningAlgorithm = configuration.defaultSigningAlgorithm
        provider = OIDCProvider(configuration: providerConfiguration, storage: store, accounts: users,
                                keySetFetcher: HTTPKeySetFetcher(), now: now)
        applications = ApplicationService(store: store, now: now)
        resources = ResourceService(store: store, protectedIndicator: provider.configuration.managementResource,
                                    now: now)
        roles = RoleService(store: store, users: store, applications: store,
                            managementIndicator: provider.configuration.managementResource, now: now)
        organizations = OrganizationService(store: store, roles: roles, now: now)
        invitations = OrganizationInvitationService(store: store, organizations: organizations, now: now)
        rateLimiter = RateLimiter(store: store, now: now)
        connectors = ConnectorService(store: store, context: ConnectorContext(logger: logger), now: now)
        codes = VerificationCodeService(store: store, limiter: rateLimiter,
                                        digestKey: SecretBox(secret: configuration.secret, purpose: "sesame.codes"),
                                        now: now)
        mfa = MfaService(store: store, box: SecretBox(secret: configuration.secret), limiter: rateLimiter, now: now)
        mailbox = configuration.isDevMailboxEnabled ? DevMailbox() : nil
        audit = AuditLogger(store: store, logger: logger)
        administrators = AdministratorService(store: store, limiter: rateLimiter, now: now)
        csrf = SecretBox(secret: configuration.secret, purpose: "sesame.csrf")
    }

    /// The Management API's resource (Logto's indicator, scope `all`), created on first start, and its
    /// permission on the built-in "Management API access" role.
    func ensureManagementResource() async throws {
        let indicator = provider.configuration.managementResource
        if try await store.resource(indicator: indicator) == nil {
            do {
                _ = try await resources.create(name: "Management API", indicator: indicator, scopes: ["all"])
            } catch let error as IdentityError where error.code == .conflict {
                // Another instance created it first.
            }
        }
        try await store.linkManagementRole(indicator: indicator)
    }

    /// The Console's one-time setup link while no administrator exists, else nil.
    public func consoleSetupLink() async throws -> String? {
        guard try await administrators.needsSetup() else { return nil }
        let token = try await administrators.makeSetupToken()
        return configuration.endpoint + "/console/setup?token=" + token
    }

    public func close() async throws {
        await audit.flush()
        try await database.close()
    }

    /// Makes a new signing key. It is published at once and signs after the activation delay (until then
    /// the previous key does); earlier keys stay published until their tokens expire.
    /// `immediately`: the new key signs at once (dated back by the activation delay), for a server that
    /// has issued no tokens yet, as when choosing the algorithm at setup.
    public func rotateKeys(algorithm: SigningAlgorithm, immediately: Bool = false) async throws -> SigningKey {
        let now = provider.now()
        _ = try await provider.keys.snapshot()  // the first key exists before it is retired
        let key = try SigningKey.generate(
            algorithm, now: immediately ? now.addingTimeInterval(-provider.configuration.keyActivationDelay) : now)
        try await store.rotate(to: key, now: now)
        try await store.deleteSigningKeys(retiredBefore: now.addingTimeInterval(-provider.configuration.retiredKeyRetention))
        await provider.keys.invalidate()
        return key
    }
}
