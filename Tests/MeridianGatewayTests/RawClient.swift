import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import NIOPosix
import SwiftProtobuf
import Synchronization

/// A bare client for gateway tests: frames and protobuf by hand, so tests can also send bytes
/// no real client would.
final class RawClient: Sendable {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private struct Mailbox {
        var messages: [Meridian_Client_V1_ServerMessage] = []
        var closed = false
    }

    private final class MailboxBox: Sendable {
        let state = Mutex(Mailbox())
        let writer = Mutex<NIOAsyncChannelOutboundWriter<ByteBuffer>?>(nil)
    }

    private let box = MailboxBox()
    private let reader: Task<Void, Never>
    private let ready: AsyncStream<Void>

    static func connect(_ address: String) async throws -> RawClient {
        let parts = address.split(separator: ":")
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: String(parts[0]), port: Int(parts[1])!) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: 1 << 22)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawClient(channel: channel)
    }

    private init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
        self.channel = channel
        let box = self.box
        let (ready, readyIn) = AsyncStream.makeStream(of: Void.self)
        reader = Task {
            do {
                try await channel.executeThenClose { inbound, outbound in
                    box.writer.withLock { $0 = outbound }
                    readyIn.finish()
                    for try await frame in inbound {
                        let message = try Meridian_Client_V1_ServerMessage(serializedBytes: Array(frame.readableBytesView))
                        box.state.withLock { $0.messages.append(message) }
                    }
                }
            } catch {}
            readyIn.finish()
            box.state.withLock { $0.closed = true }
        }
        self.ready = ready
    }

    func send(_ message: Meridian_Client_V1_ClientMessage) async throws {
        var buffer = channel.channel.allocator.buffer(capacity: 64)
        try buffer.writeFrame(message)
        try await write(buffer)
    }

    /// Sends raw bytes (a frame or not).
    func sendRaw(_ bytes: [UInt8]) async throws {
        try await write(channel.channel.allocator.buffer(bytes: bytes))
    }

    private func write(_ buffer: ByteBuffer) async throws {
        for await _ in ready {}
        guard let writer = box.writer.withLock({ $0 }) else { throw TimedOut() }
        try await writer.write(buffer)
    }

    /// The next message, or nil once the gateway closed the connection.
    func next(timeout: Duration = .seconds(10)) async throws -> Meridian_Client_V1_ServerMessage? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (message, closed) = box.state.withLock { mailbox -> (Meridian_Client_V1_ServerMessage?, Bool) in
                if mailbox.messages.isEmpty { return (nil, mailbox.closed) }
                return (mailbox.messages.removeFirst(), false)
            }
            if let message { return message }
            if closed { return nil }
            guard ContinuousClock.now < deadline else { throw TimedOut() }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    struct TimedOut: Error {}

    /// The next message matching `predicate`, skipping others (pushes, deltas).
    func next(where predicate: (Meridian_Client_V1_ServerMessage) -> Bool, timeout: Duration = .seconds(20)) async throws -> Meridian_Client_V1_ServerMessage? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let message = try await next(timeout: deadline - ContinuousClock.now) else { return nil }
            if predicate(message) { return message }
        }
        return nil
    }

    /// Waits until the gateway closes the connection; returns the messages it sent before.
    func drainUntilClosed(timeout: Duration = .seconds(10)) async throws -> [Meridian_Client_V1_ServerMessage] {
        var messages: [Meridian_Client_V1_ServerMessage] = []
        while let message = try await next(timeout: timeout) { messages.append(message) }
        return messages
    }

    func close() async {
        try? await channel.channel.close()
        reader.cancel()
    }

    // MARK: Conveniences

    static func message(_ id: UInt64 = 0, _ fill: (inout Meridian_Client_V1_ClientMessage) -> Void) -> Meridian_Client_V1_ClientMessage {
        var message = Meridian_Client_V1_ClientMessage()
        message.requestID = id
        fill(&message)
        return message
    }

    /// Hello, then a dev login as `player` (created in the gateway's region if new); returns the login result.
    func logIn(_ player: UUID) async throws -> Meridian_Client_V1_LoginResult {
        try await send(Self.message(1) { $0.hello.protocolVersion = 1 })
        guard let welcome = try await next(), case .welcome? = welcome.body else { throw LoginFailed(reply: nil) }
        try await send(Self.message(2) {
            $0.devLogin.playerID = player.uuidString
            $0.devLogin.displayName = "test"
        })
        guard let reply = try await next(where: { $0.requestID == 2 }), case .login(let login)? = reply.body else { throw LoginFailed(reply: nil) }
        return login
    }

    struct LoginFailed: Error { var reply: Meridian_Client_V1_ServerMessage? }
}
