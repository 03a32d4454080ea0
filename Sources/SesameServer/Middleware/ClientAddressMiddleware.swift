import HTTPTypes
import Hummingbird

/// Sets `SesameRequestContext.clientIP` before any route or limit reads it: the peer, or behind a trusted
/// reverse proxy the address the proxy forwarded (`TrustedProxies`).
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = SesameRequestContext
    let proxies: TrustedProxies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard !proxies.networks.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientIP = proxies.clientAddress(
            peer: context.remoteAddress?.ipAddress, forwarded: request.headers[values: .forwarded],
            xForwardedFor: request.headers[values: .xForwardedFor])
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let forwarded = Self("Forwarded")!
    static let xForwardedFor = Self("X-Forwarded-For")!
}
