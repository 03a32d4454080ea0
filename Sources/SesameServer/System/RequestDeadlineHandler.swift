import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request has not fully arrived `deadline` after its head: a body trickled in a
/// byte at a time would otherwise hold a connection and a handler for as long as the client likes (the idle
/// timeout only catches gaps). The timer is armed only when a read ends with a request still incomplete, so a
/// request that arrives whole in one read (a GET, a small form) schedules nothing.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let deadline: TimeAmount
    private var timer: Scheduled<Void>?
    /// When the head of the request being read arrived; nil between requests.
    private var headArrivedAt: NIODeadline?

    init(deadline: TimeAmount) {
        self.deadline = deadline
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            headArrivedAt = .now()
        case .body:
            break
        case .end:
            headArrivedAt = nil
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let headArrivedAt, timer == nil {
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(deadline: headArrivedAt + deadline) { channel.close(promise: nil) }
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }
}
