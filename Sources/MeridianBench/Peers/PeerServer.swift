/// A running benchmark peer server: where it listens, and how to stop it.
package struct PeerServer: Sendable {
    /// The host the server was bound to.
    package let host: String
    /// The port it listens on (the one the OS chose when started with port 0).
    package let port: Int
    private let stop: @Sendable () async throws -> Void

    package init(host: String, port: Int, stop: @escaping @Sendable () async throws -> Void) {
        self.host = host
        self.port = port
        self.stop = stop
    }

    /// Stops listening, closes the server's connections and returns when it has stopped.
    package func close() async throws {
        try await self.stop()
    }
}

extension PeerServer {
    /// Returns when the calling task is cancelled (how `serve(host:port:)` runs "forever").
    static func sleepUntilCancelled() async {
        // Task.sleep returns early, throwing, once the task is cancelled.
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
