import Logging
import MeridianTransport
import MeridianWire
import NIOCore

/// One request written to the channel: a message and, when a reply is expected, the promise
/// the reply completes. The handler assigns the request id.
struct OutboundRequest: Sendable {
    var message: ClientMessage
    var reply: EventLoopPromise<ServerMessage>?
    var timeout: TimeAmount
}

/// Outbound user event: changes the simulated one-way delay of this connection.
struct SetSimulatedDelay: Sendable {
    var delay: TimeAmount
}

/// Everything a connection does on its event loop: assigns request ids, matches replies to
/// requests, times requests out, delays traffic by the simulated distance, hands pushes
/// (request id 0) to the owner, and reports why the connection closed.
///
/// All state is confined to the event loop, so a connection costs no lock and no thread; a
/// timeout is one scheduled task per outstanding request.
final class ClientChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutboundRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var promise: EventLoopPromise<ServerMessage>
        var timeout: Scheduled<Void>?
    }

    private enum Inbound {
        case message(ServerMessage)
        case closed
    }

    private let onPush: @Sendable (ServerMessage) -> Void
    private let onClose: @Sendable (MeridianClientError) -> Void
    private let received: ByteCounter?
    private let logger: Logger

    private var nextRequestID: UInt64 = 1
    private var pending: [UInt64: Pending] = [:]
    private var delay: TimeAmount
    private var outboundLine = DelayLine<(ByteBuffer, EventLoopPromise<Void>?)>()
    private var inboundLine = DelayLine<Inbound>()
    /// Why we closed the connection ourselves (a bad frame), if we did.
    private var localCloseReason: MeridianClientError?
    /// The last `Error` the gateway pushed: it says why the gateway closed the connection.
    private var lastServerError: MeridianClientError?
    private var closeRequested = false
    private var finished = false
    private var context: ChannelHandlerContext?

    init(
        delay: TimeAmount,
        logger: Logger,
        received: ByteCounter? = nil,
        onPush: @escaping @Sendable (ServerMessage) -> Void,
        onClose: @escaping @Sendable (MeridianClientError) -> Void
    ) {
        self.delay = delay
        self.received = received
        self.logger = logger
        self.onPush = onPush
        self.onClose = onClose
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    // MARK: outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var request = unwrapOutboundIn(data)
        if finished {
            let error = closedError()
            request.reply?.fail(error)
            promise?.fail(error)
            return
        }
        if let reply = request.reply {
            let id = nextRequestID
            nextRequestID &+= 1
            request.message.requestID = id
            let timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: request.timeout) {
                self.timeOut(id, after: request.timeout)
            }
            pending[id] = Pending(promise: reply, timeout: timeoutTask)
        } else {
            request.message.requestID = 0
        }
        let frame: ByteBuffer
        do {
            frame = try ClientFraming.frame(request.message)
        } catch {
            let failure = MeridianClientError(.malformed, "could not serialize the request (\(error)); this is a client bug")
            if request.message.requestID != 0, let entry = pending.removeValue(forKey: request.message.requestID) {
                entry.timeout?.cancel()
                entry.promise.fail(failure)
            }
            promise?.fail(failure)
            return
        }
        if delay == .zero {
            context.write(wrapOutboundOut(frame), promise: promise)
        } else {
            outboundLine.append((frame, promise), deadline: .now() + delay)
            scheduleOutbound(context: context)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let change = event as? SetSimulatedDelay {
            delay = change.delay
            promise?.succeed()
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        closeRequested = true
        context.close(mode: mode, promise: promise)
    }

    private func scheduleOutbound(context: ChannelHandlerContext) {
        guard !outboundLine.isScheduled, let deadline = outboundLine.nextDeadline else { return }
        outboundLine.isScheduled = true
        context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.releaseOutbound()
        }
    }

    private func releaseOutbound() {
        outboundLine.isScheduled = false
        guard let context else { return }
        let due = outboundLine.popDue(now: .now())
        for (frame, promise) in due {
            context.write(wrapOutboundOut(frame), promise: promise)
        }
        if !due.isEmpty { context.flush() }
        scheduleOutbound(context: context)
    }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        received?.add(4 + frame.readableBytes)
        let message: ServerMessage
        do {
            message = try ClientFraming.decodeServerMessage(frame)
        } catch {
            closeLocally(context: context, error)
            return
        }
        if delay == .zero && inboundLine.isEmpty {
            deliver(message)
        } else {
            inboundLine.append(.message(message), deadline: .now() + delay)
            scheduleInbound(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let transport = error as? TransportError, transport.code == .frameTooLarge {
            closeLocally(context: context, MeridianClientError(.frameTooLarge, "\(transport.message); raise ClientConnectionConfiguration.maxInboundFrameBytes if the gateway really sends such frames"))
        } else if let clientError = error as? MeridianClientError {
            closeLocally(context: context, clientError)
        } else {
            closeLocally(context: context, MeridianClientError(.connectionClosed, "the connection failed (\(error)); reconnect"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if inboundLine.isEmpty {
            finish()
        } else {
            // Deliver what is still "in flight" (typically the Error saying why) before closing.
            inboundLine.append(.closed, deadline: .now() + delay)
            scheduleInbound(context: context)
        }
        context.fireChannelInactive()
    }

    private func closeLocally(context: ChannelHandlerContext, _ error: MeridianClientError) {
        if localCloseReason == nil { localCloseReason = error }
        logger.debug("closing the gateway connection", metadata: ["meridian.reason": "\(error)"])
        context.close(promise: nil)
    }

    private func scheduleInbound(context: ChannelHandlerContext) {
        guard !inboundLine.isScheduled, let deadline = inboundLine.nextDeadline else { return }
        inboundLine.isScheduled = true
        context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.releaseInbound()
        }
    }

    private func releaseInbound() {
        inboundLine.isScheduled = false
        for item in inboundLine.popDue(now: .now()) {
            switch item {
            case .message(let message): deliver(message)
            case .closed: finish()
            }
        }
        if let context { scheduleInbound(context: context) }
    }

    private func deliver(_ message: ServerMessage) {
        guard !finished else { return }
        if message.requestID != 0 {
            guard let entry = pending.removeValue(forKey: message.requestID) else {
                logger.trace("reply to a request that is no longer waiting", metadata: ["meridian.request": "\(message.requestID)"])
                return
            }
            entry.timeout?.cancel()
            if case .error(let error) = message.body {
                let failure = MeridianClientError(server: error)
                if failure.serverCode?.closesConnection == true { lastServerError = failure }
                entry.promise.fail(failure)
            } else {
                entry.promise.succeed(message)
            }
            return
        }
        if case .error(let error) = message.body {
            lastServerError = MeridianClientError(server: error)
        }
        onPush(message)
    }

    private func timeOut(_ id: UInt64, after timeout: TimeAmount) {
        guard let entry = pending.removeValue(forKey: id) else { return }
        entry.promise.fail(MeridianClientError(.timeout, "no reply within \(Duration(timeout)); the gateway may be overloaded or unreachable — retry, or reconnect"))
    }

    // MARK: close

    private func closedError() -> MeridianClientError {
        if let localCloseReason { return localCloseReason }
        if let lastServerError {
            return MeridianClientError(.connectionClosed, "the gateway closed the connection: \(lastServerError.message)", serverCode: lastServerError.serverCode)
        }
        if closeRequested { return MeridianClientError(.connectionClosed, "the connection was closed by the client") }
        return MeridianClientError(.connectionClosed, "the gateway closed the connection without saying why; reconnect (another gateway of the region if it persists) and resume")
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        let error = closedError()
        for (_, entry) in pending {
            entry.timeout?.cancel()
            entry.promise.fail(error)
        }
        pending.removeAll()
        for (_, promise) in outboundLine.removeAll() { promise?.fail(error) }
        _ = inboundLine.removeAll()
        onClose(error)
    }
}

@available(*, unavailable)
extension ClientChannelHandler: Sendable {}
