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
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address, for per-IP limits (the direct peer: Sesame does not trust forwarded headers).
    public var clientIP: String {
        remoteAddress?.ipAddress ?? "unknown"
    }
}
