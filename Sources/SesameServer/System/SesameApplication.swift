import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SesameOIDC
import SesameStorage

/// Builds the HTTP application: routes by surface, middleware, and the background services.
public enum SesameApplication {
    /// The `Server` header of every answer.
    static let serverName = "Sesame"

    /// `maximumConnections`: how many connections are served at once (`ConnectionLimits`); idle connections
    /// close after `ConnectionLimits.idleTimeout` seconds.
    public static func build(runtime: SesameRuntime, maximumConnections: Int = 1024,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        let router = buildRouter(runtime: runtime)
        let configuration = runtime.configuration
        return Application(
            router: router,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [
                    RequestDeadlineHandler(deadline: ConnectionLimits.requestDeadline),
                    // It also keeps the idle timeout: it alone sees every request and answer.
                    PublishedDocumentHandler(documents: runtime.publishedDocuments, logger: runtime.logger,
                                             metrics: runtime.metrics,
                                             idleTimeout: .seconds(ConnectionLimits.idleTimeout)),
                ])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                 serverName: serverName,
                                 availableConnectionsDelegate: .maximum(maximumConnections, logger: runtime.logger)),
            services: [ExpiryService(store: runtime.store, interval: .seconds(300), logger: runtime.logger),
                       AuditFlushService(audit: runtime.audit)],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: runtime.logger)
    }

    /// The metrics listener on `SESAME_METRICS_ADDRESS`, apart from the public one: `GET /metrics` in the
    /// Prometheus text format (version 0.0.4), nothing else. Nil when no address is configured.
    public static func buildMetrics(runtime: SesameRuntime) -> (any ApplicationProtocol)? {
        guard let address = runtime.configuration.metricsAddress else { return nil }
        let router = Router()
        router.get("metrics") { _, _ in
            let keys = try? await runtime.provider.keys.snapshot()
            let body = runtime.metrics.scrape(
                database: runtime.database.statistics,
                signingKeys: keys.map { snapshot in
                    snapshot.algorithms.compactMap { algorithm in
                        snapshot.currentByAlgorithm[algorithm].map { (algorithm.rawValue, $0.createdAt) }
                    }
                } ?? [],
                now: runtime.provider.now())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8",
                                                   .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        return Application(router: router, configuration: .init(address: .hostname(address.host, port: address.port),
                                                                serverName: "Sesame metrics"),
                           logger: runtime.logger)
    }

    public static func buildRouter(runtime: SesameRuntime) -> Router<SesameRequestContext> {
        // HEAD wherever GET works (RFC 9110 §9.3.2): the GET route's status and headers, no body.
        let router = Router(context: SesameRequestContext.self, options: .autoGenerateHeadEndpoints)
        let pages = PageRenderer()
        let cookies = CookieJar(isSecure: runtime.configuration.isSecure)
        router.add(middleware: ClientAddressMiddleware(proxies: runtime.configuration.trustedProxies))
        router.add(middleware: CORSMiddleware())
        router.add(middleware: ErrorMiddleware(pages: pages, metrics: runtime.metrics))
        router.add(middleware: BodyLimitMiddleware())
        OIDCRoutes(runtime: runtime, pages: pages, cookies: cookies,
                   clientGuard: ClientAuthenticationGuard(limiter: runtime.rateLimiter)).register(on: router)
        let signIn = SignInRoutes(runtime: runtime, pages: pages, cookies: cookies)
        let codeFlows = CodeFlowRoutes(runtime: runtime, pages: pages, cookies: cookies)
        signIn.register(on: router)
        codeFlows.register(on: router)
        InvitationPageRoutes(runtime: runtime, pages: pages, cookies: cookies).register(on: router)
        DeviceRoutes(runtime: runtime, pages: pages, cookies: cookies).register(on: router)
        MfaPageRoutes(runtime: runtime, pages: pages, cookies: cookies).register(on: router)
        AccountRoutes(runtime: runtime, pages: pages, cookies: cookies).register(on: router)
        PreviewRoutes(runtime: runtime, signIn: signIn, codeFlows: codeFlows,
                      mfa: MfaPageRoutes(runtime: runtime, pages: pages, cookies: cookies)).register(on: router)
        ExperienceRoutes(runtime: runtime, pages: pages, cookies: cookies).register(on: router)
        BrandingAssetRoutes(runtime: runtime).register(on: router)
        let openAPI = OpenAPIDocument.document(endpoint: runtime.configuration.endpoint).encoded()
        router.get("api/swagger.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(bytes: openAPI)))
        }
        let management = router.group("api").add(middleware: ManagementAuth(runtime: runtime))
        ApplicationsRoutes(runtime: runtime).register(on: management)
        UsersRoutes(runtime: runtime).register(on: management)
        RolesRoutes(runtime: runtime).register(on: management)
        OrganizationsRoutes(runtime: runtime).register(on: management)
        OrganizationInvitationsRoutes(runtime: runtime).register(on: management)
        SettingsRoutes(runtime: runtime).register(on: management)
        ConsoleRoutes(runtime: runtime, cookies: cookies).register(on: router)
        if let mailbox = runtime.mailbox {
            router.get("dev/mailbox") { _, _ in Responses.json(.array(mailbox.all), headers: [.cacheControl: "no-store"]) }
        }
        router.get("api/status") { _, _ in
            Response(status: .noContent)
        }
        // Readiness: 204 once the database answers and every migration this binary knows is applied; 503 (with
        // `Retry-After`) otherwise, so a load balancer sends nothing to an instance that cannot serve.
        router.get("api/status/ready") { _, _ in
            let applied = Set(try await Migrator(database: runtime.database).appliedVersions())
            let pending = Migration.all.map(\.version).filter { !applied.contains($0) }
            guard pending.isEmpty else {
                return Responses.json(["code": "migrations_pending",
                                       "message": .string("migrations not applied: \(pending)")],
                                      status: .serviceUnavailable, headers: [.retryAfter: "5", .cacheControl: "no-store"])
            }
            return Response(status: .noContent, headers: [.cacheControl: "no-store"])
        }
        router.get("/") { _, _ in
            Responses.redirect("/sign-in")
        }
        return router
    }
}
