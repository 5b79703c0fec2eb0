import NIOCore

/// How one client connection to a gateway behaves. Every default suits a game client; a load
/// generator typically sets ``localAddress`` and ``simulatedOneWayDelay``.
public struct ClientConnectionConfiguration: Sendable, Hashable {
    /// How long a request waits for its reply before failing with ``MeridianClientError/Code/timeout``.
    public var requestTimeout: Duration = .seconds(10)
    /// How long dialing may take.
    public var connectTimeout: Duration = .seconds(5)
    /// The largest frame accepted from the gateway; a longer one closes the connection with
    /// ``MeridianClientError/Code/frameTooLarge``. Snapshots of a 100-player match are far below.
    public var maxInboundFrameBytes: Int = 4 << 20
    /// The local IP address to bind before connecting (e.g. `127.0.3.7`), to spread many
    /// connections over several source addresses; nil lets the OS choose.
    public var localAddress: String?
    /// Delay applied to every message in each direction (sent and received), simulating the
    /// client's distance to this gateway. `.zero` for none.
    public var simulatedOneWayDelay: Duration = .zero
    /// TLS to the gateway (a gateway started with a certificate speaks only TLS). Default nil:
    /// plaintext.
    public var tls: ClientTLS?

    public init(
        requestTimeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5),
        maxInboundFrameBytes: Int = 4 << 20,
        localAddress: String? = nil,
        simulatedOneWayDelay: Duration = .zero
    ) {
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.maxInboundFrameBytes = maxInboundFrameBytes
        self.localAddress = localAddress
        self.simulatedOneWayDelay = simulatedOneWayDelay
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension Duration {
    init(_ amount: TimeAmount) {
        self = .nanoseconds(amount.nanoseconds)
    }
}
