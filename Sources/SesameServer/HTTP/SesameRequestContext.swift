import Hummingbird
import NIOCore
import SesameIdentity

/// Per-request data: Hummingbird's core storage plus the peer address (for rate limits).
public struct SesameRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The Management API caller, once its token checked out.
    public var managementClientID: String?
    /// The Console administrator, once their session cookie checked out, and that cookie's token.
    public var administrator: Administrator?
    var consoleSessionToken: String?

    public init(source: ApplicationRequestContextSource) {
        self.init(coreContext: .init(source: source), remoteAddress: source.channel.remoteAddress)
    }

    /// The client's IP address, for per-IP limits and the audit log: the direct peer, or, behind a trusted
    /// reverse proxy, the address it forwarded (set by `ClientAddressMiddleware`, `TrustedProxies`).
    public var clientIP: String

    init(coreContext: CoreRequestContextStorage, remoteAddress: SocketAddress?) {
        self.coreContext = coreContext
        self.remoteAddress = remoteAddress
        clientIP = remoteAddress?.ipAddress ?? "unknown"
    }
}
