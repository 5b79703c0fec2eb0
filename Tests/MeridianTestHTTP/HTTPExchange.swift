import Foundation
import NIOCore
import NIOPosix

/// A deliberately plain HTTP/1.1 client over raw TCP: the tests need to send what a real client
/// would never send, and to see exactly what the server does with the connection.
public enum HTTPExchange {
    public struct Response: Sendable {
        public var statusLine: String
        /// Lower-cased names.
        public var headers: [String: String]
        public var body: String
    }

    /// What came back before the server closed the connection (``sendRaw(_:port:)`` returns only then).
    public struct RawOutcome: Sendable {
        public var received: [UInt8]
        /// Set when the connection ended with an error (a reset after unread bytes) rather than an EOF.
        public var error: (any Error)?

        public var text: String { String(decoding: received, as: UTF8.self) }
    }

    public struct Timeout: Error {}

    public static func connect(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
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
    public static func sendRaw(_ bytes: [UInt8], port: Int) async throws -> RawOutcome {
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
    public static func send(_ request: String, port: Int) async throws -> Response {
        let responses = try await send(request, port: port, all: true)
        guard let first = responses.first else { throw Timeout() }
        return first
    }

    /// Sends `request` (possibly several pipelined requests) and parses every response until the server closes.
    public static func send(_ request: String, port: Int, all: Bool) async throws -> [Response] {
        let outcome = try await sendRaw(Array(request.utf8), port: port)
        return parse(outcome.received)
    }

    /// Splits `bytes` into responses using Content-Length (the server always sends it).
    public static func parse(_ bytes: [UInt8]) -> [Response] {
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

    /// `GET path` on a connection of its own, with a bearer `token` or a `cookie` when given.
    public static func get(_ path: String, port: Int, token: String? = nil, cookie: String? = nil) async throws -> Response {
        try await send(request("GET", path, token: token, cookie: cookie), port: port)
    }

    /// The text of a request that closes its connection.
    public static func request(_ method: String, _ path: String, token: String? = nil, cookie: String? = nil, body: String? = nil) -> String {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        if let cookie { request += "Cookie: \(cookie)\r\n" }
        if let body {
            request += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            request += "\r\n"
        }
        return request
    }
}
