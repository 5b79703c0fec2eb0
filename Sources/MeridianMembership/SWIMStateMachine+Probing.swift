/// Failure detection: one direct probe per `probeInterval`, indirect probes through helpers
/// when the direct one times out, suspicion when neither answers in time.
extension SWIMStateMachine {
    mutating func startScheduledProbe(now: SWIMInstant, into out: inout [SWIMDirective]) {
        guard let due = nextProbeAt, now >= due else { return }
        if let target = nextProbeTarget() {
            startProbe(of: target, now: now, into: &out)
        }
        // Keep the period's phase; after a stall (a slow driver), restart from now rather
        // than firing a burst of probes to catch up.
        var following = due + configuration.probeInterval
        if following <= now { following = now + configuration.probeInterval }
        nextProbeAt = following
    }

    mutating func startProbe(of node: String, now: SWIMInstant, into out: inout [SWIMDirective]) {
        guard let target = others[node]?.member else { return }
        let sequence = nextSequence()
        probes[sequence] = Probe(
            target: target.id,
            directDeadline: now + configuration.directPingTimeout(roundTrip: roundTrip(toRegion: target.region))
        )
        out.append(
            .send(
                .ping(sequence: sequence, gossip: gossipPayload(for: node)),
                to: target.id,
                address: target.address
            )
        )
    }

    func isBeingProbed(_ node: String) -> Bool {
        probes.values.contains { $0.target.node == node }
    }

    /// Moves every probe past a deadline on: ask helpers, or give up and suspect.
    mutating func checkProbes(now: SWIMInstant, into out: inout [SWIMDirective]) {
        for sequence in probes.keys.sorted() {
            guard var probe = probes[sequence] else { continue }
            guard let target = others[probe.target.node]?.member, target.id == probe.target,
                !target.status.isTerminal
            else {
                probes[sequence] = nil
                continue
            }
            if probe.finalDeadline == nil, now >= probe.directDeadline {
                let helpers = chooseHelpers(for: target)
                probe.helpersAsked = !helpers.isEmpty
                // The helpers need the rest of the period plus their own path's round trips:
                // requester → helper → target and back.
                let window = max(configuration.probeInterval - configuration.pingTimeout, .zero)
                let path = helpers.map { indirectPath(through: $0, to: target) }.max() ?? .zero
                probe.finalDeadline = probe.directDeadline + window + path
                probes[sequence] = probe
                for helper in helpers {
                    out.append(
                        .send(
                            .pingRequest(
                                sequence: sequence,
                                target: target.id,
                                targetAddress: target.address,
                                gossip: gossipPayload(for: helper.id.node)
                            ),
                            to: helper.id,
                            address: helper.address
                        )
                    )
                }
            }
            if let finalDeadline = probe.finalDeadline, now >= finalDeadline {
                probes[sequence] = nil
                if countsAgainstOwnHealth(probe) { health = min(health + 1, configuration.maxLocalHealth) }
                if target.status == .up {
                    setStatus(of: target.id.node, to: .suspect, generation: target.generation, now: now, into: &out)
                }
            }
        }
    }

    /// Whether an unanswered probe says more about this member's links than about its target:
    /// helpers were asked and none answered, or there was none to ask although other members
    /// exist (each is suspect already). With a single other member there is no third party, and
    /// nothing can be told about whose links failed: health stays as it is.
    private func countsAgainstOwnHealth(_ probe: Probe) -> Bool {
        guard !probe.heardFromHelper else { return false }
        return probe.helpersAsked || others.count >= 2
    }

    private func indirectPath(through helper: Member, to target: Member) -> Duration {
        roundTrip(me.region, helper.region) + roundTrip(helper.region, target.region)
    }

    /// Up to `indirectProbeCount` live members, those in the target's region first: they
    /// reach it over an in-region link, so a slow or broken link between our region and
    /// theirs does not make the whole region look dead. Then the shortest paths; random
    /// among equals, so that one bad helper does not fail every probe.
    mutating func chooseHelpers(for target: Member) -> [Member] {
        let count = max(configuration.indirectProbeCount, 0)
        guard count > 0 else { return [] }
        var candidates = others.values.map(\.member)
            .filter { $0.status == .up && $0.id != target.id }
            .sorted { $0.id.node < $1.id.node }
        random.shuffle(&candidates)
        let ranked = candidates.enumerated().sorted { lhs, rhs in
            let lhsKey = (
                lhs.element.region == target.region ? 0 : 1, indirectPath(through: lhs.element, to: target), lhs.offset
            )
            let rhsKey = (
                rhs.element.region == target.region ? 0 : 1, indirectPath(through: rhs.element, to: target), rhs.offset
            )
            return lhsKey < rhsKey
        }
        return ranked.prefix(count).map(\.element)
    }

    /// Next member in a shuffled round-robin over `up` and `suspect` members: every member
    /// is probed once per round, in an order no member can predict or synchronise on.
    mutating func nextProbeTarget() -> String? {
        for _ in 0..<2 {
            while probeCursor < probeOrder.count {
                let node = probeOrder[probeCursor]
                probeCursor += 1
                if let status = others[node]?.member.status, status == .up || status == .suspect,
                    !isBeingProbed(node)
                {
                    return node
                }
            }
            probeOrder = others.values.map(\.member)
                .filter { $0.status == .up || $0.status == .suspect }
                .map(\.id.node)
                .sorted()
            random.shuffle(&probeOrder)
            probeCursor = 0
        }
        return nil
    }

    /// New members go to a random place in the rest of the current round, as in SWIM, so
    /// they are probed within this round rather than after it.
    mutating func insertIntoProbeOrder(_ node: String) {
        guard !probeOrder[probeCursor...].contains(node) else { return }
        let position = probeCursor + random.below(probeOrder.count - probeCursor + 1)
        probeOrder.insert(node, at: position)
    }

    mutating func handleAck(sequence: UInt64, target: MemberID, now: SWIMInstant, into out: inout [SWIMDirective]) {
        if let relay = relays[sequence], relay.target == target {
            relays[sequence] = nil
            out.append(
                .send(
                    .ack(
                        sequence: relay.requestSequence,
                        target: target,
                        gossip: gossipPayload(for: relay.requester?.node)
                    ),
                    to: relay.requester,
                    address: relay.requesterAddress
                )
            )
        } else if let probe = probes[sequence], probe.target == target {
            probes[sequence] = nil
            health = max(health - 1, 0)
        }
    }

    mutating func handlePingRequest(
        sequence: UInt64,
        target: MemberID,
        targetAddress: String,
        from address: String,
        now: SWIMInstant,
        into out: inout [SWIMDirective]
    ) {
        let requester = recipient(at: address)
        if target.node == me.id.node {
            // Asked to probe ourselves (the requester's view is stale): answering is the probe.
            if target == me.id, !me.status.isTerminal {
                out.append(
                    .send(
                        .ack(sequence: sequence, target: me.id, gossip: gossipPayload(for: requester?.node)),
                        to: requester,
                        address: address
                    )
                )
            }
            return
        }
        guard !me.status.isTerminal else { return }
        let targetRegion = others[target.node]?.member.region ?? me.region
        let relaySequence = nextSequence()
        relays[relaySequence] = Relay(
            requester: requester,
            requesterAddress: address,
            requestSequence: sequence,
            target: target,
            deadline: now + configuration.directPingTimeout(roundTrip: roundTrip(toRegion: targetRegion))
        )
        out.append(
            .send(
                .ping(sequence: relaySequence, gossip: gossipPayload(for: target.node)),
                to: target,
                address: targetAddress
            )
        )
    }

    /// Relays whose target did not answer in time are reported with a `nack`.
    mutating func checkRelays(now: SWIMInstant, into out: inout [SWIMDirective]) {
        for sequence in relays.keys.sorted() {
            guard let relay = relays[sequence], relay.deadline <= now else { continue }
            relays[sequence] = nil
            out.append(
                .send(
                    .nack(
                        sequence: relay.requestSequence,
                        target: relay.target,
                        gossip: gossipPayload(for: relay.requester?.node)
                    ),
                    to: relay.requester,
                    address: relay.requesterAddress
                )
            )
        }
    }
}
