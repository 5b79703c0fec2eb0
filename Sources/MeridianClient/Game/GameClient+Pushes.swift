import Logging
import MeridianSimulation
import MeridianWire
import NIOCore
import Synchronization

extension GameClient {
    /// Runs on the connection's event loop for every push (request id 0).
    func handlePush(_ message: ServerMessage, generation: UInt64) {
        switch message.body {
        case .delta(let delta):
            applyDelta(delta, generation: generation)
        case .matchEvent(let proto):
            let event = MatchEvent(proto: proto)
            state.withLock { state in
                if state.matchID != event.matchID {
                    // Inputs sent to an earlier match never show up in this one.
                    if state.matchID != nil { state.inputLatency.reset() }
                    state.matchID = event.matchID
                    state.forgetSnapshots()
                    state.ownEntity = nil
                }
            }
            eventSink.yield(.matchEvent(event))
        case .result(let proto):
            // The match is over: inputs still in flight are never reflected; stop timing them.
            state.withLock { $0.inputLatency.reset() }
            eventSink.yield(.result(MatchResult(proto: proto)))
        case .profile(let proto):
            eventSink.yield(.profile(Profile(proto: proto)))
        case .queueStatus(let proto):
            eventSink.yield(.queueStatus(QueueStatus(proto: proto)))
        case .homeChanged(let proto):
            eventSink.yield(.homeChanged(region: proto.homeRegion, epoch: proto.epoch))
        case .partyInvitation(let proto):
            eventSink.yield(.partyInvitation(PartyInvitation(proto: proto)))
        case .redirect(let redirect):
            followRedirect(to: redirect.gateways, reason: redirect.reason, generation: generation)
        case .error(let error):
            let failure = MeridianClientError(server: error)
            // A closing error is reported with the disconnection instead.
            if failure.serverCode?.closesConnection != true { eventSink.yield(.serverError(failure)) }
        default:
            logger.trace("ignoring an unexpected push")
        }
    }

    /// Applies a delta to the match's receiver, acknowledges the tick, records input latency.
    private func applyDelta(_ delta: Meridian_Client_V1_StateDelta, generation: UInt64) {
        let now = NIODeadline.now()
        enum Outcome {
            case applied(UInt32, ReplicatedEntity?, MeridianClientConnection?, [Duration], GameClient.SnapshotHandler?)
            case ignored, failed(String)
        }
        let delay = configuration.maxAckDelay
        let outcome = state.withLock { state -> Outcome in
            guard state.generation == generation else { return .ignored }
            if state.matchID != delta.matchID {
                if state.matchID != nil { state.inputLatency.reset() }
                state.matchID = delta.matchID
                state.forgetSnapshots()
            }
            let ackTick: UInt32?
            do {
                ackTick = try state.receiver.receive([UInt8](delta.packet))
            } catch {
                return .failed("\(error)")
            }
            guard let tick = ackTick, let snapshot = state.receiver.latest else { return .ignored }
            let entityID = MatchPlayerID(truncatingIfNeeded: delta.entity)
            state.ownEntityID = entityID
            state.ownEntity = snapshot.entities.first { $0.id == entityID }
            let latencies = state.inputLatency.applied(upTo: delta.lastInput, at: now)
            if delay > .zero { state.pendingAck = tick }
            return .applied(tick, state.ownEntity, state.connection, latencies, state.snapshotHandler)
        }
        switch outcome {
        case .ignored:
            return
        case .failed(let reason):
            // Without an ack the gateway falls back to a full snapshot; nothing else to do.
            logger.debug("dropping an undecodable delta", metadata: ["meridian.reason": "\(reason)"])
        case .applied(let tick, let own, let connection, let latencies, let handler):
            if let onInputLatency { for latency in latencies { onInputLatency(latency) } }
            // First the handler: inputs it sends carry the ack.
            handler?.call(tick, own)
            if delay == .zero {
                Self.sendAck(tick, on: connection)
            } else {
                let scheduleFlush = state.withLock { state -> Bool in
                    guard state.pendingAck != nil, !state.ackFlushScheduled else { return false }
                    state.ackFlushScheduled = true
                    return true
                }
                if scheduleFlush { connection?.schedule(in: delay) { [weak self] in self?.flushAck(generation: generation) } }
            }
            if configuration.snapshotEvents { eventSink.yield(.snapshotApplied(tick: tick, own: own)) }
        }
    }

    /// Sends the pending ack that no input batch carried within ``Configuration/maxAckDelay``.
    private func flushAck(generation: UInt64) {
        let pending = state.withLock { state -> (UInt32, MeridianClientConnection?)? in
            state.ackFlushScheduled = false
            guard state.generation == generation, let tick = state.pendingAck else { return nil }
            state.pendingAck = nil
            return (tick, state.connection)
        }
        if let (tick, connection) = pending { Self.sendAck(tick, on: connection) }
    }

    private static func sendAck(_ tick: UInt32, on connection: MeridianClientConnection?) {
        var ack = Meridian_Client_V1_SnapshotAck()
        ack.tick = tick
        connection?.send(.ack(ack))
    }

    /// The gateway is leaving: resume the session at the first of `gateways` that answers. The
    /// closing connection's end is not reported (it is followed); failing everywhere is.
    private func followRedirect(to gateways: [String], reason: String, generation: UInt64) {
        guard configuration.followRedirects, token != nil else { return }
        let taken = state.withLock { state -> Bool in
            guard state.generation == generation else { return false }
            state.generation &+= 1  // the old connection's close and late pushes are ignored
            return true
        }
        guard taken else { return }
        logger.debug("following the gateway's redirect", metadata: ["meridian.reason": "\(reason)", "meridian.gateways": "\(gateways)"])
        let redirectedAt = ContinuousClock.now
        Task {
            var failure = MeridianClientError(.connectionClosed, "\(reason); no other gateway was named")
            for gateway in gateways {
                do {
                    let (host, port) = try Self.parseAddress(gateway)
                    try await reconnect(host: host, port: port)
                    eventSink.yield(.redirected(gateway: gateway, after: ContinuousClock.now - redirectedAt))
                    return
                } catch let error as MeridianClientError {
                    failure = error
                } catch {
                    failure = MeridianClientError(.connectionClosed, "\(error)")
                }
            }
            eventSink.yield(.disconnected(failure))
        }
    }

    /// Runs on the event loop once the connection ends.
    func handleClose(_ reason: MeridianClientError, generation: UInt64) {
        let current = state.withLock { state -> Bool in
            guard state.generation == generation else { return false }
            state.connection = nil
            state.closeReason = reason
            return true
        }
        if current { eventSink.yield(.disconnected(reason)) }
    }
}
