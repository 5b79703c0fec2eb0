/// How a gateway treats its clients. Every limit protects the node and the other clients
/// from one client's bytes; the defaults suit a 60 Hz game.
public struct GatewayConfiguration: Sendable {
    /// Largest frame a client may send (the length prefix is checked before anything is buffered).
    /// Client messages are small (a full input batch or a party queue is well under 1 KiB). Default 8 KiB.
    public var maxFrameBytes = 8 * 1024
    /// Connections this gateway holds at once; beyond it a new one gets RATE_LIMITED and is
    /// closed. Default 18,000 (a process may open 20,000 files on these machines).
    public var maximumConnections = 18_000
    /// Connections one source address may hold at once (players behind one NAT share an
    /// address). Default 1,024.
    public var maximumConnectionsPerSource = 1_024
    /// Login attempts (any method, refresh and resume included) per source address per minute. Default 300.
    public var loginsPerSourcePerMinute = 300
    /// New accounts (password registrations, first device logins) per source address per minute. Default 20.
    public var registrationsPerSourcePerMinute = 20
    /// After a client cancels its queue, how long before it may queue again. Default 1 s.
    public var queueCooldown: Duration = .seconds(1)
    /// Inputs in one batch; more is a protocol violation.
    public var maxInputsPerBatch = 8
    /// Sustained messages per second per connection (inputs and acks at 60 Hz are 120/s)…
    public var messagesPerSecond: Double = 240
    /// …and the burst above it; beyond it the client gets RATE_LIMITED and is disconnected.
    public var messageBurst: Double = 480
    /// Reliable messages (results, match events, profile pushes) queued for a client that does
    /// not read; beyond it the client is disconnected with TOO_SLOW. Deltas are never queued:
    /// a newer one replaces an unsent older one.
    public var reliableQueueLimit = 256
    /// The same bound in bytes (encoded frames): a few large replies (a catalog view) count for
    /// what they weigh. Default 256 KiB.
    public var reliableQueueBytes = 256 * 1024
    /// Time to send Hello and log in after connecting.
    public var loginTimeout: Duration = .seconds(10)
    /// A logged-in connection that sends nothing for this long is closed (clients ping).
    public var idleTimeout: Duration = .seconds(60)
    /// Timeout of the cluster calls made for a client.
    public var callTimeout: Duration = .seconds(5)
    /// The certificate clients see. Default nil: plaintext (loopback, tests, a TLS-terminating
    /// proxy in front).
    public var tls: GatewayTLS?

    public init() {}
}

/// The client protocol version this gateway speaks (Protos/client.proto).
public let clientProtocolVersion: UInt32 = 1
