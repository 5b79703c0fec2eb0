import Foundation
import Logging
import PostgresNIO

extension PostgresRegionStore {
    public func ledgerAuditData() async throws(StorageError) -> LedgerAuditData {
        let location = self.location
        let logger = self.logger
        return try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            func rows(_ sql: String) async throws -> PostgresRowSequence {
                try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            }
            var data = LedgerAuditData(location: location)
            for try await (players, events) in try await rows(AuditQueries.counts).decode((Int64, Int64).self) {
                data.playerCount = Int(players)
                data.eventCount = Int(events)
            }
            for try await (item, kind, counted, credits, debits) in try await rows(AuditQueries.flows).decode((String, String, Int32, Int64, Int64).self) {
                guard let kind = LedgerEventKind(rawValue: kind) else {
                    data.structural.append(.init(player: nil, sequence: nil, problem: "ledger events of unknown kind \"\(kind)\""))
                    continue
                }
                data.addFlow(item: ItemKind(item), kind: kind, credits: credits, debits: debits, counted: counted != 0)
            }
            for try await (item, held) in try await rows(AuditQueries.held).decode((String, Int64).self) {
                data.held[ItemKind(item)] = held
            }
            for try await (player, epoch, events) in try await rows(AuditQueries.frozenPlayers).decode((UUID, Int64, Int64).self) {
                var copy = LedgerAuditData.FrozenCopy(epoch: Epoch(epoch))
                copy.eventCount = Int(events)
                data.frozenCopies[player] = copy
            }
            for try await (player, item, kind, credits, debits) in try await rows(AuditQueries.frozenFlows).decode((UUID, String, String, Int64, Int64).self) {
                // Unknown kinds were reported with the store's flows.
                guard let kind = LedgerEventKind(rawValue: kind) else { continue }
                data.addFrozenFlow(player: player, item: ItemKind(item), kind: kind, credits: credits, debits: debits)
            }
            for try await (player, item, quantity) in try await rows(AuditQueries.frozenHeld).decode((UUID, String, Int64).self) {
                data.frozenCopies[player]?.held[ItemKind(item)] = quantity
            }
            for try await (player, item, cached, recomputed) in try await rows(AuditQueries.balanceMismatches).decode((UUID, String, Int64, Int64).self) {
                data.balanceMismatches.append(.init(player: player, item: ItemKind(item), cached: cached, recomputed: recomputed))
            }
            for try await (player, seq, item, recorded, running) in try await rows(AuditQueries.chainBreaks).decode((UUID, Int64, String, Int64, Int64).self) {
                data.chainBreaks.append(.init(player: player, sequence: seq, item: ItemKind(item), recorded: recorded, recomputed: running))
            }
            for try await (player, seq, item, snapshot, recomputed) in try await rows(AuditQueries.snapshotMismatches).decode((UUID, Int64, String, Int64, Int64).self) {
                data.snapshotMismatches.append(.init(player: player, sequence: seq, item: ItemKind(item), snapshot: snapshot, recomputed: recomputed))
            }
            for try await (player, recorded, events, last) in try await rows(AuditQueries.sequenceGaps).decode((UUID, Int64, Int64, Int64).self) {
                data.structural.append(.init(player: player, sequence: nil, problem: "player records ledger sequence \(recorded) but has \(events) events up to \(last)"))
            }
            for try await player in try await rows(AuditQueries.eventsWithoutPlayer).decode(UUID.self) {
                data.structural.append(.init(player: player, sequence: nil, problem: "ledger events of a player this store does not have"))
            }
            for try await (player, seq) in try await rows(AuditQueries.eventsWithoutLines).decode((UUID, Int64).self) {
                data.structural.append(.init(player: player, sequence: seq, problem: "ledger event without lines"))
            }
            for try await (player, seq) in try await rows(AuditQueries.linesWithoutEvent).decode((UUID, Int64).self) {
                data.structural.append(.init(player: player, sequence: seq, problem: "ledger lines without their event"))
            }
            data.outbox = try await Self.outboxEntries(try await rows(AuditQueries.outbox).decode(OutboxRow.self))
            for try await row in try await rows(AuditQueries.inbox).decode(InboxRow.self) {
                data.inbox.append(try Self.inboxRecord(row))
            }
            var legs: [LedgerAuditData.TradeLeg] = []
            for try await (tradeID, kind, player, item, delta) in try await rows(AuditQueries.tradeLegs).decode((UUID, String, UUID, String, Int64).self) {
                guard let kind = LedgerEventKind(rawValue: kind) else { continue }
                if let last = legs.last, last.tradeID == tradeID, last.kind == kind, last.player == player {
                    legs[legs.count - 1].deltas[ItemKind(item)] = delta
                } else {
                    legs.append(.init(tradeID: tradeID, kind: kind, player: player, deltas: [ItemKind(item): delta]))
                }
            }
            data.tradeLegs = legs
            return data
        }
    }
}
