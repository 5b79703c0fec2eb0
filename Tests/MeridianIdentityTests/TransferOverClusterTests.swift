import Foundation
import MeridianCluster
import MeridianIdentity
import MeridianRegion
import MeridianStorage
import MeridianTestSupport
import MeridianTopology
import MeridianTransport
import Synchronization
import Testing

/// Cross-region transfer over a real cluster (two regions of two nodes, embedded SQLite per
/// node): the coordinator at the identity authority, the agents on the player's owner nodes,
/// the directory flip pushed to every node.
@Suite("Transfer over a cluster", .serialized)
struct TransferOverClusterTests {
    /// A player with a ledger (grants, a consume, a replayed key) and a history moves from
    /// eu-west to us-east: everything arrives, keys still replay, the old copy refuses writes.
    @Test func aPlayerMovesHomeWithTheirWholeLedgerAndTheOldCopyIsTombstoned() async throws {
        try await GameTestCluster.with { cluster in
            let player = try await cluster.createAccount(name: "mover", home: "eu-west")
            try await Self.giveLedger(to: player, in: cluster)
            let before = try await cluster.home(of: player, region: "eu-west").view()

            let record = try await cluster.all[0].identity.transfer(player: player, to: "us-east")
            #expect(record.step == .done, "\(record)")
            #expect(record.from == "eu-west" && record.to == "us-east" && record.fromEpoch == .initial && record.failure == nil)

            try await Self.expectMoved(player, from: "eu-west", to: "us-east", before: before, in: cluster)
            // The authority remembers it; a second move back works too (epoch 3).
            #expect(try await cluster.all[1].identity.latestTransfer(of: player)?.id == record.id)
            let back = try await cluster.all[1].identity.transfer(player: player, to: "eu-west")
            #expect(back.step == .done && back.fromEpoch == 2, "\(back)")
            let home = try await cluster.home(of: player, region: "eu-west").view()
            #expect(home.balances == before.balances && home.epoch == 3 && home.state == "active")
            // The home actor that served the player before it left is still in memory on the
            // same node; the import claimed a newer activation there. It writes again (it takes
            // over from the import's claim, rather than waiting for a successor on another node).
            let after = try await cluster.home(of: player, region: "eu-west").consume(item: "gold", count: 1, idempotencyKey: "after-return")
            #expect(!after.replayed && after.balancesAfter["gold"] == 69, "\(after)")
        }
    }

    /// The coordinator's node dies right after it recorded each step (the test hook stops it
    /// there, then the node is killed and started again): the restarted authority carries the
    /// transfer on to the end, and the player is whole in exactly one region.
    @Test(arguments: [TransferStep.frozen, .copied, .flipped, .activated])
    func theCoordinatorDiesAfterAStepAndTheTransferFinishesWhenItRestarts(_ step: TransferStep) async throws {
        try await GameTestCluster.with(options: Self.coordinatorStopping(after: step)) { cluster in
            let authority = try #require(IdentityPlacement.authorityNode(in: cluster.topology))
            let callerFound = cluster.topology.nodes.map(\.id).first { $0 != authority }
            let caller = try #require(callerFound)
            let player = try await cluster.createAccount(name: "mover", home: "eu-west")
            try await Self.giveLedger(to: player, in: cluster)
            let before = try await cluster.home(of: player, region: "eu-west").view()

            let cut = try await cluster.node(caller)!.identity.transfer(player: player, to: "us-east")
            #expect(cut.step == step, "the coordinator stopped after \(step): \(cut)")

            await cluster.kill(authority)
            try await cluster.start(authority)
            try await cluster.waitUntilUp(cluster.topology.nodes.map(\.id))
            let ended = try await cluster.eventuallyValue("the restarted authority finishes the transfer") {
                let latest = try? await cluster.node(caller)!.identity.latestTransfer(of: player)
                return latest?.step.isFinal == true ? latest : nil
            }
            #expect(ended.id == cut.id && ended.step == .done, "\(ended)")
            try await Self.expectMoved(player, from: "eu-west", to: "us-east", before: before, in: cluster)
        }
    }

    /// From the freeze on, the old home takes no write — also while the transfer stands still
    /// (its coordinator gone) before and after the flip, and whatever the old region's nodes
    /// still believe: the store refuses it inside the write's transaction. The writer's retry,
    /// once the transfer finished, lands exactly once in the new home.
    @Test(arguments: [TransferStep.frozen, .flipped])
    func theOldHomeRefusesWritesFromTheFreezeOnAndARetryLandsOnceInTheNewHome(_ step: TransferStep) async throws {
        try await GameTestCluster.with(options: Self.coordinatorStopping(after: step)) { cluster in
            let authority = try #require(IdentityPlacement.authorityNode(in: cluster.topology))
            let player = try await cluster.createAccount(name: "mover", home: "eu-west")
            try await Self.giveLedger(to: player, in: cluster)
            let before = try await cluster.home(of: player, region: "eu-west").view()
            let cut = try await cluster.all[0].identity.transfer(player: player, to: "us-east")
            #expect(cut.step == step, "\(cut)")

            // The old home, asked directly (as a node that missed the flip would): refused.
            let oldHome = try cluster.home(of: player, region: "eu-west")
            await #expect(throws: (any Error).self, "a write to the frozen old home after \(step)") {
                _ = try await oldHome.grant(item: "gold", count: 1, idempotencyKey: "late-grant")
            }
            let source = try #require(cluster.node(cluster.homeNode(of: player, region: "eu-west"))?.region.store)
            let frozen = try await source.player(player)
            #expect(frozen?.state == .frozen && frozen?.ledgerSequence == before.ledgerSequence, "\(String(describing: frozen))")

            // The transfer finishes once the authority is back; the retried write lands once there.
            await cluster.kill(authority)
            try await cluster.start(authority)
            try await cluster.waitUntilUp(cluster.topology.nodes.map(\.id))
            let ended = try await cluster.eventuallyValue("the restarted authority finishes the transfer") {
                let latest = try? await cluster.all[0].identity.latestTransfer(of: player)
                return latest?.step.isFinal == true ? latest : nil
            }
            #expect(ended.step == .done, "\(ended)")
            let newHome = try cluster.home(of: player, region: "us-east")
            let retried = try await newHome.grant(item: "gold", count: 1, idempotencyKey: "late-grant")
            #expect(!retried.replayed)
            let again = try await newHome.grant(item: "gold", count: 1, idempotencyKey: "late-grant")
            #expect(again.replayed)
            let after = try await newHome.view()
            #expect(after.balances["gold"] == (before.balances["gold"] ?? 0) + 1)
        }
    }

    /// A player in a queue cannot be frozen: the transfer rolls back at once, nothing changed,
    /// and the player keeps using the old home. Once idle, the same transfer goes through.
    @Test func aBusyPlayerIsNotMovedAndKeepsPlaying() async throws {
        try await GameTestCluster.with { cluster in
            let player = try await cluster.createAccount(name: "busy", home: "eu-west")
            let home = try cluster.home(of: player, region: "eu-west")
            let ticket = solo(player, home: "eu-west")
            _ = try await home.beginQueue(ticket: ticket, region: "eu-west")

            let refused = try await cluster.all[0].identity.transfer(player: player, to: "us-east")
            #expect(refused.step == .rolledBack, "\(refused)")
            #expect(refused.failure?.contains("queued") == true, "\(refused.failure ?? "")")
            #expect(try await cluster.all[0].identity.entry(of: player)?.homeRegion == "eu-west")
            let store = try #require(cluster.node(cluster.homeNode(of: player, region: "eu-west"))?.region.store)
            #expect(try await store.player(player)?.state == .active, "never frozen")

            try await home.endQueue(ticketID: ticket.id)
            _ = try await home.grant(item: "gold", count: 1, idempotencyKey: "while-at-home")
            let moved = try await cluster.all[0].identity.transfer(player: player, to: "us-east")
            #expect(moved.step == .done, "\(moved)")
            #expect(try await cluster.home(of: player, region: "us-east").view().balances == ["gold": 1])
        }
    }

    /// The destination refuses the copy (it holds an active player with that id): the transfer
    /// rolls back before the flip — the copy is not this transfer's to discard, the source is
    /// unfrozen and takes writes again.
    @Test func aRefusedCopyRollsBackAndUnfreezesTheSource() async throws {
        try await GameTestCluster.with { cluster in
            let player = try await cluster.createAccount(name: "twin", home: "eu-west")
            _ = try await cluster.home(of: player, region: "eu-west").grant(item: "gold", count: 7, idempotencyKey: "g")
            _ = try await cluster.home(of: player, region: "us-east").create(displayName: "twin elsewhere")

            let record = try await cluster.all[0].identity.transfer(player: player, to: "us-east")
            #expect(record.step == .rolledBack, "\(record)")
            let source = try #require(cluster.node(cluster.homeNode(of: player, region: "eu-west"))?.region.store)
            #expect(try await source.player(player)?.state == .active)
            let receipt = try await cluster.home(of: player, region: "eu-west").grant(item: "gold", count: 1, idempotencyKey: "after")
            #expect(receipt.balancesAfter["gold"] == 8)
            #expect(try await cluster.all[1].identity.entry(of: player)?.homeRegion == "eu-west")
        }
    }

    /// What is addressed to the old home after the move follows the player: a match result (twice:
    /// a retried delivery) and a trade whose giver still named the old region each land exactly
    /// once in the new home.
    @Test func aResultAndATradeAddressedToTheOldHomeLandOnceInTheNewOne() async throws {
        try await GameTestCluster.with { cluster in
            let mover = try await cluster.createAccount(name: "mover", home: "eu-west")
            let giver = try await cluster.createAccount(name: "giver", home: "us-east")
            _ = try await cluster.home(of: giver, region: "us-east").grant(item: "gold", count: 10, idempotencyKey: "giver-gold")
            #expect(try await cluster.all[0].identity.transfer(player: mover, to: "us-east").step == .done)

            let result = MatchResultMessage(
                matchID: UUID(), player: mover, outcome: "win", placement: 0, xp: 40, rewards: ["gold": 25], skillAfter: nil, finishedAt: Date()
            )
            let old = try cluster.home(of: mover, region: "eu-west")
            let first = try await old.applyMatchResult(result)
            let again = try await old.applyMatchResult(result)
            #expect(!first.replayed && again.replayed, "delivered once, then a replay")
            let trade = try await cluster.home(of: giver, region: "us-east").trade(tradeID: UUID(), to: mover, receiverRegion: "eu-west", items: ["gold": 4])
            #expect(trade.balancesAfter["gold"] == 6)

            let view = try await cluster.eventuallyValue("the trade reaches the new home") { () -> PlayerView? in
                let view = try await cluster.home(of: mover, region: "us-east").view()
                return view.balances["gold"] == 29 ? view : nil
            }
            #expect(view.xp == 40 && view.ledgerSequence == 2, "the result once (25 gold, 40 XP), the trade once (4 gold): \(view)")
            #expect(try await cluster.home(of: mover, region: "us-east").recentMatches(limit: 10).map(\.matchID) == [result.matchID])
            #expect(try await cluster.home(of: giver, region: "us-east").view().balances["gold"] == 6, "the giver paid once, no refund")
        }
    }

    /// A player with a trade still in escrow cannot move (its refund would have nowhere to land):
    /// the transfer is refused at the freeze, and the player is left writable — not frozen with
    /// no transfer under way. Once the trade settles, the player moves.
    @Test func aPlayerWithATradeInEscrowIsNotMovedAndStaysWritable() async throws {
        try await GameTestCluster.with(options: GameTestCluster.Options(suspicionTimeout: .seconds(600), emulateLinks: true)) { cluster in
            let giver = try await cluster.createAccount(name: "giver", home: "eu-west")
            let receiver = try await cluster.createAccount(name: "receiver", home: "us-east")
            // Called through the giver's own node: it stays reachable from the test when us-east is cut off.
            let home = try cluster.home(of: giver, region: "eu-west", via: cluster.homeNode(of: giver, region: "eu-west"))
            _ = try await home.grant(item: "gold", count: 50, idempotencyKey: "grant-1")
            // us-east cannot be reached from eu-west: the trade waits in escrow.
            let eastNodes = Set(cluster.topology.nodes(in: "us-east").map(\.id))
            cluster.partition(eastNodes, true)
            _ = try await home.trade(tradeID: UUID(), to: receiver, receiverRegion: "us-east", items: ["gold": 5])

            let authorityNode = try #require(IdentityPlacement.authorityNode(in: cluster.topology))
            let authority = try #require(cluster.node(authorityNode))
            let refused = try await authority.identity.transfer(player: giver, to: "us-east")
            #expect(refused.step == .rolledBack && refused.failure?.contains("escrow") == true, "\(refused)")
            let source = try #require(cluster.node(cluster.homeNode(of: giver, region: "eu-west"))?.region.store)
            #expect(try await source.player(giver)?.state == .active)
            #expect(try await home.grant(item: "gold", count: 1, idempotencyKey: "after-refusal").balancesAfter["gold"] == 46)

            cluster.partition(eastNodes, false)
            try await cluster.eventually("the trade settles") { try await source.pendingTrades(limit: 10).isEmpty }
            let moved = try await authority.identity.transfer(player: giver, to: "us-east")
            #expect(moved.step == .done, "\(moved)")
        }
    }

    /// The source region is cut off from the rest of the cluster right after the directory flip,
    /// before its copy is tombstoned: its nodes, asked directly, accept no write for the player
    /// (the store still holds the frozen copy); the transfer waits, finishes after the heal, and
    /// the writer's retry lands exactly once in the new home.
    @Test func aSourceRegionCutOffAfterTheFlipAcceptsNoWriteAndTheTransferFinishesAfterTheHeal() async throws {
        let gate = StepGate(step: .flipped)
        var options = GameTestCluster.Options(suspicionTimeout: .seconds(600), emulateLinks: true)
        options.identity = { configuration in configuration.afterTransferStep = { record in await gate.reached(record.step) } }
        try await GameTestCluster.with(options: options) { cluster in
            let player = try await cluster.createAccount(name: "mover", home: "us-east")
            _ = try await cluster.home(of: player, region: "us-east").grant(item: "gold", count: 50, idempotencyKey: "grant-1")
            let authorityNode = try #require(IdentityPlacement.authorityNode(in: cluster.topology))
            let authority = try #require(cluster.node(authorityNode))
            let transfer = Task { try await authority.identity.transfer(player: player, to: "eu-west") }
            await gate.waitUntilReached()

            // Cut us-east off from eu-west, both ways; then let the coordinator go on (to the tombstone it cannot reach).
            let eastNodes = Set(cluster.topology.nodes(in: "us-east").map(\.id))
            cluster.partition(eastNodes, true)
            await gate.open()
            for via in eastNodes.sorted() {
                let oldHome = try cluster.home(of: player, region: "us-east", via: via)
                do {
                    _ = try await oldHome.grant(item: "gold", count: 1, idempotencyKey: "late-grant")
                    Issue.record("the cut-off source region accepted a write after the flip (via \(via))")
                } catch {
                    // A StorageError where the actor is local, its report where it is remote.
                    let frozen = (error as? StorageError)?.code == .frozen || "\(error)".contains("frozen:")
                    #expect(frozen, "refused as frozen: \(error)")
                }
            }
            let source = try #require(cluster.node(cluster.homeNode(of: player, region: "us-east"))?.region.store)
            let copy = try await source.player(player)
            #expect(copy?.state == .frozen && copy?.ledgerSequence == 1, "\(String(describing: copy))")
            let waiting = try await authority.identity.latestTransfer(of: player)
            #expect(waiting?.step.isCommitted == true && waiting?.step != .done, "the transfer waits for the source: \(String(describing: waiting))")

            cluster.partition(eastNodes, false)
            let ended = try await transfer.value
            #expect(ended.step == .done, "\(ended)")
            #expect(try await source.player(player)?.state == .tombstoned)
            let newHome = try cluster.home(of: player, region: "eu-west")
            let retried = try await newHome.grant(item: "gold", count: 1, idempotencyKey: "late-grant")
            #expect(!retried.replayed && retried.balancesAfter["gold"] == 51)
            let again = try await newHome.grant(item: "gold", count: 1, idempotencyKey: "late-grant")
            #expect(again.replayed)
            #expect(try await newHome.view().balances == ["gold": 51])
        }
    }

    // MARK: Helpers

    /// Grants, a consume and a replayed key: three events and one replay in the ledger.
    /// A cluster whose transfer coordinator stops right after it recorded `step` the first time
    /// (the test hook), as if its node died there.
    static func coordinatorStopping(after step: TransferStep) -> GameTestCluster.Options {
        let stopped = Mutex(false)
        var options = GameTestCluster.Options()
        options.identity = { configuration in
            configuration.afterTransferStep = { record in
                guard record.step == step else { return }
                let first = stopped.withLock { stopped in
                    defer { stopped = true }
                    return !stopped
                }
                if first { throw CancellationError() }
            }
        }
        return options
    }

    static func giveLedger(to player: UUID, in cluster: GameTestCluster) async throws {
        let home = try cluster.home(of: player, region: "eu-west")
        _ = try await home.grant(item: "gold", count: 100, idempotencyKey: "grant-1")
        _ = try await home.consume(item: "gold", count: 30, idempotencyKey: "consume-1")
        _ = try await home.grant(item: "gem", count: 5, idempotencyKey: "grant-2")
        let replay = try await home.grant(item: "gold", count: 100, idempotencyKey: "grant-1")
        #expect(replay.replayed)
    }

    /// The player lives in `to` at epoch 2 with everything they had; keys replay there; `from`
    /// holds a tombstone that refuses writes; every node's directory says `to`.
    static func expectMoved(_ player: UUID, from: String, to: String, before: PlayerView, in cluster: GameTestCluster) async throws {
        let moved = try await cluster.home(of: player, region: to).view()
        #expect(moved.balances == before.balances && moved.balances == ["gold": 70, "gem": 5])
        #expect(moved.ledgerSequence == before.ledgerSequence && moved.epoch == 2 && moved.state == "active" && moved.homeRegion == to)
        let replay = try await cluster.home(of: player, region: to).grant(item: "gold", count: 100, idempotencyKey: "grant-1")
        #expect(replay.replayed && replay.sequence == 1, "a key used in the old home is a replay of its event in the new one")
        #expect(try await cluster.home(of: player, region: to).view().balances == before.balances)

        let source = try #require(cluster.node(cluster.homeNode(of: player, region: from))?.region.store)
        #expect(try await source.player(player)?.state == .tombstoned)
        await #expect(throws: (any Error).self, "the old home refuses writes") {
            _ = try await cluster.home(of: player, region: from).grant(item: "gold", count: 1, idempotencyKey: "late")
        }
        for node in cluster.all {
            let entry = try await cluster.eventuallyValue("every node's directory names \(to)") {
                let entry = try await node.identity.entry(of: player)
                return entry?.homeRegion == to ? entry : nil
            }
            #expect(entry.epoch == 2)
        }
    }
}

/// Holds a transfer's coordinator right after it recorded `step` (the first time) until the test
/// opens the gate; the test waits until the coordinator got there.
actor StepGate {
    let step: TransferStep
    private var arrived = false
    private var isOpen = false
    private var arrivalWaiters: [CheckedContinuation<Void, Never>] = []
    private var openWaiters: [CheckedContinuation<Void, Never>] = []

    init(step: TransferStep) {
        self.step = step
    }

    func reached(_ reached: TransferStep) async {
        guard reached == step, !arrived else { return }
        arrived = true
        for waiter in arrivalWaiters { waiter.resume() }
        arrivalWaiters = []
        if isOpen { return }
        await withCheckedContinuation { openWaiters.append($0) }
    }

    func waitUntilReached() async {
        if arrived { return }
        await withCheckedContinuation { arrivalWaiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in openWaiters { waiter.resume() }
        openWaiters = []
    }
}
