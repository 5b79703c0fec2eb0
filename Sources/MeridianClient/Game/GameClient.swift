import Logging
import MeridianSimulation
import MeridianWire
import NIOCore
import Synchronization

/// A game client of Meridian: one player's session with a gateway — connect, log in, queue,
/// play (deltas applied and acknowledged automatically), reconnect and resume.
///
/// Thread-safe and cheap: pushes are handled on the connection's event loop under a mutex
/// (no task per client), so a bot process can run thousands of them on one `EventLoopGroup`.
/// Events go to ``events`` (keeping the newest ``Configuration/eventBufferSize`` when nobody
/// reads them).
public final class GameClient: Sendable {
    /// How a ``GameClient`` behaves.
    public struct Configuration: Sendable {
        /// Connection settings (timeouts, frame limit, local bind address). Its
        /// `simulatedOneWayDelay` is overridden by ``latencyProfile`` when one is set.
        public var connection = ClientConnectionConfiguration()
        /// A simulated location: delays traffic to each region's gateways.
        public var latencyProfile: LatencyProfile?
        /// Sent in `hello`, shown in gateway logs.
        public var clientName = "meridian-client/1"
        /// Events kept for a reader that is behind; older ones are dropped.
        public var eventBufferSize = 1024
        /// How long the acknowledgement of a snapshot may wait for an input batch to carry it
        /// before it goes in a message of its own (a playing client sends inputs every tick, so
        /// most acks cost no message). Zero sends every ack at once. Default 40 ms.
        public var maxAckDelay: Duration = .milliseconds(40)
        /// Whether every applied delta is also an event (``GameEvent/snapshotApplied(tick:own:)``).
        /// A client that renders from ``onSnapshot(_:)`` or never reads them (the load generator)
        /// turns them off and saves a task wake-up per delta. Default true.
        public var snapshotEvents = true
        /// Whether a gateway's `Redirect` (it is leaving) is followed at once: the client resumes
        /// its session at the first of the named gateways that answers (``GameEvent/redirected(gateway:)``),
        /// and a running match goes on. Default true.
        public var followRedirects = true

        public init(
            connection: ClientConnectionConfiguration = ClientConnectionConfiguration(), latencyProfile: LatencyProfile? = nil,
            clientName: String = "meridian-client/1", eventBufferSize: Int = 1024, maxAckDelay: Duration = .milliseconds(40)
        ) {
            self.connection = connection
            self.latencyProfile = latencyProfile
            self.clientName = clientName
            self.eventBufferSize = eventBufferSize
            self.maxAckDelay = maxAckDelay
        }
    }

    /// The protocol version of client.proto this library speaks.
    public static let protocolVersion: UInt32 = 1
    /// The most inputs one `InputBatch` may carry.
    public static let maxInputsPerBatch = 8

    struct State: Sendable {
        var connection: MeridianClientConnection?
        var generation: UInt64 = 0
        /// Why this generation's connection closed (nil while it is open or none was made):
        /// a request after it fails as the close did, not as "never connected".
        var closeReason: MeridianClientError?
        var gatewayRegion: String?
        var login: LoginResult?
        /// The refresh token of the last login that gave one (a resume gives none).
        var refreshToken: String?
        var matchID: String?
        var receiver = SnapshotReceiver()
        var ownEntityID: MatchPlayerID?
        var ownEntity: ReplicatedEntity?
        var nextInputSequence: UInt32 = 1
        /// The newest applied snapshot not acknowledged yet: it rides on the next input batch,
        /// or goes on its own after ``Configuration/maxAckDelay``.
        var pendingAck: UInt32?
        /// A send of the pending ack is scheduled.
        var ackFlushScheduled = false
        var inputLatency = InputLatencyTracker()
        /// Called after each applied delta, on the connection's event loop (``onSnapshot(_:)``).
        var snapshotHandler: SnapshotHandler?

        /// A new match or a resumed one starts from a full snapshot: drop the old baselines
        /// and the ack of one of them.
        mutating func forgetSnapshots() {
            receiver = SnapshotReceiver()
            pendingAck = nil
        }
    }

    let group: any EventLoopGroup
    let configuration: Configuration
    let logger: Logger
    let state = Mutex(State())
    let onInputLatency: (@Sendable (Duration) -> Void)?
    let received = ByteCounter()
    /// Everything the gateway pushes, and disconnections. Finishes when the client is closed.
    public let events: AsyncStream<GameEvent>
    let eventSink: AsyncStream<GameEvent>.Continuation

    /// - Parameters:
    ///   - group: The event loops the connection runs on; share one among many clients.
    ///   - onInputLatency: Called (on an event loop, keep it short) with each input's
    ///     input → delta latency: from sending input S to the first delta with `last_input >= S`.
    public init(group: any EventLoopGroup, configuration: Configuration = Configuration(), logger: Logger, onInputLatency: (@Sendable (Duration) -> Void)? = nil) {
        self.group = group
        self.configuration = configuration
        self.logger = logger
        self.onInputLatency = onInputLatency
        (events, eventSink) = AsyncStream.makeStream(of: GameEvent.self, bufferingPolicy: .bufferingNewest(configuration.eventBufferSize))
    }

    deinit {
        // A client dropped without finish(): do not leave its connection open.
        state.withLock { $0.connection }?.closeWithoutWaiting()
        eventSink.finish()
    }

    /// What ``onSnapshot(_:)`` keeps (a struct, so the closure is stored once as is).
    struct SnapshotHandler: Sendable {
        let call: @Sendable (_ tick: UInt32, _ own: ReplicatedEntity?) -> Void
    }

    /// Calls `handler` after each applied delta, on the connection's event loop (keep it short;
    /// it may send inputs: an ack waiting for an input batch rides on what it sends). Nil stops.
    /// A client that sends its inputs from here sends one batch per snapshot received — the
    /// server's tick rate — without a timer of its own.
    public func onSnapshot(_ handler: (@Sendable (_ tick: UInt32, _ own: ReplicatedEntity?) -> Void)?) {
        state.withLock { $0.snapshotHandler = handler.map(SnapshotHandler.init) }
    }

    // MARK: state

    /// The session token of the last login, if any. Never log it.
    public var token: String? { state.withLock { $0.login?.token } }
    /// The region of the gateway connected to, once `hello` was answered (or as given to connect).
    public var gatewayRegion: String? { state.withLock { $0.gatewayRegion } }
    /// The match whose deltas are being applied.
    public var matchID: String? { state.withLock { $0.matchID } }
    /// The newest snapshot applied.
    public var latestSnapshot: ReplicatedSnapshot? { state.withLock { $0.receiver.latest } }
    /// The player's own entity id in the current match.
    public var ownEntityID: MatchPlayerID? { state.withLock { $0.ownEntityID } }
    /// The player's own entity in the newest snapshot (nil when not in it).
    public var ownEntity: ReplicatedEntity? { state.withLock { $0.ownEntity } }
    /// Whether a connection is open.
    /// Bytes received from gateways over all of this client's connections (frames with their
    /// length prefix).
    public var bytesReceived: UInt64 { received.value }

    public var isConnected: Bool { state.withLock { $0.connection?.isActive ?? false } }

    // MARK: connection

    /// Dials a gateway. `region`, when known (e.g. from ``locate()``), selects the simulated
    /// delay at once; otherwise the delay applies from the `welcome` on. Closes any previous
    /// connection first (without a ``GameEvent/disconnected(_:)`` event).
    public func connect(host: String, port: Int, region: String? = nil) async throws(MeridianClientError) {
        let previous = state.withLock { state -> MeridianClientConnection? in
            state.generation &+= 1
            state.closeReason = nil
            defer { state.connection = nil }
            return state.connection
        }
        await previous?.close()
        var connectionConfiguration = configuration.connection
        if let profile = configuration.latencyProfile, let region {
            connectionConfiguration.simulatedOneWayDelay = profile.delay(to: region)
        }
        let generation = state.withLock { $0.generation }
        let connection = try await MeridianClientConnection.connect(
            host: host, port: port, group: group, configuration: connectionConfiguration, logger: logger, received: received,
            // Weak: a client dropped without close() must not be kept alive by its connection.
            onPush: { [weak self] message in self?.handlePush(message, generation: generation) },
            onClose: { [weak self] reason in self?.handleClose(reason, generation: generation) }
        )
        let current = state.withLock { state -> Bool in
            guard state.generation == generation else { return false }
            state.connection = connection
            state.gatewayRegion = region
            return true
        }
        if !current {
            await connection.close()
            throw MeridianClientError(.invalidState, "another connect or close ran concurrently; call connect once at a time")
        }
    }

    /// Closes the connection (a ``GameEvent/disconnected(_:)`` event follows). The client can
    /// connect again; call ``finish()`` when done with it for good.
    public func close() async {
        let connection = state.withLock { $0.connection }
        await connection?.close()
    }

    /// Closes the connection and ends ``events``.
    public func finish() async {
        let connection = state.withLock { state -> MeridianClientConnection? in
            state.generation &+= 1
            defer { state.connection = nil }
            return state.connection
        }
        await connection?.close()
        eventSink.finish()
    }

    /// Dials a gateway (the same or another) and resumes the session with the stored token.
    /// The match, if it still runs, continues with a full snapshot.
    @discardableResult
    ///
    /// An access token lives 15 minutes: once the gateway refuses it (`badToken`), the refresh
    /// token of the login is traded for new ones on the same connection, as a game does after
    /// its session outlived the token.
    public func reconnect(host: String, port: Int, region: String? = nil) async throws(MeridianClientError) -> LoginResult {
        guard let token = self.token else {
            throw MeridianClientError(.invalidState, "nothing to resume: log in with devLogin first")
        }
        try await connect(host: host, port: port, region: region)
        try await hello()
        do {
            return try await resume(token: token)
        } catch where error.serverCode == .badToken {
            guard let refreshToken = state.withLock({ $0.refreshToken }) else { throw error }
            return try await refresh(refreshToken: refreshToken)
        }
    }

    func currentConnection() throws(MeridianClientError) -> MeridianClientConnection {
        let (connection, closeReason) = state.withLock { ($0.connection, $0.closeReason) }
        guard let connection else {
            // The gateway closed it between connect and this request: a retryable close, not a misuse.
            if let closeReason { throw closeReason }
            throw MeridianClientError(.invalidState, "not connected: call connect(host:port:) first")
        }
        return connection
    }

    func request(_ body: ClientMessage.OneOf_Body) async throws(MeridianClientError) -> ServerMessage.OneOf_Body? {
        try await currentConnection().request(body).body
    }

    static func unexpected(_ body: ServerMessage.OneOf_Body?, for request: String) -> MeridianClientError {
        MeridianClientError(.malformed, "the gateway answered \(request) with \(body.map { "\($0)" } ?? "an empty message"); check the gateway's protocol version")
    }
}
