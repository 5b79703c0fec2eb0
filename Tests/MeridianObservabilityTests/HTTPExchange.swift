import Foundation
import NIOCore
import NIOPosix

/// A deliberately plain HTTP/1.1 client over raw TCP: the tests need to send what a real client
/// would never send, and to see exactly what the server does with the connection.
enum HTTPExchange {
    struct Response {
        var statusLine: String
        /// Lower-cased names.
        var headers: [String: String]
        var body: String
    }

    /// What came back before the server closed the connection (``sendRaw(_:port:)`` returns only then).
    struct RawOutcome {
        var received: [UInt8]
        /// Set when the connection ended with an error (a reset after unread bytes) rather than an EOF.
        var error: (any Error)?

        var text: String { String(decoding: received, as: UTF8.self) }
    }

    struct Timeout: Error {}

    static func connect(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Sends `bytes`, then reads until the server closes the connection; a write or read error (a
    /// reset, a broken pipe: the server closed with bytes unread) also ends it. The client never
    /// closes first, so returning at all means the server closed. Bounded so a server that never
    /// closes fails the test (``Timeout``) instead of hanging it: a guard, not a timing assertion.
    static func sendRaw(_ bytes: [UInt8], port: Int) async throws -> RawOutcome {
        let channel = try await connect(port: port)
        return try await withThrowingTaskGroup(of: RawOutcome?.self) { group in
            group.addTask {
                var received: [UInt8] = []
                do {
                    try await channel.executeThenClose { inbound, outbound in
                        do { try await outbound.write(ByteBuffer(bytes: bytes)) } catch {}
                        for try await chunk in inbound { received += chunk.readableBytesView }
                    }
                } catch {
                    return RawOutcome(received: received, error: error)
                }
                return RawOutcome(received: received, error: nil)
            }
            group.addTask {
                try await Task.sleep(for: .seconds(20))
                return nil
            }
            defer { group.cancelAll() }
            guard let outcome = try await group.next() ?? nil else {
                channel.channel.close(promise: nil)
                throw Timeout()
            }
            return outcome
        }
    }

    /// Sends `request` and parses the single response that ends with the connection.
    static func send(_ request: String, port: Int) async throws -> Response {
        let responses = try await send(request, port: port, all: true)
        guard let first = responses.first else { throw Timeout() }
        return first
    }

    /// Sends `request` (possibly several pipelined requests) and parses every response until the server closes.
    static func send(_ request: String, port: Int, all: Bool) async throws -> [Response] {
        let outcome = try await sendRaw(Array(request.utf8), port: port)
        return parse(outcome.received)
    }

    /// Splits `bytes` into responses using Content-Length (the server always sends it).
    static func parse(_ bytes: [UInt8]) -> [Response] {
        var responses: [Response] = []
        var rest = bytes[...]
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while !rest.isEmpty, let end = rest.firstRange(of: separator) {
            let headText = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
            var lines = headText.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            // (A HEAD response announces a length it does not send: only the bytes present are its body.)
            let length = Int(headers["content-length"] ?? "0") ?? 0
            let bodyStart = end.upperBound
            let available = rest.endIndex - bodyStart
            let bodyEnd = bodyStart + min(length, available)
            responses.append(Response(statusLine: statusLine, headers: headers, body: String(decoding: rest[bodyStart..<bodyEnd], as: UTF8.self)))
            rest = rest[bodyEnd...]
        }
        return responses
    }
}
