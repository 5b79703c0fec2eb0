import NIOCore

/// How a node's cluster transport behaves. Every field has a production default.
public struct TransportConfiguration: Sendable {
    /// The largest frame accepted or sent, in bytes (length prefix excluded).
    /// A peer announcing a larger frame is disconnected at once. Default 4 MiB.
    public var maxFrameSize: Int = 4 * 1024 * 1024

    /// The largest frame accepted before the peer has completed the handshake (proven that it
    /// holds the cluster secret, and with TLS who it is). A stranger can make a node buffer
    /// this much per connection at most. Handshake messages are a few hundred bytes.
    /// Default 16 KiB.
    public var maxHandshakeFrameSize: Int = 16 * 1024

    /// Envelopes larger than this are split into fragments of this size that travel on the
    /// bulk lane, so one large message never holds up small calls and heartbeats. Default 64 KiB.
    public var fragmentSize: Int = 64 * 1024

    /// Bytes of fragments that may travel unacknowledged by the peer: what a small frame may
    /// find ahead of it in the kernel's buffers at worst. It also caps one connection's bulk
    /// throughput at `bulkWindow` per round trip (16 MiB/s at 64 ms). Default 512 KiB.
    public var bulkWindow: Int = 512 * 1024

    /// The largest message that may be reassembled from fragments. Default 64 MiB.
    public var maxMessageSize: Int = 64 * 1024 * 1024

    /// Bytes that may wait to be written on one connection before new sends fail with
    /// ``TransportError/Code/overloaded``. Bounds memory when a peer stops reading. Default 64 MiB.
    public var maxPendingOutboundBytes: Int = 64 * 1024 * 1024

    /// Messages held for a peer while its connection is being (re)established. Default 4096.
    public var maxQueuedWhileConnecting: Int = 4096

    /// Time allowed for the TCP connect plus the three-message handshake. Default 5 s.
    public var handshakeTimeout: TimeAmount = .seconds(5)

    /// A heartbeat is sent when nothing else was written for this long. Default 500 ms.
    public var heartbeatInterval: TimeAmount = .milliseconds(500)

    /// A connection that received nothing (not even a heartbeat) for this long is closed.
    /// Must exceed `heartbeatInterval` plus the largest simulated round trip. Default 5 s.
    public var idleTimeout: TimeAmount = .seconds(5)

    /// Mutual TLS on every link, with node ids certified by the cluster CA. Default nil:
    /// plaintext links authenticated by the cluster secret's handshake only.
    public var tls: ClusterTLS?

    /// Reconnect backoff: first delay, cap, and the random spread applied to each delay
    /// (0.2 = ±20 %) so that many nodes do not redial in lock-step.
    public var reconnectBackoff = Backoff()

    public struct Backoff: Sendable {
        public var initial: TimeAmount = .milliseconds(50)
        public var maximum: TimeAmount = .seconds(5)
        public var multiplier: Double = 2
        public var jitter: Double = 0.2
        public init() {}

        /// The delay before attempt number `attempt` (0 = first retry), before jitter.
        public func delay(attempt: Int) -> TimeAmount {
            let base = Double(initial.nanoseconds) * pow2(multiplier, attempt)
            return .nanoseconds(Int64(min(base, Double(maximum.nanoseconds))))
        }

        /// The delay with jitter drawn from `random` in `0..<1`.
        public func jittered(attempt: Int, random: Double) -> TimeAmount {
            let base = Double(delay(attempt: attempt).nanoseconds)
            let spread = base * jitter * (random * 2 - 1)
            return .nanoseconds(max(0, Int64(base + spread)))
        }

        private func pow2(_ m: Double, _ n: Int) -> Double {
            var result = 1.0
            for _ in 0..<min(n, 64) { result *= m }
            return result
        }
    }

    public init() {}
}
