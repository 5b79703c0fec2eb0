import MeridianMembership

/// Builders for tests that drive one machine by hand.
enum Fixture {
    static func address(_ node: String) -> String { node + ":1" }

    static func update(
        _ node: String,
        incarnation: UInt64 = 1,
        _ status: MemberStatus = .up,
        generation: UInt64 = 0,
        region: String = "eu"
    ) -> MemberUpdate {
        MemberUpdate(
            id: MemberID(node: node, incarnation: incarnation),
            region: region,
            address: address(node),
            status: status,
            generation: generation
        )
    }

    /// A machine that started a cluster alone, so it is `up`.
    static func upMachine(
        _ node: String = "me",
        configuration: SWIMConfiguration = SWIMConfiguration(),
        now: SWIMInstant = .zero
    ) -> SWIMStateMachine {
        var machine = SWIMStateMachine(
            myself: update(node, .joining),
            configuration: configuration,
            roundTrip: { _, _ in .zero },
            now: now,
            seed: 42
        )
        _ = machine.join(seeds: [], now: now)
        return machine
    }

    /// Feeds `updates` as the gossip of a ping from `sender`.
    @discardableResult
    static func gossip(
        _ updates: [MemberUpdate],
        to machine: inout SWIMStateMachine,
        from sender: String = "courier",
        now: SWIMInstant = .zero
    ) -> [SWIMDirective] {
        machine.receive(.ping(sequence: 1, gossip: updates), from: address(sender), now: now)
    }
}

extension [SWIMDirective] {
    var changes: [MembershipChange] {
        compactMap {
            if case .changed(let change) = $0 { return change }
            return nil
        }
    }

    var sends: [(message: SWIMMessage, to: MemberID?, address: String)] {
        compactMap {
            if case .send(let message, let to, let address) = $0 { return (message, to, address) }
            return nil
        }
    }

    var transitions: [String] {
        changes.map {
            "\($0.member.id.node)#\($0.member.id.incarnation) \($0.previous?.rawValue ?? "nil")->\($0.current)"
        }
    }
}
