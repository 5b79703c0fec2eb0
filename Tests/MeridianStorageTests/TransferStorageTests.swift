import Foundation
import MeridianMatchmaking
@testable import MeridianStorage
import NIOCore
import Testing

/// The storage side of moving a player's home region: export from the frozen source, import into the
/// destination as `incoming`, activate or discard, and an audit that counts the player once throughout.
@Suite struct TransferStorageTests {
    let coordinator = TradeCoordinator(logger: testLogger)

    // MARK: Export

    @Test(arguments: TestBackend.enabled)
    func exportRefusesAPlayerThatIsNotFrozen(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store).id
            let friend = try await makePlayer(store).id
            try await grant(store, player, ["gold": 10])
            let code1 = await storageError { try await store.exportPlayer(player) }?.code
            #expect(code1 == .invalidArgument)
            let code2 = await storageError { try await store.exportPlayer(PlayerID()) }?.code
            #expect(code2 == .playerNotFound)

            // Items in escrow would need a refund booked here after the player left: refused until settled.
            let trade = TradeOutRequest(tradeID: TradeID(), giver: player, giverEpoch: .initial, receiver: friend, destinationRegion: "eu-west", items: ["gold": 3])
            _ = try await store.tradeOut(trade)
            _ = try await store.freeze(player)
            let escrow = await storageError { try await store.exportPlayer(player) }
            #expect(escrow?.code == .invalidArgument)
            #expect(escrow?.message.contains("escrow") == true)
            _ = try await store.unfreeze(player)
            #expect(try await coordinator.settle(trade.tradeID, giverStore: store, receiverStore: store) == .finished(.delivered))

            _ = try await store.freeze(player)
            let export = try await store.exportPlayer(player)
            #expect(export.profile.state == .frozen)
            #expect(export.events.count == 2)
            #expect(export.balances == ["gold": 7])

            _ = try await store.tombstone(player)
            let code3 = await storageError { try await store.exportPlayer(player) }?.code
            #expect(code3 == .invalidArgument)
        }
    }

    // MARK: Round trip

    @Test(arguments: TestBackend.enabled)
    func exportAndImportCopyEverything(_ backend: TestBackend) async throws {
        try await withTwoStores(backend, sourceInterval: 3, destinationInterval: 5) { source, destination in
            let player = try await populate(source)
            let before = try await observe(player, in: source)
            _ = try await source.freeze(player)
            let export = try await source.exportPlayer(player)
            #expect(export.events.count == Int(before.profile.ledgerSequence))
            #expect(export.snapshots.map(\.sequence) == [3, 6])

            let imported = try await destination.importPlayer(export, epoch: before.profile.epoch.next)
            var expected = before.profile
            expected.state = .incoming
            expected.epoch = before.profile.epoch.next
            #expect(imported == expected)
            #expect(try await destination.player(player) == expected)

            let after = try await observe(player, in: destination)
            #expect(after.balances == before.balances)
            #expect(after.recomputed == before.recomputed)
            let value4 = before.balances.filter { $0.value != 0 }
            #expect(after.recomputed == value4)
            #expect(after.events == before.events)
            #expect(after.events.map(\.idempotencyKey) == before.events.map(\.idempotencyKey))
            #expect(after.events.map(\.epoch) == before.events.map(\.epoch))
            #expect(after.history == before.history)
            #expect(after.replays == before.replays)
            #expect(!after.replays.isEmpty)
            try await expectClean([destination])

            let active = try await destination.activateIncoming(player, epoch: expected.epoch)
            expected.state = .active
            #expect(active == expected)
        }
    }

    /// A destination never trusts the copy it is sent (a bug, a tampered or replayed message):
    /// an export whose ledger does not add up, that carries another player's rows, reuses an
    /// idempotency key, skips a sequence number or inflates a balance is refused, and nothing of
    /// it is written; the true export still imports afterwards.
    @Test(arguments: TestBackend.enabled)
    func aTamperedExportIsRefusedAndWritesNothing(_ backend: TestBackend) async throws {
        try await withTwoStores(backend) { source, destination in
            let player = try await populate(source)
            _ = try await source.freeze(player)
            let export = try await source.exportPlayer(player)
            let epoch = export.profile.epoch.next
            let item = try #require(export.balances.keys.min())
            let tamperings: [(String, (inout PlayerExport) -> Void)] = [
                ("an inflated balance", { $0.balances[item, default: 0] += 1_000 }),
                ("an inflated event", { export in
                    export.events[0].deltas[item, default: 0] += 1_000
                }),
                ("a dropped event", { export in export.events.removeLast() }),
                ("a sequence gap", { export in export.events[export.events.count - 1].sequence += 1 }),
                ("another player's event", { export in export.events[0].player = UUID() }),
                ("a reused idempotency key", { export in export.events[1].idempotencyKey = export.events[0].idempotencyKey }),
                ("negative XP", { $0.profile.progression.xp = -1 }),
                ("a match recorded twice", { export in
                    if let first = export.matches.first { export.matches.append(first) } else { export.profile.epoch = Epoch(0) }
                }),
            ]
            for (what, tamper) in tamperings {
                var tampered = export
                tamper(&tampered)
                await #expect(throws: StorageError.self, "\(what) was imported") {
                    _ = try await destination.importPlayer(tampered, epoch: epoch)
                }
                #expect(try await destination.player(player) == nil, "\(what) left a row behind")
                #expect(try await destination.ledgerEvents(of: player, after: 0, limit: 10).isEmpty, "\(what) left events behind")
            }
            #expect(try await destination.importPlayer(export, epoch: epoch).state == .incoming)
            try await expectClean([destination])
        }
    }

    /// Between two backends (a region on SQLite, another on PostgreSQL) the copy is the same data too.
    @Test(arguments: RegionPair.enabled)
    func aCopyBetweenBackendsIsTheSameData(_ pair: RegionPair) async throws {
        try await withRegions(pair) { sourceFresh, destinationFresh in
            let (source, destination) = (sourceFresh.store, destinationFresh.store)
            let player = try await populate(source)
            _ = try await source.freeze(player)
            let export = try await source.exportPlayer(player)
            let epoch = export.profile.epoch.next
            _ = try await destination.importPlayer(export, epoch: epoch)
            #expect(try await destination.importPlayer(export, epoch: epoch).state == .incoming)  // unchanged, also across backends
            _ = try await destination.activateIncoming(player, epoch: epoch)
            _ = try await destination.freeze(player)
            let copy = try await destination.exportPlayer(player)
            #expect(copy.isSameCopy(as: export))
            #expect(copy.profile.epoch == epoch)
            #expect(copy.balances == export.balances)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func aRetriedRequestIsAReplayInTheNewHome(_ backend: TestBackend) async throws {
        try await withTwoStores(backend) { source, destination in
            let player = try await makePlayer(source).id
            let buy = LedgerAppend(player: player, epoch: .initial, idempotencyKey: "buy-1", operation: .purchase(items: ["sword": 1], price: ["gold": 30]))
            try await grant(source, player, ["gold": 100])
            let original = try await source.append(buy)
            let match = MatchResultApplication(
                record: MatchRecord(matchID: MatchID(), player: player, finishedAt: Date(timeIntervalSince1970: 1_800_000_000), outcome: .win, xpAwarded: 120),
                epoch: .initial, rewards: ["gem": 2]
            )
            let reward = try await source.applyMatchResult(match)

            let epoch = try await moveHome(player, from: source, to: destination)
            #expect(epoch == 2)
            let events = try await destination.ledgerEvents(of: player, after: 0, limit: 100)

            // The client retries with the new epoch: the original receipts, nothing applied twice.
            var retry = buy
            retry.epoch = epoch
            let replay = try await destination.append(retry)
            #expect(replay == LedgerReceipt(player: player, sequence: original.sequence, kind: .purchase, balancesAfter: original.balancesAfter, replayed: true))
            var matchRetry = match
            matchRetry.epoch = epoch
            #expect(try await destination.applyMatchResult(matchRetry) == LedgerReceipt(
                player: player, sequence: reward.sequence, kind: .matchReward, balancesAfter: reward.balancesAfter, replayed: true
            ))
            #expect(try await destination.balances(of: player) == ["gold": 70, "sword": 1, "gem": 2])
            #expect(try await destination.player(player)?.progression == Progression(xp: 120))
            #expect(try await destination.matchHistory(of: player, limit: 10).count == 1)
            #expect(try await destination.ledgerEvents(of: player, after: 0, limit: 100) == events)
            #expect(try await destination.ledgerReplays(of: player).map(\.idempotencyKey) == ["buy-1", match.idempotencyKey])

            // A writer still on the old epoch is fenced off; the same key for another request is a conflict.
            let code5 = await storageError { try await destination.append(buy) }?.code
            #expect(code5 == .staleEpoch(current: epoch))
            var other = retry
            other.operation = .grant(["gold": 1])
            let code6 = await storageError { try await destination.append(other) }?.code
            #expect(code6 == .idempotencyConflict)
            // New writes continue the sequence at the new epoch.
            let next = try await grant(destination, player, ["gold": 5], epoch: epoch)
            #expect(next.sequence == Int64(events.count + 1))
            #expect(try await destination.ledgerEvents(of: player, after: Int64(events.count), limit: 10).first?.epoch == epoch)
            try await expectClean([source, destination])
        }
    }

    /// A player moves away and back: the copy imported over its tombstone carries the activation
    /// past every claim made before it left, so a home actor still holding such a claim cannot
    /// write (and one that claims anew can).
    @Test(arguments: TestBackend.enabled)
    func aPlayerThatComesBackIsFencedFromClaimsMadeBeforeItLeft(_ backend: TestBackend) async throws {
        try await withTwoStores(backend) { home, away in
            let player = try await makePlayer(home).id
            let before = try await home.claimActivation(of: player, node: "node-a")
            _ = try await moveHome(player, from: home, to: away)
            let back = try await moveHome(player, from: away, to: home)
            let append = { (activation: Activation, key: String) in
                LedgerAppend(player: player, epoch: back, activation: activation, idempotencyKey: key, operation: .grant(["gold": 1]))
            }
            let stale = await storageError { try await home.append(append(before.activation, "stale")) }
            var lost = false
            if case .activationLost? = stale?.code { lost = true }
            #expect(lost, "\(String(describing: stale))")
            let again = try await home.claimActivation(of: player, node: "node-a")
            #expect(again.activation > before.activation && again.profile.epoch == back)
            #expect(try await home.append(append(again.activation, "fresh")).sequence == 1)
            try await expectClean([home, away])
        }
    }

    // MARK: Incoming copies

    @Test(arguments: TestBackend.enabled)
    func writesToAnIncomingPlayerAreRefused(_ backend: TestBackend) async throws {
        try await withTwoStores(backend) { source, destination in
            let player = try await makePlayer(source).id
            try await grant(source, player, ["gold": 5])
            let other = try await makePlayer(destination).id
            try await grant(destination, other, ["gold": 5])
            _ = try await source.freeze(player)
            let incoming = try await destination.importPlayer(try await source.exportPlayer(player), epoch: 2)
            #expect(incoming.state == .incoming)

            let writes: [(String, () async throws -> Void)] = [
                ("append", { _ = try await grant(destination, player, ["gold": 1], epoch: 2) }),
                ("rename", { _ = try await destination.renamePlayer(player, epoch: 2, displayName: "x") }),
                ("match", { _ = try await destination.recordMatch(MatchRecord(matchID: MatchID(), player: player, finishedAt: Date(), outcome: .win, xpAwarded: 1), epoch: 2) }),
                ("trade out", { _ = try await destination.tradeOut(TradeOutRequest(tradeID: TradeID(), giver: player, giverEpoch: 2, receiver: other, destinationRegion: "eu-west", items: ["gold": 1])) }),
                ("trade in", { _ = try await destination.tradeIn(TradeDelivery(tradeID: TradeID(), giver: other, receiver: player, items: ["gold": 1])) }),
                // Also a batch of several commands refuses only the incoming player's.
                ("batch", {
                    let results = try await destination.applyLedger([
                        .append(LedgerAppend(player: other, epoch: .initial, idempotencyKey: "ok", operation: .grant(["gold": 1]))),
                        .append(LedgerAppend(player: player, epoch: 2, idempotencyKey: "no", operation: .grant(["gold": 1]))),
                    ])
                    #expect((try? results[0].get()) != nil)
                    _ = try results[1].get()
                }),
            ]
            for (name, write) in writes {
                let error = await storageError(write)
                #expect(error?.code == .frozen, "\(name)")
                #expect(error?.isTransient == true, "\(name)")
                #expect(error?.message.contains("arriving from another region") == true, "\(name): \(error?.message ?? "")")
            }
            // A trade cannot be rejected for them either (they are about to live here): it defers.
            let code7 = await storageError { try await destination.rejectTrade(TradeID(), receiver: player, reason: "x") }?.code
            #expect(code7 == .frozen)
            // Only the transfer moves an incoming copy on.
            let code8 = await storageError { try await destination.freeze(player) }?.code
            #expect(code8 == .frozen)
            let code9 = await storageError { try await destination.unfreeze(player) }?.code
            #expect(code9 == .invalidArgument)
            let code10 = await storageError { try await destination.tombstone(player) }?.code
            #expect(code10 == .invalidArgument)
            let code11 = await storageError { try await destination.exportPlayer(player) }?.code
            #expect(code11 == .invalidArgument)

            #expect(try await destination.player(player) == incoming)
            #expect(try await destination.balances(of: player) == ["gold": 5])
            #expect(try await destination.ledgerEvents(of: player, after: 0, limit: 10).count == 1)
            #expect(try await destination.matchHistory(of: player, limit: 10).isEmpty)
            #expect(try await destination.balances(of: other) == ["gold": 6])
        }
    }

    @Test(arguments: TestBackend.enabled)
    func importIsIdempotentAndNeverOverwritesALiveCopy(_ backend: TestBackend) async throws {
        try await withTwoStores(backend) { source, destination in
            let player = try await populate(source)
            _ = try await source.freeze(player)
            let export = try await source.exportPlayer(player)
            let first = try await destination.importPlayer(export, epoch: 2)
            let copy = try await observe(player, in: destination)

            // A retry (the saga restarted) changes nothing.
            #expect(try await destination.importPlayer(export, epoch: 2) == first)
            #expect(try await observe(player, in: destination) == copy)
            #expect(try await LedgerAudit.run(stores: [destination]).eventCount == 0)

            // Epochs only go forward: not the source's, not below the copy's.
            let code12 = await storageError { try await destination.importPlayer(export, epoch: 1) }?.code
            #expect(code12 == .invalidArgument)
            let value13 = await storageError { try await destination.importPlayer(export, epoch: 3) }
            #expect(value13 == nil)
            #expect(try await destination.player(player)?.epoch == 3)
            let code14 = await storageError { try await destination.importPlayer(export, epoch: 2) }?.code
            #expect(code14 == .invalidArgument)

            // An earlier attempt's copy is replaced by a newer export (rolled back, played on, moved again).
            _ = try await source.unfreeze(player)
            try await grant(source, player, ["gem": 4], epoch: export.profile.epoch)
            _ = try await source.renamePlayer(player, epoch: export.profile.epoch, displayName: "renamed")
            _ = try await source.freeze(player)
            let newer = try await source.exportPlayer(player)
            let replaced = try await destination.importPlayer(newer, epoch: 3)
            #expect(replaced.displayName == "renamed")
            #expect(replaced.ledgerSequence == export.profile.ledgerSequence + 1)
            #expect(try await destination.balances(of: player) == newer.balances)
            #expect(try await destination.ledgerEvents(of: player, after: 0, limit: 100) == newer.events)
            #expect(try await destination.ledgerReplays(of: player) == newer.replays)

            // An inconsistent export and one not taken from a frozen player are refused.
            var broken = newer
            broken.events[0].balancesAfter = broken.events[0].balancesAfter.mapValues { $0 + 1 }
            let code15 = await storageError { try await destination.importPlayer(broken, epoch: 3) }?.code
            #expect(code15 == .invalidArgument)
            var gap = newer
            gap.events.removeLast()
            let code16 = await storageError { try await destination.importPlayer(gap, epoch: 3) }?.code
            #expect(code16 == .invalidArgument)
            var unfrozen = newer
            unfrozen.profile.state = .active
            let code17 = await storageError { try await destination.importPlayer(unfrozen, epoch: 3) }?.code
            #expect(code17 == .invalidArgument)
            #expect(try await destination.player(player) == replaced)

            // A live copy (active or frozen) is never overwritten.
            _ = try await destination.activateIncoming(player, epoch: 3)
            let code18 = await storageError { try await destination.importPlayer(newer, epoch: 4) }?.code
            #expect(code18 == .invalidArgument)
            _ = try await destination.freeze(player)
            let code19 = await storageError { try await destination.importPlayer(newer, epoch: 4) }?.code
            #expect(code19 == .invalidArgument)
            #expect(try await destination.player(player)?.state == .frozen)
            #expect(try await destination.balances(of: player) == newer.balances)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func aDiscardedCopyLeavesNothingBehind(_ backend: TestBackend) async throws {
        try await withTwoStores(backend) { source, destination in
            let player = try await populate(source)
            let bystander = try await makePlayer(destination).id
            try await grant(destination, bystander, ["gold": 9])
            _ = try await source.freeze(player)
            _ = try await destination.importPlayer(try await source.exportPlayer(player), epoch: 2)

            try await destination.discardIncoming(player)
            #expect(try await destination.player(player) == nil)
            #expect(try await destination.balances(of: player).isEmpty)
            #expect(try await destination.recomputedBalances(of: player).isEmpty)
            #expect(try await destination.ledgerEvents(of: player, after: 0, limit: 10).isEmpty)
            #expect(try await destination.ledgerReplays(of: player).isEmpty)
            #expect(try await destination.matchHistory(of: player, limit: 10).isEmpty)
            try await destination.discardIncoming(player)  // no-op once gone
            try await destination.discardIncoming(PlayerID())
            let code20 = await storageError { try await destination.discardIncoming(bystander) }?.code
            #expect(code20 == .invalidArgument)
            #expect(try await destination.balances(of: bystander) == ["gold": 9])

            // The rollback completes at the source; the source copy was never touched.
            _ = try await source.unfreeze(player)
            let code21 = await storageError { try await source.discardIncoming(player) }?.code
            #expect(code21 == .invalidArgument)
            try await grant(source, player, ["gold": 1])
            try await expectClean([source, destination])
            #expect(try await LedgerAudit.run(stores: [source, destination]).playerCount == 3)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func activationNeedsTheImportedEpochAndIsIdempotent(_ backend: TestBackend) async throws {
        try await withTwoStores(backend) { source, destination in
            let player = try await makePlayer(source, epoch: 4).id
            try await grant(source, player, ["gold": 5], epoch: 4)
            let code22 = await storageError { try await destination.activateIncoming(player, epoch: 5) }?.code
            #expect(code22 == .playerNotFound)
            _ = try await source.freeze(player)
            _ = try await destination.importPlayer(try await source.exportPlayer(player), epoch: 5)

            let code23 = await storageError { try await destination.activateIncoming(player, epoch: 4) }?.code
            #expect(code23 == .staleEpoch(current: 5))
            let code24 = await storageError { try await destination.activateIncoming(player, epoch: 6) }?.code
            #expect(code24 == .staleEpoch(current: 5))
            #expect(try await destination.player(player)?.state == .incoming)
            let active = try await destination.activateIncoming(player, epoch: 5)
            #expect(active.state == .active)
            #expect(active.epoch == 5)
            #expect(try await destination.activateIncoming(player, epoch: 5) == active)  // a retry
            let code25 = await storageError { try await destination.activateIncoming(player, epoch: 6) }?.code
            #expect(code25 == .staleEpoch(current: 5))
            let code26 = await storageError { try await destination.discardIncoming(player) }?.code
            #expect(code26 == .invalidArgument)

            let code27 = await storageError { try await grant(destination, player, ["gold": 1], epoch: 4) }?.code
            #expect(code27 == .staleEpoch(current: 5))
            #expect(try await grant(destination, player, ["gold": 1], epoch: 5).balancesAfter == ["gold": 6])

            // Activating the source's copy makes no sense: it is frozen, then tombstoned.
            let code28 = await storageError { try await source.activateIncoming(player, epoch: 4) }?.code
            #expect(code28 == .invalidArgument)
            _ = try await source.tombstone(player)
            let code29 = await storageError { try await source.activateIncoming(player, epoch: 4) }?.code
            #expect(code29 == .tombstoned)
        }
    }

    /// A player who moved away from a region (tombstoned there) and comes back replaces the old copy.
    @Test(arguments: TestBackend.enabled)
    func aPlayerMovesBackToARegionWhereTheyAreTombstoned(_ backend: TestBackend) async throws {
        try await withTwoStores(backend) { first, second in
            let player = try await populate(first)
            let stayer = try await makePlayer(first).id
            try await grant(first, stayer, ["gold": 1])
            let epoch2 = try await moveHome(player, from: first, to: second)
            #expect(try await first.player(player)?.state == .tombstoned)

            // Life in the second region: more ledger, a match, a rename.
            try await grant(second, player, ["gem": 3], epoch: epoch2)
            _ = try await second.append(LedgerAppend(player: player, epoch: epoch2, idempotencyKey: "use-gold", operation: .consume(["gold": 10])))
            _ = try await second.applyMatchResult(MatchResultApplication(
                record: MatchRecord(matchID: MatchID(), player: player, finishedAt: Date(timeIntervalSince1970: 1_900_000_000), outcome: .loss, xpAwarded: 40),
                epoch: epoch2, rewards: ["gold": 2], skillAfter: SkillRating(rating: 1480, deviation: 200, volatility: 0.06)
            ))
            _ = try await second.renamePlayer(player, epoch: epoch2, displayName: "traveller")
            let there = try await observe(player, in: second)

            // Coming back needs the epoch after the move, as any import.
            _ = try await second.freeze(player)
            let export = try await second.exportPlayer(player)
            let code30 = await storageError { try await first.importPlayer(export, epoch: epoch2) }?.code
            #expect(code30 == .invalidArgument)
            #expect(try await first.player(player)?.state == .tombstoned)

            let epoch3 = try await moveHome(player, from: second, to: first)
            #expect(epoch3 == 3)
            var expected = there
            expected.profile.epoch = epoch3
            expected.profile.state = .active
            #expect(try await observe(player, in: first) == expected)
            #expect(try await second.player(player)?.state == .tombstoned)
            #expect(try await first.balances(of: stayer) == ["gold": 1])

            // Back home it takes writes again, and old keys are still replays.
            #expect(try await first.append(LedgerAppend(player: player, epoch: epoch3, idempotencyKey: "use-gold", operation: .consume(["gold": 10]))).replayed)
            try await grant(first, player, ["gold": 1], epoch: epoch3)
            try await expectClean([first, second])
            let report = try await LedgerAudit.run(stores: [first, second])
            #expect(report.playerCount == 3)
        }
    }

    /// 1,000 events cross many snapshot boundaries of the source (every 64) and the destination
    /// (every 100); the copy recomputes the same balances and keeps snapshotting after activation.
    @Test(arguments: TestBackend.enabled)
    func aLongLedgerCopiesAcrossSnapshotBoundaries(_ backend: TestBackend) async throws {
        try await withTwoStores(backend, sourceInterval: 64, destinationInterval: 100) { source, destination in
            let player = try await makePlayer(source).id
            var commands: [LedgerCommand] = []
            for index in 1...1_000 {
                let operation: LedgerOperation = switch index % 4 {
                case 0: .consume(["gold": 3])
                case 1: .grant(["gold": 5, "gem": 1])
                case 2: .purchase(items: [ItemKind("potion.\(index % 7)"): 1], price: ["gold": 1])
                default: .grant(["wood": Int64(index % 11 + 1)])
                }
                commands.append(.append(LedgerAppend(player: player, epoch: .initial, idempotencyKey: "k-\(index)", operation: operation, reason: "step \(index)")))
            }
            for batch in commands.chunks(of: 250) {
                for result in try await source.applyLedger(Array(batch)) { _ = try result.get() }
            }
            #expect(try await source.player(player)?.ledgerSequence == 1_000)
            let before = try await observe(player, in: source)

            _ = try await source.freeze(player)
            let export = try await source.exportPlayer(player)
            #expect(export.events.count == 1_000)
            #expect(export.snapshots.count == 1_000 / 64)
            _ = try await destination.importPlayer(export, epoch: 2)
            let after = try await observe(player, in: destination)
            #expect(after.events.count == 1_000)
            #expect(after.events == before.events)
            #expect(after.balances == before.balances)
            #expect(after.recomputed == before.recomputed)
            #expect(after.replays == before.replays)
            try await expectClean([destination])

            _ = try await destination.activateIncoming(player, epoch: 2)
            for index in 1...150 {
                _ = try await destination.append(LedgerAppend(player: player, epoch: 2, idempotencyKey: "after-\(index)", operation: .grant(["gold": 1])))
            }
            let value31 = (try await destination.balances(of: player)).filter { $0.value != 0 }
            #expect(try await destination.recomputedBalances(of: player) == value31)
            let value32 = before.balances["gold"].map { $0 + 150 }
            #expect(try await destination.balances(of: player)["gold"] == value32)
            // A key from deep in the copied ledger is still a replay.
            #expect(try await destination.append(LedgerAppend(player: player, epoch: 2, idempotencyKey: "k-500", operation: .consume(["gold": 3]))).replayed)
            try await expectClean([destination])
        }
    }

    // MARK: Audit

    /// At every step of a transfer the audit over both regions passes and counts the player once.
    @Test(arguments: TestBackend.enabled)
    func theAuditCountsAPlayerInTransferOnceAtEveryStep(_ backend: TestBackend) async throws {
        try await withTwoStores(backend) { source, destination in
            let player = try await populate(source)
            let neighbour = try await makePlayer(destination).id
            try await grant(destination, neighbour, ["gold": 7])
            let baseline = try await LedgerAudit.run(stores: [source, destination])
            #expect(baseline.isClean, "\(baseline.mismatches)")
            #expect(baseline.playerCount == 3)

            func expectUnchanged(_ step: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let report = try await LedgerAudit.run(stores: [source, destination])
                #expect(report.isClean, "\(step): \(report.mismatches.map(\.description))", sourceLocation: sourceLocation)
                #expect(report.items == baseline.items, "\(step)", sourceLocation: sourceLocation)
                #expect(report.playerCount == baseline.playerCount, "\(step)", sourceLocation: sourceLocation)
                #expect(report.eventCount == baseline.eventCount, "\(step)", sourceLocation: sourceLocation)
                #expect(report.tradeCount == baseline.tradeCount, "\(step)", sourceLocation: sourceLocation)
            }

            let profile = try await source.freeze(player)
            try await expectUnchanged("frozen source only")
            _ = try await destination.importPlayer(try await source.exportPlayer(player), epoch: profile.epoch.next)
            try await expectUnchanged("frozen source, incoming destination")
            _ = try await destination.activateIncoming(player, epoch: profile.epoch.next)
            try await expectUnchanged("frozen source, active destination")
            // Both copies are live now: without the epochs of the other store's copy, both would count.
            let both = LedgerAudit.evaluate([try await source.ledgerAuditData(), try await destination.ledgerAuditData()])
            #expect(both.playerCount == baseline.playerCount + 1)
            #expect(both.items != baseline.items)
            _ = try await source.tombstone(player)
            try await expectUnchanged("tombstoned source, active destination")
        }
    }

    /// The copy-counting rule over hand-made store data: an incoming copy is left out by the store,
    /// a frozen copy yields to a newer one, and two live copies at one epoch are reported.
    @Test func aFrozenCopyYieldsToANewerOne() {
        let player = PlayerID()
        var source = LedgerAuditData(location: "eu-west")
        source.playerCount = 1
        source.eventCount = 1
        source.addFlow(item: "gold", kind: .grant, credits: 10, debits: 0)
        source.held = ["gold": 10]
        var copy = LedgerAuditData.FrozenCopy(epoch: 1)
        copy.eventCount = 1
        copy.held = ["gold": 10]
        source.frozenCopies[player] = copy
        source.addFrozenFlow(player: player, item: "gold", kind: .grant, credits: 10, debits: 0)
        var destination = source
        destination.location = "us-east"
        destination.frozenCopies = [:]
        destination.counterpartEpochs = [player: 2]

        let report = LedgerAudit.evaluate([source, destination])
        #expect(report.isClean, "\(report.mismatches)")
        #expect(report.playerCount == 1)
        #expect(report.eventCount == 1)
        #expect(report.items == [ItemConservation(item: "gold", created: 10, held: 10, consumed: 0, inTransit: 0)])

        destination.counterpartEpochs = [player: 1]
        let twice = LedgerAudit.evaluate([source, destination])
        let value33 = twice.mismatches.contains { $0.kind == .structure && $0.player == player }
        #expect(value33)
        #expect(twice.playerCount == 2)
    }

    /// ``PlayerImport/decide(_:epoch:existing:storedCopy:)`` for each state the destination may hold.
    @Test func importDecisions() throws {
        let id = PlayerID()
        let profile = PlayerProfile(
            id: id, displayName: "p", homeRegion: "eu-west", createdAt: Date(timeIntervalSince1970: 1), epoch: 3, state: .frozen,
            progression: Progression(xp: 0), ledgerSequence: 1
        )
        let event = LedgerEvent(
            player: id, sequence: 1, kind: .grant, idempotencyKey: "k", epoch: 2, tradeID: nil, reason: "",
            recordedAt: Date(timeIntervalSince1970: 2), deltas: ["gold": 4], balancesAfter: ["gold": 4]
        )
        let export = PlayerExport(profile: profile, matches: [], events: [event], replays: [], balances: ["gold": 4], snapshots: [])
        func here(_ state: PlayerState, _ epoch: Epoch) -> PlayerProfile {
            var copy = profile
            copy.state = state
            copy.epoch = epoch
            return copy
        }
        func decide(_ existing: PlayerProfile?, stored: PlayerExport? = nil, epoch: Epoch = 4) -> Result<PlayerImport.Decision, StorageError> {
            Result { () throws(StorageError) in try PlayerImport.decide(export, epoch: epoch, existing: existing, storedCopy: stored) }
        }
        #expect(try decide(nil).get() == .insert)
        #expect(try decide(here(.tombstoned, 2)).get() == .replace)
        #expect(try decide(here(.incoming, 4), stored: export).get() == .unchanged)
        var older = export
        older.profile.displayName = "before"
        #expect(try decide(here(.incoming, 4), stored: older).get() == .replace)
        #expect(try decide(here(.incoming, 4)).get() == .replace)
        #expect(try decide(here(.incoming, 3)).get() == .replace)
        for refused in [decide(here(.active, 3)), decide(here(.frozen, 3)), decide(here(.tombstoned, 4)), decide(here(.incoming, 5)), decide(nil, epoch: 3)] {
            #expect(refused.failureCode == .invalidArgument)
        }
    }

    // MARK: Schema

    /// Migration 4 lets a player be `incoming` and keeps every other constraint (SQLite rebuilt the table).
    @Test(arguments: TestBackend.enabled)
    func theSchemaAcceptsIncomingPlayersAndKeepsItsConstraints(_ backend: TestBackend) async throws {
        try await withFresh(backend) { fresh in
            let store = fresh.store
            let player = try await makePlayer(store)
            try await grant(store, player.id, ["gold": 1])
            let id = player.id.uuidString.lowercased()
            try await executeRaw("UPDATE players SET state = 'incoming' WHERE player_id = '\(id)'", on: store)
            #expect(try await store.player(player.id)?.state == .incoming)
            let value34 = await storageError { try await executeRaw("UPDATE players SET state = 'gone' WHERE player_id = '\(id)'", on: store) }
            #expect(value34 != nil)
            let value35 = await storageError { try await executeRaw("UPDATE players SET epoch = 0 WHERE player_id = '\(id)'", on: store) }
            #expect(value35 != nil)
            // Foreign keys are enforced again after the migration.
            let orphan = "INSERT INTO match_history (player_id, match_id, finished_at, outcome, xp_awarded, summary) VALUES ('\(UUID().uuidString.lowercased())', '\(UUID().uuidString.lowercased())', \(backend == .sqlite ? "0" : "now()"), 'win', 0, \(backend == .sqlite ? "X''" : "''::bytea"))"
            let value36 = await storageError { try await executeRaw(orphan, on: store) }
            #expect(value36 != nil)

            let reopened = try await fresh.reopen()
            #expect(try await appliedMigrations(reopened) == [1, 2, 3, 4, 5, 6, 7])
            #expect(try await reopened.player(player.id)?.state == .incoming)
            await reopened.close()
        }
    }
}

// MARK: Helpers

extension TransferStorageTests {
    /// What a player's data reads as through the store's API.
    struct Observed: Hashable {
        var profile: PlayerProfile
        var balances: ItemQuantities
        var recomputed: ItemQuantities
        var events: [LedgerEvent]
        var history: [MatchRecord]
        var replays: [LedgerReplay]
    }

    func observe(_ player: PlayerID, in store: any RegionStore) async throws -> Observed {
        Observed(
            profile: try #require(try await store.player(player)),
            balances: try await store.balances(of: player),
            recomputed: try await store.recomputedBalances(of: player),
            events: try await store.ledgerEvents(of: player, after: 0, limit: 10_000),
            history: try await store.matchHistory(of: player, limit: 10_000),
            replays: try await store.ledgerReplays(of: player)
        )
    }

    /// A player with some of everything: grants, a purchase, a consume to zero, match results with
    /// rewards and a rating, a rename, replays and a settled trade to a neighbour.
    func populate(_ store: any RegionStore) async throws -> PlayerID {
        let player = try await makePlayer(store).id
        let neighbour = try await makePlayer(store).id
        try await grant(store, player, ["gold": 100, "wood": 4])
        _ = try await store.append(LedgerAppend(player: player, epoch: .initial, idempotencyKey: "buy", operation: .purchase(items: ["sword": 1], price: ["gold": 30]), reason: "shop"))
        _ = try await store.append(LedgerAppend(player: player, epoch: .initial, idempotencyKey: "burn", operation: .consume(["wood": 4])))
        _ = try await store.append(LedgerAppend(player: player, epoch: .initial, idempotencyKey: "buy", operation: .purchase(items: ["sword": 1], price: ["gold": 30])))
        var summary = ByteBuffer()
        summary.writeBytes([1, 2, 3, 0xFF])
        for (offset, outcome) in [MatchOutcome.win, .draw].enumerated() {
            let record = MatchRecord(
                matchID: MatchID(), player: player, finishedAt: Date(timeIntervalSince1970: 1_800_000_000 + Double(offset) * 60.5),
                outcome: outcome, xpAwarded: 150, summary: summary
            )
            let application = MatchResultApplication(
                record: record, epoch: .initial, rewards: offset == 0 ? ["gem": 1] : [:],
                skillAfter: SkillRating(rating: 1550 + Double(offset), deviation: 300.25, volatility: 0.0601)
            )
            _ = try await store.applyMatchResult(application)
            _ = try await store.applyMatchResult(application)  // a replay
        }
        _ = try await store.renamePlayer(player, epoch: .initial, displayName: "mover")
        let trade = TradeOutRequest(tradeID: TradeID(), giver: player, giverEpoch: .initial, receiver: neighbour, destinationRegion: "eu-west", items: ["gold": 10])
        _ = try await store.tradeOut(trade)
        _ = try await coordinator.settle(trade.tradeID, giverStore: store, receiverStore: store)
        return player
    }

    /// The whole transfer, as the saga runs it (the directory flip aside); returns the new epoch.
    func moveHome(_ player: PlayerID, from source: any RegionStore, to destination: any RegionStore) async throws -> Epoch {
        let frozen = try await source.freeze(player)
        let epoch = frozen.epoch.next
        _ = try await destination.importPlayer(try await source.exportPlayer(player), epoch: epoch)
        _ = try await destination.activateIncoming(player, epoch: epoch)
        _ = try await source.tombstone(player)
        return epoch
    }
}

/// Two fresh stores of `backend` (a transfer's source and destination), removed afterwards.
func withTwoStores(
    _ backend: TestBackend, sourceInterval: Int64 = 256, destinationInterval: Int64 = 256,
    _ body: (any RegionStore, any RegionStore) async throws -> Void
) async throws {
    try await withFresh(backend, snapshotInterval: sourceInterval) { source in
        try await withFresh(backend, snapshotInterval: destinationInterval) { destination in
            try await body(source.store, destination.store)
        }
    }
}

extension Result where Failure == StorageError {
    var failureCode: StorageError.Code? {
        if case .failure(let error) = self { return error.code }
        return nil
    }
}
