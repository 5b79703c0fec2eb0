/// Merging updates and moving members between statuses; every status change goes through
/// `setStatus`, `setMyStatus`, `add` or `remove`, which emit exactly one `changed` each.
extension SWIMStateMachine {
    mutating func merge(_ updates: [MemberUpdate], now: SWIMInstant, into out: inout [SWIMDirective]) {
        for update in updates {
            merge(update, now: now, into: &out)
        }
    }

    mutating func merge(_ incoming: MemberUpdate, now: SWIMInstant, into out: inout [SWIMDirective]) {
        var update = incoming
        // Removal is each node's local decision; on the wire it can only mean down.
        if update.status == .removed { update.status = .down }

        if update.id.node == me.id.node {
            mergeAboutMyself(update, now: now, into: &out)
            return
        }
        if isRemoved(update.id) { return }
        guard let known = others[update.id.node]?.member else {
            add(update, now: now, into: &out)
            return
        }
        if update.id.incarnation < known.id.incarnation { return }
        if update.id.incarnation > known.id.incarnation {
            // The node restarted: its previous life is over whatever we thought of it.
            if known.status != .down {
                setStatus(of: known.id.node, to: .down, generation: known.generation, now: now, into: &out)
            }
            remove(known.id.node, into: &out)
            add(update, now: now, into: &out)
            return
        }
        guard update.supersedes(status: known.status, generation: known.generation) else { return }
        setStatus(
            of: known.id.node,
            to: update.status,
            generation: max(update.generation, known.generation),
            now: now,
            into: &out
        )
    }

    private mutating func mergeAboutMyself(_ update: MemberUpdate, now: SWIMInstant, into out: inout [SWIMDirective]) {
        guard !me.status.isTerminal, update.id.incarnation >= me.id.incarnation else { return }
        if update.id.incarnation > me.id.incarnation {
            // A newer process with our node id exists: we are a leftover and must step down.
            setMyStatus(.down, now: now, into: &out)
            return
        }
        switch update.status {
        case .down, .removed:
            setMyStatus(.down, now: now, into: &out)
        case .suspect:
            // Being suspected means being a member: a lost joinAck does not keep us joining.
            if me.status == .joining { setMyStatus(.up, now: now, into: &out) }
            if update.generation >= me.generation {
                me.generation = update.generation + 1
            }
            // Also for a suspicion we refuted already: whoever still holds it missed the
            // refutation (its gossip budget may have run out on other members), and only we can
            // tell it — unanswered, it would declare us down when its suspicion expires.
            enqueueGossip(me.update)
        case .up:
            if me.status == .joining { setMyStatus(.up, now: now, into: &out) }
            if update.generation > me.generation {
                me.generation = update.generation
                enqueueGossip(me.update)
            }
        case .joining:
            break
        }
    }

    mutating func setMyStatus(_ status: MemberStatus, now: SWIMInstant, into out: inout [SWIMDirective]) {
        let previous = me.status
        guard previous != status else { return }
        me.status = status
        out.append(.changed(MembershipChange(member: me, previous: previous, current: status)))
        enqueueGossip(me.update)
        switch status {
        case .up:
            nextProbeAt = now
            joining.nextAttempt = now + configuration.joinRetryInterval
        case .down, .removed:
            probes.removeAll()
            nextProbeAt = nil
            joining.startedAt = nil
        case .joining, .suspect:
            break
        }
    }

    /// Changes a known member's status and generation, arming or clearing its timers.
    mutating func setStatus(
        of node: String,
        to status: MemberStatus,
        generation: UInt64,
        now: SWIMInstant,
        into out: inout [SWIMDirective]
    ) {
        guard var state = others[node] else { return }
        let previous = state.member.status
        let previousGeneration = state.member.generation
        state.member.status = status
        state.member.generation = generation
        switch status {
        case .suspect:
            // A new suspicion (or a suspicion of a newer generation) gets a full timeout.
            if previous != .suspect || generation != previousGeneration {
                state.suspicionDeadline =
                    now + configuration.suspicionTimeout(roundTrip: roundTrip(toRegion: state.member.region))
            }
            state.removalDeadline = nil
        case .down:
            state.suspicionDeadline = nil
            if previous != .down { state.removalDeadline = now + configuration.removalDelay }
        case .joining, .up, .removed:
            state.suspicionDeadline = nil
            state.removalDeadline = nil
        }
        others[node] = state
        enqueueGossip(state.member.update)
        if previous != status {
            out.append(.changed(MembershipChange(member: state.member, previous: previous, current: status)))
        }
    }

    /// A member we did not know.
    private mutating func add(_ update: MemberUpdate, now: SWIMInstant, into out: inout [SWIMDirective]) {
        let member = Member(
            id: update.id,
            region: update.region,
            address: update.address,
            status: update.status,
            generation: update.generation
        )
        var state = MemberState(member: member)
        switch member.status {
        case .suspect:
            state.suspicionDeadline =
                now + configuration.suspicionTimeout(roundTrip: roundTrip(toRegion: member.region))
        case .down:
            state.removalDeadline = now + configuration.removalDelay
        case .joining, .up, .removed:
            break
        }
        others[member.id.node] = state
        nodeByAddress[member.address] = member.id.node
        out.append(.changed(MembershipChange(member: member, previous: nil, current: member.status)))
        enqueueGossip(member.update)
        if !member.status.isTerminal { insertIntoProbeOrder(member.id.node) }
    }

    /// Forgets a member, keeping a tombstone of its incarnation.
    mutating func remove(_ node: String, into out: inout [SWIMDirective]) {
        guard let state = others.removeValue(forKey: node) else { return }
        var member = state.member
        let previous = member.status
        member.status = .removed
        out.append(.changed(MembershipChange(member: member, previous: previous, current: .removed)))

        var tombstone = member.update
        tombstone.status = .down
        if tombstones[node].map({ $0.id.incarnation <= member.id.incarnation }) ?? true {
            tombstones[node] = tombstone
        }
        if nodeByAddress[member.address] == node { nodeByAddress[member.address] = nil }
        if gossipQueue[node]?.update.id == member.id { gossipQueue[node] = nil }
        probes = probes.filter { $0.value.target != member.id }
    }

    mutating func expireSuspicions(now: SWIMInstant, into out: inout [SWIMDirective]) {
        let expired = others.values
            .filter { state in
                guard state.member.status == .suspect, let deadline = state.suspicionDeadline else { return false }
                // An unhealthy member (its own probes unanswered) waits longer before it decides.
                let patience = configuration.suspicionTimeout(roundTrip: roundTrip(toRegion: state.member.region)) * health
                return deadline + patience <= now
            }
            .map(\.member)
            .sorted { $0.id.node < $1.id.node }
        for member in expired {
            setStatus(of: member.id.node, to: .down, generation: member.generation, now: now, into: &out)
        }
    }

    mutating func removeExpired(now: SWIMInstant, into out: inout [SWIMDirective]) {
        let expired = others.values
            .filter { $0.member.status == .down && ($0.removalDeadline.map { $0 <= now } ?? false) }
            .map(\.member.id.node)
            .sorted()
        for node in expired {
            remove(node, into: &out)
        }
    }

    /// Our full view, for a `joinAck`.
    var allUpdates: [MemberUpdate] {
        members.map(\.update)
    }
}
