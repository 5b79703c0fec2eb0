/// Receives what arrives on authenticated connections. Implemented by the cluster layer.
package protocol PeerMessageReceiver: Sendable {
    /// Called on the connection's event loop, in arrival order. Must not block.
    func receive(_ envelope: Envelope, on connection: PeerConnection)
}

/// Learns about connections coming and going.
package protocol TransportDelegate: Sendable {
    /// A connection completed its handshake and is now the one used for `connection.peer`.
    /// Returns the receiver for its messages. Called on the connection's event loop.
    func connectionEstablished(_ connection: PeerConnection) -> any PeerMessageReceiver

    /// A connection that was returned by ``connectionEstablished(_:)`` has closed.
    func connectionClosed(_ connection: PeerConnection)

    /// Messages queued for `address` were dropped because no connection could be made
    /// (refused, timed out, or the handshake failed); `error` says why.
    func undeliverable(_ envelopes: [Envelope], address: String, error: any Error)
}
