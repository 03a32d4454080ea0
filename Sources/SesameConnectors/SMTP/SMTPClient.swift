import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A small SMTP client (RFC 5321) on SwiftNIO: EHLO, STARTTLS (RFC 3207) or implicit TLS, AUTH PLAIN
/// and LOGIN (RFC 4954), multi-line replies, and a time limit for the whole exchange.
struct SMTPClient: Sendable {
    enum Security: String, Sendable { case starttls, tls, none }

    struct Settings: Sendable {
        var host: String
        var port: Int
        var security: Security
        var username: String?
        var password: String?
        var trustedCertificatePEM: String?
        var heloName: String
        var timeout: Duration
    }

    struct Reply {
        let code: Int
        let lines: [String]
        var text: String { lines.joined(separator: " ") }
    }

    let settings: Settings

    func send(_ message: MIMEMessage) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await run(message) }
            group.addTask {
                try await Task.sleep(for: settings.timeout)
                throw ConnectorError(.timeout, "the SMTP server \(settings.host):\(settings.port) did not finish within "
                    + "\(settings.timeout.components.seconds) s")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func tlsContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        // A server that never answers close_notify must not hold the connection open.
        configuration.shutdownTimeout = .seconds(1)
        if let pem = settings.trustedCertificatePEM {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
            } catch {
                throw ConnectorError(.invalidConfig, "'trustedCertificate' is not a PEM certificate")
            }
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// SNI and hostname verification use the host name; an IP address is checked against the certificate's
    /// IP addresses instead.
    private var serverHostname: String? {
        (try? SocketAddress(ipAddress: settings.host, port: 0)) == nil ? settings.host : nil
    }

    private func run(_ message: MIMEMessage) async throws {
        let security = settings.security
        let implicitTLS = security == .tls ? try tlsContext() : nil
        let hostname = serverHostname
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: settings.host, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let implicitTLS {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: implicitTLS, serverHostname: hostname))
                        }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ConnectorError(.providerError, "cannot connect to the SMTP server \(settings.host):\(settings.port)")
        }
        let raw = channel.channel
        try await channel.executeThenClose { inbound, outbound in
            var replies = ReplyReader(iterator: inbound.makeAsyncIterator())
            func command(_ line: String, expect codes: Set<Int>, failure: ConnectorError.Code = .providerError,
                         shown: String? = nil) async throws -> Reply
            {
                try await outbound.write(ByteBuffer(string: line + "\r\n"))
                let reply = try await replies.next()
                guard codes.contains(reply.code) else {
                    throw ConnectorError(failure, "SMTP \(shown ?? line.split(separator: " ").first.map(String.init) ?? line) "
                        + "was refused: \(reply.code) \(reply.text)")
                }
                return reply
            }
            let greeting = try await replies.next()
            guard greeting.code == 220 else {
                throw ConnectorError(.providerError, "the SMTP server refused the connection: \(greeting.code) \(greeting.text)")
            }
            var capabilities = try await command("EHLO \(settings.heloName)", expect: [250]).lines
            if security == .starttls {
                guard capabilities.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                    throw ConnectorError(.invalidConfig, "the SMTP server does not offer STARTTLS; use security \"tls\" or \"none\"")
                }
                _ = try await command("STARTTLS", expect: [220])
                let context = try tlsContext()
                try await raw.eventLoop.submit {
                    try raw.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: hostname), position: .first)
                }.get()
                capabilities = try await command("EHLO \(settings.heloName)", expect: [250]).lines
            }
            if let username = settings.username {
                let password = settings.password ?? ""
                let mechanisms = capabilities.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased() ?? ""
                if mechanisms.contains("PLAIN") {
                    let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
                    _ = try await command("AUTH PLAIN \(token)", expect: [235], failure: .authFailed, shown: "AUTH PLAIN")
                } else if mechanisms.contains("LOGIN") {
                    _ = try await command("AUTH LOGIN", expect: [334], failure: .authFailed)
                    _ = try await command(Data(username.utf8).base64EncodedString(), expect: [334], failure: .authFailed,
                                          shown: "AUTH LOGIN user name")
                    _ = try await command(Data(password.utf8).base64EncodedString(), expect: [235], failure: .authFailed,
                                          shown: "AUTH LOGIN password")
                } else {
                    throw ConnectorError(.invalidConfig, "the SMTP server offers no AUTH PLAIN or LOGIN"
                        + (security == .none ? " on a plain connection; try security \"starttls\"" : ""))
                }
            }
            _ = try await command("MAIL FROM:<\(message.fromAddress)>", expect: [250], shown: "MAIL FROM")
            _ = try await command("RCPT TO:<\(message.to)>", expect: [250, 251], shown: "RCPT TO")
            _ = try await command("DATA", expect: [354])
            // Dot-stuffing (RFC 5321 §4.5.2), then the terminating line.
            let stuffed = message.rendered().split(separator: "\r\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
            _ = try await command(stuffed + ".", expect: [250], shown: "message")
            try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
        }
    }

    /// Reads CRLF lines and groups continuation lines (`250-...`) into one reply.
    struct ReplyReader {
        var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        var buffer = ByteBuffer()

        mutating func line() async throws -> String {
            while true {
                let view = buffer.readableBytesView
                if let index = view.firstIndex(of: UInt8(ascii: "\n")) {
                    let length = index - view.startIndex + 1
                    let line = buffer.readString(length: length) ?? ""
                    return line.trimmingCharacters(in: CharacterSet(charactersIn: "\r\n"))
                }
                guard var chunk = try await iterator.next() else {
                    throw ConnectorError(.providerError, "the SMTP server closed the connection")
                }
                if buffer.readableBytes + chunk.readableBytes > 64 * 1024 {
                    throw ConnectorError(.providerError, "the SMTP server sent an overlong reply")
                }
                buffer.writeBuffer(&chunk)
            }
        }

        mutating func next() async throws -> Reply {
            var lines: [String] = []
            while true {
                let line = try await line()
                guard line.count >= 3, let code = Int(line.prefix(3)) else {
                    throw ConnectorError(.providerError, "the SMTP server sent a malformed reply")
                }
                lines.append(String(line.dropFirst(4)))
                let separator = line.dropFirst(3).first
                if separator != "-" { return Reply(code: code, lines: lines) }
            }
        }
    }
}
