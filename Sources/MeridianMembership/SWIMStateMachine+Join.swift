/// Joining a cluster through seeds, bootstrapping the first node, and merging clusters that
/// seeds bootstrapped apart.
extension SWIMStateMachine {
    /// Starts joining through `seeds` (cluster listener addresses).
    ///
    /// The rule for who may start a cluster:
    /// - no seed other than ourselves (an empty list, or only our own address): `up` at once;
    /// - we are a seed (`selfIsSeed`, or our own address is in `seeds`): we accept `join`s
    ///   from other nodes even while joining, and become `up` when we do; if no other seed
    ///   answered within `2 · joinRetryInterval` we become `up` alone. Seeds started together
    ///   therefore converge on one cluster;
    /// - otherwise we re-send `join` every `joinRetryInterval` until one is accepted.
    ///
    /// Once `up`, every `joinRetryInterval` we send `join` to each seed we have no live
    /// member for. That merges two clusters whose seeds started apart (both sides exchange
    /// member lists), and tells a node the cluster declared dead while it was cut off that
    /// it is dead (the seed answers with its `down` verdict). A seed that is gone for good
    /// costs one message per interval.
    public mutating func join(seeds: [String], selfIsSeed: Bool = false, now: SWIMInstant) -> [SWIMDirective] {
        guard me.status == .joining, joining.startedAt == nil else { return [] }
        var otherSeeds: [String] = []
        for seed in seeds where seed != me.address && !otherSeeds.contains(seed) {
            otherSeeds.append(seed)
        }
        joining = JoinState(
            seeds: otherSeeds,
            isSeed: selfIsSeed || seeds.contains(me.address),
            startedAt: now,
            nextAttempt: now + configuration.joinRetryInterval
        )
        var out: [SWIMDirective] = []
        if otherSeeds.isEmpty {
            setMyStatus(.up, now: now, into: &out)
        } else {
            sendJoins(to: otherSeeds, into: &out)
        }
        return out
    }

    private func hasLiveMember(at address: String) -> Bool {
        guard let node = nodeByAddress[address], let status = others[node]?.member.status else { return false }
        return !status.isTerminal
    }

    private func sendJoins(to seeds: [String], into out: inout [SWIMDirective]) {
        for seed in seeds {
            out.append(
                .send(.join(me.update), to: nodeByAddress[seed].flatMap { others[$0]?.member.id }, address: seed)
            )
        }
    }

    mutating func tickJoin(now: SWIMInstant, into out: inout [SWIMDirective]) {
        guard let startedAt = joining.startedAt, let nextAttempt = joining.nextAttempt else { return }
        switch me.status {
        case .joining:
            if joining.isSeed, now >= startedAt + configuration.joinRetryInterval * 2 {
                setMyStatus(.up, now: now, into: &out)
                return
            }
            if now >= nextAttempt {
                sendJoins(to: joining.seeds, into: &out)
                joining.nextAttempt = now + configuration.joinRetryInterval
            }
        case .up:
            // Seeds we have no live member for: either a cluster that started apart (its
            // seed accepts us and we exchange member lists) or the cluster declared us dead
            // while we could not hear it (its seed tells us, and we step down).
            guard now >= nextAttempt else { return }
            let lost = joining.seeds.filter { !hasLiveMember(at: $0) }
            sendJoins(to: lost, into: &out)
            joining.contacted.formUnion(lost)
            joining.nextAttempt = now + configuration.joinRetryInterval
        case .suspect, .down, .removed:
            break
        }
    }

    mutating func handleJoin(
        _ update: MemberUpdate,
        from address: String,
        now: SWIMInstant,
        into out: inout [SWIMDirective]
    ) {
        guard !me.status.isTerminal, update.id.node != me.id.node else { return }
        if me.status == .joining {
            // Only a seed may found the cluster with the node that asks.
            guard joining.isSeed else { return }
            setMyStatus(.up, now: now, into: &out)
        }
        var accepted = update
        // Acceptance by an up member is what makes a joiner up.
        if accepted.status == .joining { accepted.status = .up }
        merge(accepted, now: now, into: &out)
        touch(address: address, now: now)

        let list: [MemberUpdate]
        if others[update.id.node]?.member.id == update.id {
            // Possibly showing the joiner down, which tells it to restart.
            list = allUpdates
        } else if isRemoved(update.id), let tombstone = tombstones[update.id.node] {
            // A removed incarnation asks again: tell it that it is dead, nothing else.
            list = [tombstone]
        } else {
            return  // older than an incarnation we know: a stale, delayed retry
        }
        out.append(.send(.joinAck(members: list), to: update.id, address: address))
    }

    mutating func handleJoinAck(
        _ members: [MemberUpdate],
        from address: String,
        now: SWIMInstant,
        into out: inout [SWIMDirective]
    ) {
        guard !me.status.isTerminal else { return }
        let wasUp = me.status == .up
        let contacted = joining.contacted.remove(address) != nil
        // Ourselves first, so that the driver sees us up (or told dead) before the others.
        let aboutMe = members.filter { $0.id.node == me.id.node }
        merge(aboutMe, now: now, into: &out)
        if me.status == .joining { setMyStatus(.up, now: now, into: &out) }
        guard me.status == .up else { return }
        merge(members.filter { $0.id.node != me.id.node }, now: now, into: &out)
        touch(address: address, now: now)
        if wasUp, contacted {
            // Two clusters meet: we just learnt their members, now they learn ours.
            out.append(.send(.joinAck(members: allUpdates), to: recipient(at: address), address: address))
        }
    }
}
