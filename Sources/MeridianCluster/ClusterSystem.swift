import Distributed
import Foundation
import Logging
import MeridianClock
import MeridianMembership
import MeridianTopology
import MeridianTransport
import MeridianWire
import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// Meridian's `DistributedActorSystem`: actors on any node of any region, reached through
/// one authenticated connection per node pair, with SWIM membership and a receptionist.
///
/// ```swift
/// let system = try await ClusterSystem.start(configuration, logger: logger)
/// let shard = system.makeActor(path: "/shard/eu-west/7") { Shard(actorSystem: system) }
/// let remote = try Shard.resolve(id: someID, using: system)
/// try await remote.ping()   // a remote call: deadline, cancellation and typed errors
/// ```
public final class ClusterSystem: DistributedActorSystem, Sendable {
    public typealias ActorID = ClusterActorID
    public typealias InvocationEncoder = ClusterInvocationEncoder
    public typealias InvocationDecoder = ClusterInvocationDecoder
    public typealias ResultHandler = ClusterResultHandler
    public typealias SerializationRequirement = any WireCodable

    public let configuration: Configuration
    public let logger: Logger
    public var nodeID: String { configuration.node }
    public var incarnation: UInt64 { configuration.incarnation }
    public var region: String { configuration.region }
    /// The clock timed actor work on this node runs on (``Configuration/clock``).
    public var clock: AnyClock { configuration.clock }

    let transport: ClusterTransport
    let group: any EventLoopGroup
    let localActors: LocalActors
    let activators = ActorActivators()
    let pendingCalls = PendingCalls()
    /// Made with the system, so it records into the factory bootstrapped before the node started.
    let callMetrics = RemoteCallMetrics()
    let oneWayMetrics = OneWayMetrics()
    /// Calls answered `overloaded` because their peer had ``Configuration/maxInboundCallsPerPeer`` running.
    let inboundCallsRefused = Counter(label: "meridian_inbound_calls_refused_total")
    let emulation: LinkEmulation?
    public let membership: MembershipService
    public let receptionist: Receptionist
    private let sessions = Mutex<[String: PeerSession]>([:])
    private let autoPathCounter = Atomic<UInt64>(0)
    private let state = Mutex(RunState())
    /// Kept alive until ``shutdown()``; it answers `meridian status`. (It holds the system, so
    /// shutdown lets it go: otherwise no system would ever be freed.)
    private let statusActor = Mutex<NodeStatusActor?>(nil)

    private struct RunState {
        var address: String = ""
        var sweeper: RepeatedTask?
        /// One per activator with a passivation timeout.
        var passivation: [Task<Void, Never>] = []
        var stopped = false
    }

    /// The actor path the next `assignID` on this task should use (see ``makeActor(path:_:)``).
    @TaskLocal static var pathForNextActor: String?

    /// The deadline for remote calls made by this task (see ``withCallTimeout(_:operation:)``).
    @TaskLocal static var callTimeout: Duration?

    /// Who made the remote call the current task runs: set while a distributed function runs
    /// for another process; nil for a call made on this node (and where an admin action, having
    /// checked its operator's token, acts as the node itself).
    @TaskLocal public static var caller: PeerIdentity?

    /// The node id of ``caller``.
    public static var callerNode: String? { caller?.node }

    /// Set while this task's `Void` remote calls are sent one way (see ``oneWay(_:_:)``).
    @TaskLocal static var oneWayDelivery: OneWayDelivery?

    private init(configuration: Configuration, group: any EventLoopGroup, logger: Logger) {
        var logger = logger
        logger[metadataKey: "meridian.node"] = "\(configuration.node)"
        logger[metadataKey: "meridian.region"] = "\(configuration.region)"
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.localActors = LocalActors(clock: configuration.clock)
        let latency = configuration.oneWayLatency
        self.emulation = configuration.emulateLatency
            ? LinkEmulation(localRegion: configuration.region) { TimeAmount(latency($0, $1)) }
            : nil
        let identity = PeerIdentity(
            node: configuration.node,
            incarnation: configuration.incarnation,
            region: configuration.region,
            address: configuration.advertisedAddress ?? ""
        )
        self.transport = ClusterTransport(
            configuration: configuration.transport,
            local: LocalHandshakeInfo(cluster: configuration.cluster, identity: identity, topologyVersion: configuration.topologyVersion, secret: configuration.secret),
            group: group,
            emulation: emulation,
            logger: logger
        )
        self.membership = MembershipService(configuration: configuration, logger: logger)
        self.receptionist = Receptionist(logger: logger)
    }

    deinit {
        // Operators see when a stopped incarnation's memory went (a node declared down starts
        // again in the same process); tests wait for it.
        logger.debug("actor system freed", metadata: ["meridian.incarnation": "\(configuration.incarnation)"])
    }

    /// Starts a node: binds its listener, starts membership and joins through the seeds.
    public static func start(
        _ configuration: Configuration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> ClusterSystem {
        // The transport's identity needs the bound address, which needs the transport: bind a
        // first system to learn the port, then give it its final identity.
        var configuration = configuration
        if configuration.bindPort == 0 {
            configuration.bindPort = try await freeTCPPort(host: configuration.bindHost)
        }
        let address = configuration.advertisedAddress ?? "\(configuration.bindHost):\(configuration.bindPort)"
        configuration.advertisedAddress = address
        let system = ClusterSystem(configuration: configuration.withAddress(address), group: group, logger: logger)
        system.transport.setDelegate(TransportEvents(system: system))
        try await system.transport.bind(host: configuration.bindHost, port: configuration.bindPort)
        system.state.withLock { $0.address = address }
        system.membership.attach(system)
        system.receptionist.attach(system)
        system.startDeadlineSweeper()
        let statusActor = try system.makeActor(path: NodeStatusActor.path) { NodeStatusActor(actorSystem: system) }
        system.statusActor.withLock { $0 = statusActor }
        if configuration.joinsCluster {
            await system.membership.start(seeds: configuration.seeds)
        }
        logger.info("node started", metadata: ["meridian.address": "\(address)", "meridian.incarnation": "\(configuration.incarnation)"])
        return system
    }

    /// Where peers reach this node.
    public var address: String { state.withLock { $0.address } }

    /// The simulated network, when ``Configuration/emulateLatency`` is set: tests partition
    /// links through it.
    public var linkEmulation: LinkEmulation? { emulation }

    public var transportErrors: ClusterTransport.Counters { transport.errorCounters }

    /// Leaves the cluster gracefully: tells the members, fails pending calls, closes connections.
    public func shutdown() async {
        let (sweeper, passivation): (RepeatedTask?, [Task<Void, Never>]) = state.withLock { state in
            guard !state.stopped else { return (nil, []) }
            state.stopped = true
            return (state.sweeper, state.passivation)
        }
        sweeper?.cancel()
        passivation.forEach { $0.cancel() }
        if configuration.joinsCluster { await membership.leave() }
        pendingCalls.failAll(ClusterError(.shutdown, "the actor system on \(nodeID) is shutting down"))
        await transport.shutdown(reason: "node \(nodeID) is leaving")
        // Everything below holds the system: letting it go is what frees a stopped node (a node
        // declared down starts again in the same process, as a new system).
        let released = (
            status: statusActor.withLock { $0.take() },
            kept: localActors.releaseKept(),
            activators: activators.removeAll(),
            sessions: sessions.withLock { sessions in defer { sessions = [:] }; return Array(sessions.values) }
        )
        withExtendedLifetime(released) {}
        logger.info("node stopped")
    }

    // MARK: - Actor lifecycle

    /// Creates an actor at a well-known path, e.g. `/shard/eu-west/7`.
    /// - Throws: ``ClusterError`` when a live actor already holds the path.
    public func makeActor<Act: DistributedActor>(path: String, _ factory: () throws -> Act) throws -> Act
    where Act.ActorSystem == ClusterSystem {
        let actor = try Self.$pathForNextActor.withValue(path) { try factory() }
        guard actor.id.path == path else {
            throw ClusterError(.actorNotFound, "path \(path) is already taken on \(nodeID); the actor got \(actor.id.path)")
        }
        return actor
    }

    public func assignID<Act: DistributedActor>(_ actorType: Act.Type) -> ClusterActorID where Act.ID == ClusterActorID {
        if let path = Self.pathForNextActor, localActors.reserve(path) {
            return ClusterActorID(node: nodeID, incarnation: incarnation, path: path)
        }
        let number = autoPathCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let path = "/auto/\(Act.self)-\(number)"
        _ = localActors.reserve(path)
        return ClusterActorID(node: nodeID, incarnation: incarnation, path: path)
    }

    public func actorReady<Act: DistributedActor>(_ actor: Act) where Act.ID == ClusterActorID {
        localActors.ready(actor, path: actor.id.path)
    }

    public func resignID(_ id: ClusterActorID) {
        // A passivated actor that outlived its passivation shares its ID with its successor.
        if localActors.resign(id.path) { receptionist.actorResigned(id) }
    }

    func addPassivationTask(_ task: Task<Void, Never>) {
        let stopped = state.withLock { state in
            if !state.stopped { state.passivation.append(task) }
            return state.stopped
        }
        if stopped { task.cancel() }
    }

    /// Never blocks: a local ID returns the live actor, a remote ID a proxy (nil).
    /// - Throws: ``ClusterError/Code/actorNotFound`` for a local ID with no live actor.
    public func resolve<Act: DistributedActor>(id: ClusterActorID, as actorType: Act.Type) throws -> Act?
    where Act.ID == ClusterActorID {
        // Incarnation 0 means "whichever is current" (admin tools, well-known system actors).
        guard id.node == nodeID, id.incarnation == incarnation || id.incarnation == 0 else { return nil }
        guard let actor = localActor(at: id.path) else {
            throw ClusterError(.actorNotFound, "no actor at \(id.path) on this node (\(nodeID))")
        }
        guard let typed = actor as? Act else {
            throw ClusterError(.actorNotFound, "actor at \(id.path) is a \(type(of: actor)), not a \(Act.self)")
        }
        return typed
    }

    /// How many actors live on this node now.
    public var localActorCount: Int { localActors.count }

    /// False once `id` is known gone: a local ID with no live actor, or a node incarnation that
    /// membership declared down. True otherwise (a remote actor is not asked).
    public func mayBeAlive(_ id: ClusterActorID) -> Bool {
        if id.node == nodeID {
            return (id.incarnation == incarnation || id.incarnation == 0) && localActors.find(id.path) != nil
        }
        if case .down = membership.reachability(node: id.node, incarnation: id.incarnation) { return false }
        return true
    }

    public func makeInvocationEncoder() -> ClusterInvocationEncoder {
        ClusterInvocationEncoder()
    }

    // MARK: - Remote calls

    /// Runs `operation` with `timeout` as the deadline of every remote call it makes.
    public static func withCallTimeout<T>(_ timeout: Duration, operation: () async throws -> T) async rethrows -> T {
        try await $callTimeout.withValue(timeout, operation: operation)
    }

    public func remoteCall<Act: DistributedActor, Err: Error, Res: WireCodable>(
        on actor: Act,
        target: RemoteCallTarget,
        invocation: inout ClusterInvocationEncoder,
        throwing: Err.Type,
        returning: Res.Type
    ) async throws -> Res where Act.ID == ClusterActorID {
        if Self.oneWayDelivery != nil {
            throw ClusterError(.serialization, "\(target.identifier) returns a value: only functions returning nothing can be called one way")
        }
        let bytes = try await call(actor.id, target: target, invocation: &invocation)
        var reader = WireReader(bytes: bytes, system: self)
        do {
            return try Res(from: &reader)
        } catch {
            throw ClusterError(.serialization, "cannot decode the result of \(target.identifier) as \(Res.self): \(error)")
        }
    }

    public func remoteCallVoid<Act: DistributedActor, Err: Error>(
        on actor: Act,
        target: RemoteCallTarget,
        invocation: inout ClusterInvocationEncoder,
        throwing: Err.Type
    ) async throws where Act.ID == ClusterActorID {
        if let delivery = Self.oneWayDelivery {
            try sendOneWay(actor.id, target: target, invocation: &invocation, delivery: delivery)
            return
        }
        _ = try await call(actor.id, target: target, invocation: &invocation)
    }

    private func call(_ id: ClusterActorID, target: RemoteCallTarget, invocation: inout ClusterInvocationEncoder) async throws -> [UInt8] {
        try Task.checkCancellation()
        // Every outcome counts, fast failures (node known down) included: they are what callers see.
        let started = ContinuousClock.now
        callMetrics.inFlight.increment()
        defer { callMetrics.inFlight.decrement() }
        do {
            let reply = try await dispatchCall(id, target: target, invocation: &invocation)
            callMetrics.succeeded.record(duration: ContinuousClock.now - started)
            return reply
        } catch {
            callMetrics.failed.record(duration: ContinuousClock.now - started)
            throw error
        }
    }

    /// Sends the call and waits for its reply, its failure or its deadline.
    private func dispatchCall(_ id: ClusterActorID, target: RemoteCallTarget, invocation: inout ClusterInvocationEncoder) async throws -> [UInt8] {
        let timeout = Self.callTimeout ?? configuration.callTimeout
        let callID = pendingCalls.makeID()
        var call = Meridian_Cluster_V1_Call(to: id, invocation: invocation)
        call.callID = callID
        call.timeoutMs = UInt32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let route = try self.route(to: id)
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let session = route.session
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                pendingCalls.insert(callID, .init(continuation: continuation, node: id.node, deadline: deadline))
                do {
                    try send(&call, arguments: invocation.writer.bytes, target: target.identifier, to: id.node, route: route)
                } catch let error as TransportError {
                    pendingCalls.fail(callID, ClusterError(transport: error, node: id.node))
                } catch {
                    pendingCalls.fail(callID, ClusterError(.serialization, "cannot encode the call: \(error)"))
                }
                if Task.isCancelled {
                    pendingCalls.fail(callID, ClusterError(.cancelled, "the calling task was cancelled"))
                }
            }
        } onCancel: {
            if pendingCalls.fail(callID, ClusterError(.cancelled, "the calling task was cancelled")) {
                session?.sendCancel(callID: callID)
            }
        }
    }

    /// Puts `call` on its way to `node`: on the live session (which interns the target name),
    /// or queued while the node is dialed (with the name spelled out).
    func send(_ call: inout Meridian_Cluster_V1_Call, arguments: [UInt8], target: String, to node: String, route: Route) throws {
        if let session = route.session {
            try session.sendCall(&call, arguments: arguments, target: target)
        } else {
            call.targetName = target
            call.arguments = Data(arguments)
            var envelope = Envelope()
            envelope.call = call
            try transport.send(envelope, to: node, address: route.address)
        }
    }

    struct Route {
        var session: PeerSession?
        var address: String
    }

    /// Where a call to `id` goes: the live session to its node, or its address to dial.
    /// Fails fast when the node (that incarnation) is known to be down.
    func route(to id: ClusterActorID) throws -> Route {
        if id.node == nodeID {
            guard id.incarnation == incarnation || id.incarnation == 0 else {
                throw ClusterError(.nodeDown, "\(id.node)#\(id.incarnation) is a previous incarnation of this node")
            }
        }
        if let session = sessions.withLock({ $0[id.node] }), session.connection.isActive {
            let peerIncarnation = session.peer.incarnation
            if peerIncarnation == id.incarnation || id.incarnation == 0 {
                return Route(session: session, address: session.peer.address)
            }
            if peerIncarnation > id.incarnation {
                throw ClusterError(.nodeDown, "\(id.node)#\(id.incarnation) restarted as incarnation \(peerIncarnation)")
            }
        }
        switch membership.reachability(node: id.node, incarnation: id.incarnation) {
        case .down:
            throw ClusterError(.nodeDown, "\(id.node)#\(id.incarnation) is down")
        case .unknown:
            throw ClusterError(.nodeUnreachable, "\(id.node) is not a known member of the cluster")
        case .reachable(let address):
            return Route(session: nil, address: address)
        }
    }

    private func startDeadlineSweeper() {
        let amount = TimeAmount(configuration.deadlineCheckInterval)
        let task = group.next().scheduleRepeatedTask(initialDelay: amount, delay: amount) { [weak self] _ in
            guard let self else { return }
            for (callID, entry) in self.pendingCalls.expired(now: .now()) {
                entry.continuation.resume(throwing: ClusterError(.timeout, "no reply from \(entry.node) within the call's deadline"))
                self.sessions.withLock { $0[entry.node] }?.sendCancel(callID: callID)
            }
        }
        state.withLock { $0.sweeper = task }
    }

    // MARK: - Connections

    func sessionEstablished(_ connection: PeerConnection) -> PeerSession {
        let session = PeerSession(connection: connection, system: self)
        sessions.withLock { $0[connection.peer.node] = session }
        receptionist.peerConnected(session)
        return session
    }

    func sessionClosed(_ connection: PeerConnection) {
        let session = sessions.withLock { sessions -> PeerSession? in
            guard let session = sessions[connection.peer.node], session.connection === connection else { return nil }
            sessions[connection.peer.node] = nil
            return session
        }
        guard let session else { return }
        session.cancelRunning()
        if transport.connection(to: connection.peer.node) == nil {
            pendingCalls.failAll(node: connection.peer.node, ClusterError(.nodeUnreachable, "connection to \(connection.peer.node) closed before the reply"))
        }
    }

    /// Every live session, for broadcasts.
    var allSessions: [PeerSession] { sessions.withLock { Array($0.values) } }

    func session(for node: String) -> PeerSession? { sessions.withLock { $0[node] } }

    /// Sends an envelope to a node, dialing it if needed. Errors are the caller's to ignore.
    func send(_ envelope: Envelope, to node: String?, address: String) throws {
        try transport.send(envelope, to: node, address: address)
    }

    /// Called by membership when a member is down: its calls can never be answered.
    func memberDown(node: String, incarnation: UInt64) {
        if let session = sessions.withLock({ $0[node] }), session.peer.incarnation <= incarnation {
            session.connection.close()
        }
        pendingCalls.failAll(node: node, ClusterError(.nodeDown, "\(node)#\(incarnation) is down"))
    }

    /// Throws ``ClusterError/Code/forbidden`` unless the current call comes from this node or
    /// from a member of the cluster: what only nodes may do (grant items, ban, publish a
    /// catalog, move a player's home) is refused to a tool that merely holds the cluster
    /// secret; operators act through a node's admin gate, with an admin token.
    public func requireMemberCaller(for what: String) throws {
        guard let caller = Self.caller else { return }
        let member = membership.members.contains { $0.id.node == caller.node && $0.id.incarnation == caller.incarnation && !$0.status.isTerminal }
        guard member else {
            throw ClusterError(.forbidden, "\(caller.node) is not a member of the cluster and may not \(what); an operator does it with an admin command and an operator's admin token")
        }
    }

    // MARK: - Topology transfer (bootstrap --seed)

    /// The topology in force on this node: the live one when the node runs one
    /// (``Configuration/topology``), else `started`, the value a part was made with.
    public func topology(startedWith started: Topology) -> Topology {
        configuration.topology?.current ?? started
    }

    func receiveTopology(_ transfer: Meridian_Cluster_V1_TopologyTransfer, on session: PeerSession) {
        if transfer.request {
            let live = configuration.topology?.currentVersion
            guard let yaml = live?.yaml ?? configuration.topologyYAML else { return }
            var envelope = Envelope()
            envelope.topology.version = live.map { UInt64($0.topology.version) } ?? configuration.topologyVersion
            envelope.topology.yaml = yaml
            try? session.connection.send(envelope)
        } else {
            receivedTopology.withLock { $0 = transfer.yaml }
        }
    }

    private let receivedTopology = Mutex<String?>(nil)

    /// Asks the node at `address` for the cluster's topology file (used by `bootstrap --seed`),
    /// repeating the request until it answers: the seed may still be starting.
    public func fetchTopology(from address: String, timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var request = Envelope()
        request.topology.request = true
        while ContinuousClock.now < deadline {
            try? transport.send(request, to: nil, address: address)
            for _ in 0..<10 {
                if let yaml = receivedTopology.withLock({ $0 }) { return yaml }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        throw ClusterError(.timeout, "seed \(address) did not send the topology within \(timeout); is it running, with the same cluster name and secret?")
    }
}

extension ClusterSystem.Configuration {
    func withAddress(_ address: String) -> Self {
        var copy = self
        copy.advertisedAddress = address
        return copy
    }
}

extension ClusterError {
    init(transport error: TransportError, node: String) {
        switch error.code {
        case .overloaded: self.init(.overloaded, "\(node): \(error.message)")
        case .shutdown: self.init(.shutdown, error.message)
        default: self.init(.nodeUnreachable, "\(node): \(error.message)")
        }
    }
}

/// Adapts transport callbacks to the system without a retain cycle (the system owns the
/// transport). Connections can outlive their system — a dial still in its handshake when the
/// node stopped — so the reference is weak, and a connection that completes with no system
/// left is closed.
private struct TransportEvents: TransportDelegate {
    weak var system: ClusterSystem?

    func connectionEstablished(_ connection: PeerConnection) -> any PeerMessageReceiver {
        guard let system else {
            connection.close()
            return NoSystemReceiver()
        }
        return system.sessionEstablished(connection)
    }

    func connectionClosed(_ connection: PeerConnection) {
        system?.sessionClosed(connection)
    }

    func undeliverable(_ envelopes: [Envelope], address: String, error: any Error) {
        guard let system else { return }
        // Calls that never left this node fail now instead of waiting for their deadline.
        for envelope in envelopes {
            guard case .call(let call)? = envelope.kind else { continue }
            system.pendingCalls.fail(call.callID, ClusterError(.nodeUnreachable, "could not reach \(address): \(error)"))
        }
    }
}

/// Receives for a connection whose system is gone (it is being closed).
private struct NoSystemReceiver: PeerMessageReceiver {
    func receive(_ envelope: Envelope, on connection: PeerConnection) {}
}
