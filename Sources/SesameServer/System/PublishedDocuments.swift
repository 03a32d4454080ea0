import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The discovery document and the JWKS as last served by their routes, ready to be sent again as they are.
///
/// They are the two requests relying parties and resource servers make most, and the cheapest: precomputed bytes. Served
/// through the router, most of their time went to carrying each request into Swift Concurrency and back (seen with
/// `perf`), so `PublishedDocumentHandler` answers them in the channel pipeline instead, from what the routes last
/// rendered. A rendering is used for `freshness` seconds; after that the next request goes through the route, which
/// renders it again (so a rotated key reaches the JWKS as fast as before: the key ring is re-read every 5 s).
public final class PublishedDocuments: Sendable {
    struct Document {
        let body: ByteBuffer
        let contentType: String
        let cacheControl: String
        let renderedAt: NIODeadline
    }

    /// How long a rendering is served from here, in seconds.
    static let freshness: TimeAmount = .seconds(1)
    private let documents = Mutex<[String: Document]>([:])

    public init() {}

    /// Records what the route at `path` just served.
    func publish(path: String, body: ByteBuffer, contentType: String, cacheControl: String) {
        let document = Document(body: body, contentType: contentType, cacheControl: cacheControl, renderedAt: .now())
        documents.withLock { $0[path] = document }
    }

    /// The rendering of `path`, when it is fresh enough.
    func document(path: Substring) -> Document? {
        let now = NIODeadline.now()
        return documents.withLock { documents in
            guard let document = documents[String(path)], now - document.renderedAt < Self.freshness else { return nil }
            return document
        }
    }
}

/// Answers `GET` of a published document (`PublishedDocuments`) on the connection's event loop, with the headers, the
/// request id, the access log line and the metrics the router's answer has, and hands every other request on
/// unchanged. It sits after HTTP decoding and before Hummingbird's connection handling.
///
/// HTTP/1.1 pipelining: answers must leave in the order requests came. A request is answered here only when no earlier
/// request of the connection still awaits its answer (requests handed on are counted until their answer's end is
/// written), so an answer from here never overtakes one from the router. A request asking to close the connection, a
/// `HEAD`, a request with a body or `Expect`, and any request while the connection's outbound buffer is full (a client
/// that sends without reading: the router's path holds reading back) go the usual way. After a request asking to close
/// is handed on, nothing more is read from the connection, and it is closed once that request is answered. A graceful
/// shutdown's quiesce event waits for an answer under way here.
///
/// The connection's idle timeout lives here too (Hummingbird's own is off), since only this handler sees every request
/// and every answer: a connection is closed once `idleTimeout` has passed with no request being answered and nothing
/// read, or with a request's head read and the rest stalled.
final class PublishedDocumentHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let documents: PublishedDocuments
    private let logger: Logger
    private let metrics: SesameMetrics
    private let idleTimeout: TimeAmount
    /// Requests handed on whose answer has not been written to its end.
    private var awaitingAnswers = 0
    /// Between a request's head and its end.
    private var isReadingRequest = false
    /// The last read, or the last answer finished.
    private var lastActive = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?
    /// A request asking to close the connection was handed on: later requests are dropped, and the connection closes
    /// once the answers handed on are written.
    private var closing = false
    /// A quiesce event that arrived while a request was being answered here, delivered after the answer.
    private var pendingQuiesce: Any?
    /// The request being answered here, between its head and its end.
    private var answering: Answering?

    private struct Answering {
        let document: PublishedDocuments.Document
        let path: Substring
        let requestID: String
        /// The request named an `Origin`: the answer allows any (as `CORSMiddleware` does for these paths).
        let cors: Bool
        let started: ContinuousClock.Instant
    }

    /// `idleTimeout`: how long a connection may sit with nothing to do (`ConnectionLimits.idleTimeout`).
    init(documents: PublishedDocuments, logger: Logger, metrics: SesameMetrics, idleTimeout: TimeAmount) {
        self.documents = documents
        self.logger = logger
        self.metrics = metrics
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { scheduleIdleCheck(context, at: .now() + idleTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        lastActive = .now()
        scheduleIdleCheck(context, at: lastActive + idleTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
    }

    private func scheduleIdleCheck(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        guard idleCheck == nil else { return }
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.idleCheck = nil
            self.checkIdle(context)
        }
    }

    private func checkIdle(_ context: ChannelHandlerContext) {
        // Read whole and being answered by the router: its answer's end schedules the next check.
        if !isReadingRequest, awaitingAnswers > 0 { return }
        let due = lastActive + idleTimeout
        if NIODeadline.now() >= due {
            context.close(promise: nil)
        } else {
            scheduleIdleCheck(context, at: due)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if closing { return }
        lastActive = .now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            isReadingRequest = true
            let asksToClose = head.headerFields[.connection].map { $0.lowercased().contains("close") } ?? false
            let hasBody = (head.headerFields[.contentLength].flatMap { Int($0) } ?? 0) > 0
                || head.headerFields[.transferEncoding] != nil || head.headerFields[.expect] != nil
            if awaitingAnswers == 0, head.method == .get, !asksToClose, !hasBody, context.channel.isWritable,
               let target = head.path
            {
                let path = target.prefix { $0 != "?" }
                if let document = documents.document(path: path) {
                    let requestID = head.headerFields[ErrorMiddleware.requestIDHeader]
                        .flatMap(ErrorMiddleware.acceptedRequestID) ?? ErrorMiddleware.newRequestID()
                    answering = Answering(document: document, path: path, requestID: requestID,
                                          cors: head.headerFields[.origin] != nil, started: .now)
                    return
                }
            }
            awaitingAnswers += 1
            if asksToClose { closing = true }
        case .body:
            if answering != nil { return }
        case .end:
            isReadingRequest = false
            if let answering {
                self.answering = nil
                answer(answering, context: context)
                if let event = pendingQuiesce {
                    pendingQuiesce = nil
                    context.fireUserInboundEventTriggered(event)
                }
                return
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        guard isEnd else { return }
        awaitingAnswers = max(0, awaitingAnswers - 1)
        guard awaitingAnswers == 0 else { return }
        lastActive = .now()
        if closing {
            context.flush()
            context.close(promise: nil)
        } else {
            scheduleIdleCheck(context, at: lastActive + idleTimeout)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Hummingbird closes a connection it thinks idle on quiesce; it does not see a request answered here.
        if event is ChannelShouldQuiesceEvent, answering != nil {
            pendingQuiesce = event
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func answer(_ request: Answering, context: ChannelHandlerContext) {
        var headers = HTTPFields()
        headers[.contentType] = request.document.contentType
        headers[.cacheControl] = request.document.cacheControl
        headers[.contentLength] = String(request.document.body.readableBytes)
        headers[ErrorMiddleware.requestIDHeader] = request.requestID
        if request.cors { headers[.accessControlAllowOrigin] = "*" }
        headers[.date] = HTTPDate.current()
        headers[.server] = SesameApplication.serverName
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(request.document.body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        lastActive = .now()
        var logger = logger
        logger[metadataKey: "request_id"] = "\(request.requestID)"
        ErrorMiddleware.record(method: "GET", path: String(request.path), route: String(request.path), status: 200,
                               duration: ContinuousClock.now - request.started, logger: logger, metrics: metrics)
    }
}

/// The `Date` header's value (RFC 9110 §5.6.7, IMF-fixdate); `strftime`'s `%a` and `%b` are English in the C locale,
/// which a server process keeps.
enum HTTPDate {
    private static let text = SecondText(format: "%a, %d %b %Y %H:%M:%S GMT", utc: true)

    static func current() -> String { text.current() }
}
