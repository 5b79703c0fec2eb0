import Atomics
import Logging
import MeridianWire
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A node's cluster transport: listens for peers, dials them on demand, and keeps exactly one
/// authenticated connection per peer node, carrying all traffic between the two.
///
/// Sends to a peer without a connection are queued (bounded) while it is dialed; a failed dial
/// backs off exponentially with jitter before the next attempt. When both nodes dial each other
/// at once, both keep the connection dialed by the node with the smaller id and close the other.
public final class ClusterTransport: Sendable {
    public let configuration: TransportConfiguration
    public let local: LocalHandshakeInfo
    private let group: any EventLoopGroup
    private let emulation: LinkEmulation?
    private let logger: Logger
    private let delegate: Mutex<(any TransportDelegate)?>
    private let state = Mutex(State())
    private let counters = Counters()

    private struct Dial {
        var queue: [Envelope] = []
        var inProgress = false
    }

    private struct Backoff {
        var attempt = 0
        var notBefore = NIODeadline.distantPast
    }

    private struct State {
        var connections: [String: PeerConnection] = [:]
        var dials: [String: Dial] = [:]
        var backoff: [String: Backoff] = [:]
        var listener: (any Channel)?
        var children: [ObjectIdentifier: any Channel] = [:]
        /// Dialed channels whose handshake has not completed, with the address they dialed.
        var pendingDials: [ObjectIdentifier: String] = [:]
        /// Every dialed channel's address, from its creation to its close. The connect's
        /// completion (which lists a channel in ``pendingDials``) can come after the handshake
        /// did — a name like `localhost` is connected by a happy-eyeballs race that completes
        /// the connect in a later tick than the winning channel's first reads — so the handshake
        /// finds its dial's queue here.
        var dialedAddresses: [ObjectIdentifier: String] = [:]
        /// Dialed channels whose handshake completed (not to be watched as pending any more).
        var establishedDials: Set<ObjectIdentifier> = []
        var shuttingDown = false
    }

    /// Errors by kind, for status output and tests.
    public final class Counters: Sendable {
        public let frameTooLarge = ManagedAtomic<Int>(0)
        public let protocolViolations = ManagedAtomic<Int>(0)
        public let authenticationFailures = ManagedAtomic<Int>(0)
        public let otherErrors = ManagedAtomic<Int>(0)
        public let droppedWhileConnecting = ManagedAtomic<Int>(0)
    }

    public var errorCounters: Counters { counters }

    public init(
        configuration: TransportConfiguration = .init(),
        local: LocalHandshakeInfo,
        group: any EventLoopGroup,
        emulation: LinkEmulation? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.local = local
        self.group = group
        self.emulation = emulation
        self.logger = logger
        self.delegate = Mutex(nil)
    }

    /// Sets who receives connections and messages. Call before ``bind(host:port:)``.
    package func setDelegate(_ delegate: any TransportDelegate) {
        self.delegate.withLock { $0 = delegate }
    }

    /// Starts listening for peers. Returns the bound port (useful with port 0).
    @discardableResult
    public func bind(host: String, port: Int) async throws -> Int {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try self.configurePipeline(channel, dialing: false)
                }
            }
            .bind(host: host, port: port)
            .get()
        state.withLock { $0.listener = channel }
        return channel.localAddress?.port ?? port
    }

    /// The authenticated connection to `node`, if there is one.
    public func connection(to node: String) -> PeerConnection? {
        state.withLock { $0.connections[node] }
    }

    /// All authenticated connections.
    public var connections: [PeerConnection] {
        state.withLock { Array($0.connections.values) }
    }

    /// The channels this transport has open, dialed or accepted, authenticated or not, and the
    /// dials still waiting for their channel to connect. A pair of nodes has settled when each
    /// side has one channel and no dial in progress: a duplicate dial that lost the tie-break
    /// stays open for its grace period, and one still in its handshake is not counted by
    /// ``connections`` yet.
    package var links: (channels: Int, dialsInProgress: Int) {
        state.withLock { ($0.dialedAddresses.count + $0.children.count, $0.dials.count) }
    }

    /// Sends `envelope` to the node at `address` (whose id is `node`, when known), dialing it
    /// first if there is no connection yet.
    /// - Throws: ``TransportError`` when the peer is overloaded, the dial queue is full, or
    ///   the transport is shutting down.
    package func send(_ envelope: Envelope, to node: String?, address: String) throws {
        let action: SendAction = try state.withLock { state in
            if state.shuttingDown { throw TransportError(.shutdown, "transport is shutting down") }
            if let node, let connection = state.connections[node], connection.peer.address == address || address.isEmpty {
                return .send(connection)
            }
            if let connection = state.connections.values.first(where: { $0.peer.address == address }) {
                return .send(connection)
            }
            var dial = state.dials[address] ?? Dial()
            guard dial.queue.count < configuration.maxQueuedWhileConnecting else {
                counters.droppedWhileConnecting.wrappingIncrement(ordering: .relaxed)
                throw TransportError(.overloaded, "\(dial.queue.count) messages already wait for \(address) to connect")
            }
            dial.queue.append(envelope)
            let start = !dial.inProgress
            dial.inProgress = true
            state.dials[address] = dial
            let backoff = state.backoff[address] ?? Backoff()
            return start ? .dial(notBefore: backoff.notBefore) : .queued
        }
        switch action {
        case .send(let connection):
            try connection.send(envelope)
        case .dial(let notBefore):
            let delay = notBefore - .now()
            if delay > .zero {
                group.any().scheduleTask(in: delay) { self.dial(address) }
            } else {
                dial(address)
            }
        case .queued:
            break
        }
    }

    private enum SendAction {
        case send(PeerConnection)
        case dial(notBefore: NIODeadline)
        case queued
    }

    private func dial(_ address: String) {
        guard let (host, port) = Self.split(address) else {
            dialFailed(address, TransportError(.unreachable, "'\(address)' is not host:port"))
            return
        }
        ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(configuration.handshakeTimeout)
            .channelInitializer { channel in
                let id = ObjectIdentifier(channel)
                self.state.withLock { $0.dialedAddresses[id] = address }
                channel.closeFuture.whenComplete { _ in
                    self.state.withLock { state in
                        state.dialedAddresses[id] = nil
                        state.establishedDials.remove(id)
                    }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try self.configurePipeline(channel, dialing: true)
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .failure(let error):
                    self.dialFailed(address, error)
                case .success(let channel):
                    // Success is reported by the handshake (`established`); a close before
                    // it (refused, timed out, peer gone) fails the dial.
                    self.watchHandshake(of: channel, dialed: address)
                }
            }
    }

    /// Without this, a dial whose TCP connect succeeded but whose handshake failed would stay
    /// "in progress" forever, and every later send to that address would queue behind it.
    /// Runs on the channel's event loop in the tick the connect completed, so before any
    /// handshake message can have been read.
    private func watchHandshake(of channel: any Channel, dialed address: String) {
        let id = ObjectIdentifier(channel)
        let established = state.withLock { state -> Bool in
            // The handshake may have completed already (see `dialedAddresses`): nothing to watch.
            guard !state.establishedDials.contains(id) else { return true }
            state.pendingDials[id] = address
            return false
        }
        guard !established else { return }
        channel.closeFuture.whenComplete { _ in
            // Still listed: `established` never saw this channel.
            guard let address = self.state.withLock({ $0.pendingDials.removeValue(forKey: id) }) else { return }
            self.dialFailed(address, TransportError(.unreachable, "connection to \(address) closed before the handshake completed"))
        }
    }

    private func dialFailed(_ address: String, _ error: any Error) {
        let undelivered: [Envelope] = state.withLock { state in
            let undelivered = state.dials.removeValue(forKey: address)?.queue ?? []
            var backoff = state.backoff[address] ?? Backoff()
            let delay = configuration.reconnectBackoff.jittered(attempt: backoff.attempt, random: Double.random(in: 0..<1))
            backoff.attempt += 1
            backoff.notBefore = .now() + delay
            state.backoff[address] = backoff
            return undelivered
        }
        counters.droppedWhileConnecting.wrappingIncrement(by: undelivered.count, ordering: .relaxed)
        logger.debug("dial failed", metadata: ["meridian.address": "\(address)", "meridian.error": "\(error)", "meridian.dropped": "\(undelivered.count)"])
        if !undelivered.isEmpty, let delegate = delegate.withLock({ $0 }) {
            delegate.undeliverable(undelivered, address: address, error: error)
        }
    }

    package func configurePipeline(_ channel: any Channel, dialing: Bool) throws {
        let budget = OutboundBudget(limit: configuration.maxPendingOutboundBytes)
        let sync = channel.pipeline.syncOperations
        if let emulation {
            try sync.addHandler(LinkEmulatorHandler(emulation: emulation))
        }
        if let tls = configuration.tls {
            // No server name: the peer is checked by the node id its certificate names.
            try sync.addHandler(dialing ? NIOSSLClientHandler(context: tls.client, serverHostname: nil) : NIOSSLServerHandler(context: tls.server))
        }
        try Self.addProtocolHandlers(to: sync, local: local, dialing: dialing, configuration: configuration, budget: budget)
        try sync.addHandler(PeerChannelHandler(registry: self, budget: budget, logger: logger))
        if !dialing {
            let id = ObjectIdentifier(channel)
            state.withLock { $0.children[id] = channel }
            channel.closeFuture.whenComplete { _ in _ = self.state.withLock { $0.children.removeValue(forKey: id) } }
        }
    }

    /// The handlers between the link (TLS, if any) and ``PeerChannelHandler``: framing, the
    /// outbound lanes, envelope decoding, the handshake, reassembly and heartbeats. Everything a
    /// peer's bytes go through before they reach the cluster; the fuzz target
    /// `cluster-link` (Fuzz/) drives these same handlers.
    package static func addProtocolHandlers(
        to sync: ChannelPipeline.SynchronousOperations, local: LocalHandshakeInfo, dialing: Bool,
        configuration: TransportConfiguration, budget: OutboundBudget
    ) throws {
        // Small until the handshake completes; the handshake handler raises it.
        let frameLimit = FrameSizeLimit(bytes: configuration.maxHandshakeFrameSize, setting: "TransportConfiguration.maxHandshakeFrameSize, before the handshake")
        try sync.addHandler(ByteToMessageHandler(FrameDecoder(limit: frameLimit)))
        try sync.addHandler(OutboundLanesHandler(fragmentSize: configuration.fragmentSize, bulkWindow: configuration.bulkWindow, budget: budget))
        try sync.addHandler(EnvelopeDecoderHandler())
        // Right after decoding: until the peer is authenticated nothing else may act on its
        // bytes (no fragment buffering, no heartbeat replies).
        try sync.addHandler(HandshakeHandler(
            local: local, dialing: dialing, timeout: configuration.handshakeTimeout, budget: budget, tls: configuration.tls != nil,
            frameLimit: (frameLimit, raisedTo: configuration.maxFrameSize)
        ))
        try sync.addHandler(FragmentReassembler(maxMessageSize: configuration.maxMessageSize, budget: budget))
        try sync.addHandler(HeartbeatHandler(interval: configuration.heartbeatInterval, idleTimeout: configuration.idleTimeout, budget: budget))
    }

    // MARK: - Called by PeerChannelHandler

    package func established(_ connection: PeerConnection) -> any PeerMessageReceiver {
        let peer = connection.peer
        let (loser, refused, replaced): (PeerConnection?, Bool, PeerConnection?) = state.withLock { state in
            // A dial whose handshake completes after shutdown took its snapshot of the
            // connections would never be closed: refuse it here, under the same lock.
            if state.shuttingDown { return (nil, true, nil) }
            var loser: PeerConnection?
            var replaced: PeerConnection?
            if let existing = state.connections[peer.node], existing !== connection {
                if existing.peer.incarnation > peer.incarnation {
                    loser = connection  // a stale process of that node
                } else if existing.peer.incarnation < peer.incarnation {
                    replaced = existing  // the node restarted
                    state.connections[peer.node] = connection
                } else {
                    // Both dialed: keep the connection dialed by the smaller node id.
                    let keepDialedByMe = local.identity.node < peer.node
                    if existing.dialed == keepDialedByMe {
                        loser = connection
                    } else {
                        // The peer may have sent on it before it lost: close it after the same
                        // grace period, not at once (that would discard what we have not read yet).
                        loser = existing
                        state.connections[peer.node] = connection
                    }
                }
            } else {
                state.connections[peer.node] = connection
            }
            // The queue is keyed by the address we dialed, which may be spelled differently
            // from the one the peer announces (localhost vs 127.0.0.1, a DNS name, a seed).
            let channelID = ObjectIdentifier(connection.channel)
            let dialedAddress = state.pendingDials.removeValue(forKey: channelID) ?? state.dialedAddresses[channelID]
            if state.dialedAddresses[channelID] != nil { state.establishedDials.insert(channelID) }
            state.backoff[peer.address] = nil
            if let dialedAddress { state.backoff[dialedAddress] = nil }
            // Hand the queue over while still holding the lock: a sender that finds the
            // connection from now on must come after everything queued before it.
            let queued = state.dials.removeValue(forKey: dialedAddress ?? peer.address)?.queue ?? []
            let target = state.connections[peer.node] ?? connection
            for envelope in queued {
                try? target.send(envelope)
            }
            return (loser, false, replaced)
        }
        if refused {
            connection.close()
            return DiscardingReceiver()
        }
        replaced?.close()
        if let loser {
            // Replies to what the peer already sent on it may still arrive: close after a grace period.
            logger.debug("closing duplicate connection", metadata: ["meridian.peer": "\(peer)"])
            loser.channel.eventLoop.scheduleTask(in: .seconds(2)) { loser.close() }
        }
        guard let delegate = delegate.withLock({ $0 }) else { return DiscardingReceiver() }
        return delegate.connectionEstablished(connection)
    }

    package func closed(_ connection: PeerConnection) {
        let wasCurrent = state.withLock { state in
            guard state.connections[connection.peer.node] === connection else { return false }
            state.connections[connection.peer.node] = nil
            return true
        }
        if let delegate = delegate.withLock({ $0 }) {
            delegate.connectionClosed(connection)
        }
        if wasCurrent {
            logger.debug("peer connection lost", metadata: ["meridian.peer": "\(connection.peer)"])
        }
    }

    package func recordError(_ code: TransportError.Code?) {
        switch code {
        case .frameTooLarge?: counters.frameTooLarge.wrappingIncrement(ordering: .relaxed)
        case .protocolViolation?: counters.protocolViolations.wrappingIncrement(ordering: .relaxed)
        case .authenticationFailed?, .wrongCluster?, .unsupportedVersion?: counters.authenticationFailures.wrappingIncrement(ordering: .relaxed)
        default: counters.otherErrors.wrappingIncrement(ordering: .relaxed)
        }
    }

    /// Stops listening and closes every connection, after sending each peer a goodbye.
    public func shutdown(reason: String = "shutting down") async {
        let (listener, connections, children) = state.withLock { state in
            state.shuttingDown = true
            return (state.listener, Array(state.connections.values), Array(state.children.values))
        }
        var goodbye = Envelope()
        goodbye.goodbye.reason = reason
        for connection in connections {
            try? connection.send(goodbye)
        }
        try? await listener?.close()
        for connection in connections {
            try? await connection.channel.close()
        }
        for child in children {
            try? await child.close()
        }
    }

    static func split(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65535).contains(port)
        else { return nil }
        return (String(address[..<colon]), port)
    }
}

/// Receives for a connection established before any delegate was set (never in a running node)
/// or after shutdown began (it is being closed).
private struct DiscardingReceiver: PeerMessageReceiver {
    func receive(_ envelope: Envelope, on connection: PeerConnection) {}
}
