import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SesameOIDC

/// Fetches `private_key_jwt` clients' JWK Sets from their `jwks_uri` (OpenID Connect Registration §2) with
/// AsyncHTTPClient: GET, `Accept: application/json`, at most `timeout` for the whole exchange and `maximumBytes` of
/// body; any status but 200 is a failure, redirects included: the URI was checked when it was registered (https, or
/// http on loopback), and a redirect could lead to plain http elsewhere or to an internal host. The engine
/// (`ClientKeySets`) caches what this returns.
struct HTTPKeySetFetcher: KeySetFetcher {
    /// Seconds allowed for connecting, sending and reading the whole answer.
    var timeout: TimeAmount = .seconds(5)
    /// The largest body accepted, in bytes.
    var maximumBytes = 64 * 1024
    var client: HTTPClient = Self.withoutRedirects

    /// A process-wide client that never follows redirects (never shut down: it lives as long as the process).
    static let withoutRedirects: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    struct FetchError: Error, CustomStringConvertible {
        let description: String
    }

    func fetchKeySet(from uri: String) async throws -> Data {
        // The deadline covers the body too: a server dripping bytes cannot hold a token request longer than `timeout`.
        try await withThrowingTaskGroup(of: Data.self) { group in
            group.addTask { try await fetch(uri) }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(timeout.nanoseconds))
                throw FetchError(description: "\(uri) did not answer within \(timeout.nanoseconds / 1_000_000_000) s")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private func fetch(_ uri: String) async throws -> Data {
        var request = HTTPClientRequest(url: uri)
        request.method = .GET
        request.headers.add(name: "Accept", value: "application/json, application/jwk-set+json")
        let response = try await client.execute(request, timeout: timeout)
        guard response.status.code == 200 else {
            throw FetchError(description: "\(uri) answered HTTP \(response.status.code)")
        }
        do {
            return Data(try await response.body.collect(upTo: maximumBytes).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw FetchError(description: "\(uri) answered more than \(maximumBytes) bytes")
        }
    }
}
