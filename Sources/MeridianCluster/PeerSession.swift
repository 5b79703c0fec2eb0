import CoreMetrics
import DequeModule
import Distributed
import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import Synchronization

/// The cluster layer's state for one authenticated connection: the call-target names it has
/// interned in each direction and the inbound calls still running (so a caller's
/// cancellation can reach them). Receives every envelope of its connection.
final class PeerSession: PeerMessageReceiver {
    let connection: PeerConnection
    /// Strong: the session lives as long as its connection (whose handler holds it) and may
    /// still receive after the system's shutdown began; the system forgets every session when it
    /// has closed its connections, which ends the cycle.
    let system: ClusterSystem

    private struct OutboundTargets {
        var ids: [String: UInt32] = [:]
        /// Ids whose defining frame may not be queued yet: send the name along again.
        var unconfirmed: Set<UInt32> = []
        var next: UInt32 = 1
    }

    private let outboundTargets = Mutex(OutboundTargets())
    private let inboundTargets = Mutex<[UInt32: String]>([:])
    private let running = Mutex<[UInt64: Task<Void, Never>]>([:])

    /// The largest number of targets interned per connection; a peer defining more is cut off.
    static let maxInternedTargets = 65_536

    init(connection: PeerConnection, system: ClusterSystem) {
        self.connection = connection
        self.system = system
    }

    var peer: PeerIdentity { connection.peer }

    // MARK: - Outbound calls

    /// Sends a call, interning its target name on this connection.
    func sendCall(_ call: inout Meridian_Cluster_V1_Call, arguments: [UInt8], target: String) throws {
        let (id, define) = outboundTargets.withLock { table -> (UInt32, Bool) in
            if let id = table.ids[target] { return (id, table.unconfirmed.contains(id)) }
            guard table.next < UInt32(Self.maxInternedTargets) else { return (0, true) }
            let id = table.next
            table.next += 1
            table.ids[target] = id
            table.unconfirmed.insert(id)
            return (id, true)
        }
        call.targetID = id
        if define { call.targetName = target }
        try connection.send(frame: EnvelopeCoding.frame(
            kind: Meridian_Cluster_V1_Call.envelopeField, call,
            appending: arguments, asField: Meridian_Cluster_V1_Call.argumentsField
        ))
        if define, id != 0 {
            _ = outboundTargets.withLock { $0.unconfirmed.remove(id) }
        }
    }

    func sendCancel(callID: UInt64) {
        var envelope = Envelope()
        envelope.cancel.callID = callID
        try? connection.send(envelope)
    }

    // MARK: - Replies to inbound calls

    func sendValue(callID: UInt64, bytes: [UInt8]) {
        var reply = Meridian_Cluster_V1_Reply()
        reply.callID = callID
        finish(callID: callID, try? EnvelopeCoding.frame(
            kind: Meridian_Cluster_V1_Reply.envelopeField, reply,
            appending: bytes, asField: Meridian_Cluster_V1_Reply.valueField
        ))
    }

    func sendError(callID: UInt64, code: Meridian_Cluster_V1_RemoteError.Code, type: String, message: String) {
        var envelope = Envelope()
        envelope.reply.callID = callID
        envelope.reply.error.code = code
        envelope.reply.error.type = type
        envelope.reply.error.message = message
        finish(callID: callID, envelope)
    }

    private func finish(callID: UInt64, _ envelope: Envelope) {
        finish(callID: callID, try? EnvelopeCoding.frame(envelope))
    }

    private func finish(callID: UInt64, _ frame: ByteBuffer?) {
        running.withLock { _ = $0.removeValue(forKey: callID) }
        if let frame { try? connection.send(frame: frame) }
    }

    // MARK: - Inbound

    func receive(_ envelope: Envelope, on connection: PeerConnection) {
        switch envelope.kind {
        case .call(let call)?:
            receiveCall(call)
        case .reply(let reply)?:
            receiveReply(reply)
        case .cancel(let cancel)?:
            running.withLock { $0.removeValue(forKey: cancel.callID) }?.cancel()
        case .swim(let swim)?:
            system.membership.receive(swim, from: connection.peer)
        case .receptionist(let sync)?:
            system.receptionist.receive(sync, from: connection.peer)
        case .topology(let transfer)?:
            system.receiveTopology(transfer, on: self)
        case .hello?, .helloAck?, .helloProof?, .reject?, .heartbeat?, .fragment?, .bulkCredit?, .goodbye?, nil:
            break  // handled by the transport
        }
    }

    private func receiveReply(_ reply: Meridian_Cluster_V1_Reply) {
        switch reply.outcome {
        case .value(let data)?:
            system.pendingCalls.succeed(reply.callID, bytes: Array(data))
        case .error(let error)?:
            system.pendingCalls.fail(reply.callID, ClusterError(remote: error, peer: peer.node))
        case nil:
            system.pendingCalls.succeed(reply.callID, bytes: [])
        }
    }

    private func receiveCall(_ call: Meridian_Cluster_V1_Call) {
        let target: String
        do {
            target = try resolveTarget(call)
        } catch {
            if !call.oneWay { sendError(callID: call.callID, code: .targetNotFound, type: "ClusterError", message: "\(error)") }
            return
        }
        guard call.recipientIncarnation == system.incarnation || call.recipientIncarnation == 0,
              let (actor, counted) = system.localActorForCall(at: call.recipientPath)
        else {
            if !call.oneWay {
                sendError(
                    callID: call.callID,
                    code: .actorNotFound,
                    type: "ClusterError",
                    message: "no actor at \(call.recipientPath) on \(system.nodeID)#\(system.incarnation)"
                )
            }
            return
        }
        let inbound = InboundCall(
            actor: actor, counted: counted, path: call.recipientPath, target: target,
            arguments: call.arguments, genericSubstitutions: call.genericSubstitutions
        )
        if call.oneWay {
            enqueueOneWay(inbound)
            return
        }
        let callID = call.callID
        let handler = ClusterResultHandler(session: self, callID: callID, oneWay: false)
        let limit = system.configuration.maxInboundCallsPerPeer
        // Registered under the lock that `finish` takes, so the entry cannot outlive the call.
        let admitted = running.withLock { running -> Bool in
            guard running.count < limit else { return false }
            running[callID] = Task { await self.execute(inbound, handler: handler) }
            return true
        }
        if !admitted {
            system.inboundCallsRefused.increment()
            if counted { system.localActors.callEnded(inbound.path, actor: actor) }
            sendError(
                callID: callID, code: .overloaded, type: "ClusterError",
                message: "\(system.nodeID) already runs \(limit) calls from \(peer.node) (ClusterSystem.Configuration.maxInboundCallsPerPeer); retry later"
            )
        }
    }

    /// A call on its way to a local actor.
    private struct InboundCall: Sendable {
        let actor: any DistributedActor
        /// Whether the activation registry counts this call (``LocalActors/callEnded(_:actor:)``).
        let counted: Bool
        let path: String
        let target: String
        /// Copied into the decoder's array by the call's own task, not on the connection's
        /// event loop (for a large message that copy takes milliseconds).
        let arguments: Data
        let genericSubstitutions: [String]
    }

    private func execute(_ call: InboundCall, handler: ClusterResultHandler) async {
        var decoder = ClusterInvocationDecoder(arguments: Array(call.arguments), genericSubstitutions: call.genericSubstitutions, system: system)
        do {
            // The function may ask who called (``ClusterSystem/requireMemberCaller(for:)``).
            try await ClusterSystem.$caller.withValue(peer) {
                try await system.executeDistributedTarget(on: call.actor, target: RemoteCallTarget(call.target), invocationDecoder: &decoder, handler: handler)
            }
        } catch let error as ExecuteDistributedTargetError {
            if !handler.oneWay { sendError(callID: handler.callID, code: .targetNotFound, type: "ExecuteDistributedTargetError", message: "\(error)") }
        } catch {
            if !handler.oneWay { sendError(callID: handler.callID, code: .badArguments, type: String(reflecting: type(of: error)), message: "\(error)") }
        }
        if call.counted { system.localActors.callEnded(call.path, actor: call.actor) }
    }

    // MARK: - One-way calls

    /// The most one-way calls waiting for one actor; more are dropped (and counted) — a peer
    /// streaming faster than the actor consumes is not allowed to grow this node's memory.
    static let maxQueuedOneWayCalls = 4096

    /// One-way calls waiting, per recipient path, in arrival order. A path present here has one
    /// task running its calls one after another (so they run in the order they were sent); the
    /// task ends, and the entry goes, when the queue is empty.
    private let oneWay = Mutex<[String: Deque<InboundCall>]>([:])

    private func enqueueOneWay(_ call: InboundCall) {
        enum Outcome { case queued, start, full }
        let outcome = oneWay.withLock { queues -> Outcome in
            guard queues[call.path] != nil else {
                queues[call.path] = [call]
                return .start
            }
            guard queues[call.path]!.count < Self.maxQueuedOneWayCalls else { return .full }
            queues[call.path]!.append(call)
            return .queued
        }
        switch outcome {
        case .queued:
            break
        case .start:
            let path = call.path
            Task { await self.runOneWay(path) }
        case .full:
            system.oneWayMetrics.droppedOnReceive.increment()
            if call.counted { system.localActors.callEnded(call.path, actor: call.actor) }
        }
    }

    private func runOneWay(_ path: String) async {
        let handler = ClusterResultHandler(session: self, callID: 0, oneWay: true)
        while let call = nextOneWay(path) {
            await execute(call, handler: handler)
        }
    }

    private func nextOneWay(_ path: String) -> InboundCall? {
        oneWay.withLock { queues in
            guard let next = queues[path]?.popFirst() else {
                queues[path] = nil
                return nil
            }
            return next
        }
    }

    private func resolveTarget(_ call: Meridian_Cluster_V1_Call) throws -> String {
        if call.targetID == 0 { return call.targetName }
        return try inboundTargets.withLock { table in
            if !call.targetName.isEmpty {
                guard table.count < Self.maxInternedTargets || table[call.targetID] != nil else {
                    throw ClusterError(.targetNotFound, "peer interned more than \(Self.maxInternedTargets) call targets")
                }
                table[call.targetID] = call.targetName
                return call.targetName
            }
            guard let name = table[call.targetID] else {
                throw ClusterError(.targetNotFound, "call target id \(call.targetID) was never defined on this connection")
            }
            return name
        }
    }

    /// Cancels every call still running for this connection (it closed).
    func cancelRunning() {
        let tasks = running.withLock { running in
            defer { running.removeAll() }
            return Array(running.values)
        }
        for task in tasks { task.cancel() }
    }
}

extension ClusterError {
    init(remote: Meridian_Cluster_V1_RemoteError, peer: String) {
        switch remote.code {
        case .actorNotFound: self.init(.actorNotFound, remote.message)
        case .targetNotFound: self.init(.targetNotFound, remote.message)
        case .badArguments: self.init(.serialization, remote.message)
        case .timeout: self.init(.timeout, remote.message)
        case .cancelled: self.init(.cancelled, remote.message)
        case .overloaded: self.init(.overloaded, remote.message)
        default: self = .remoteError(type: remote.type, message: remote.message)
        }
    }
}
