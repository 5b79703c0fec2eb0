import Foundation
import SQLiteNIO

extension SQLiteRegionStore {
    public func ledgerAuditData() async throws(StorageError) -> LedgerAuditData {
        let location = self.location
        return try await database.read { connection in
            var data = LedgerAuditData(location: location)
            if let counts = try await connection.query(AuditQueries.counts).first {
                data.playerCount = Int(try counts.int64("players"))
                data.eventCount = Int(try counts.int64("events"))
            }
            for row in try await connection.query(AuditQueries.flows) {
                data.addFlow(
                    item: ItemKind(try row.string("item")), kind: try row.enumValue("kind", as: LedgerEventKind.self),
                    credits: try row.int64("credits"), debits: try row.int64("debits"), counted: try row.int64("counted") != 0
                )
            }
            for row in try await connection.query(AuditQueries.held) {
                data.held[ItemKind(try row.string("item"))] = try row.int64("held")
            }
            for row in try await connection.query(AuditQueries.frozenPlayers) {
                var copy = LedgerAuditData.FrozenCopy(epoch: Epoch(try row.int64("epoch")))
                copy.eventCount = Int(try row.int64("events"))
                data.frozenCopies[try row.uuid("player_id")] = copy
            }
            for row in try await connection.query(AuditQueries.frozenFlows) {
                data.addFrozenFlow(
                    player: try row.uuid("player_id"), item: ItemKind(try row.string("item")), kind: try row.enumValue("kind", as: LedgerEventKind.self),
                    credits: try row.int64("credits"), debits: try row.int64("debits")
                )
            }
            for row in try await connection.query(AuditQueries.frozenHeld) {
                data.frozenCopies[try row.uuid("player_id")]?.held[ItemKind(try row.string("item"))] = try row.int64("quantity")
            }
            for row in try await connection.query(AuditQueries.balanceMismatches) {
                data.balanceMismatches.append(.init(
                    player: try row.uuid("player_id"), item: ItemKind(try row.string("item")),
                    cached: try row.int64("cached"), recomputed: try row.int64("recomputed")
                ))
            }
            for row in try await connection.query(AuditQueries.chainBreaks) {
                data.chainBreaks.append(.init(
                    player: try row.uuid("player_id"), sequence: try row.int64("seq"), item: ItemKind(try row.string("item")),
                    recorded: try row.int64("balance_after"), recomputed: try row.int64("running")
                ))
            }
            for row in try await connection.query(AuditQueries.snapshotMismatches) {
                data.snapshotMismatches.append(.init(
                    player: try row.uuid("player_id"), sequence: try row.int64("seq"), item: ItemKind(try row.string("item")),
                    snapshot: try row.int64("quantity"), recomputed: try row.int64("recomputed")
                ))
            }
            for row in try await connection.query(AuditQueries.sequenceGaps) {
                data.structural.append(.init(
                    player: try row.uuid("player_id"), sequence: nil,
                    problem: "player records ledger sequence \(try row.int64("ledger_seq")) but has \(try row.int64("events")) events up to \(try row.int64("last"))"
                ))
            }
            for row in try await connection.query(AuditQueries.eventsWithoutPlayer) {
                data.structural.append(.init(player: try row.uuid("player_id"), sequence: nil, problem: "ledger events of a player this store does not have"))
            }
            for row in try await connection.query(AuditQueries.eventsWithoutLines) {
                data.structural.append(.init(player: try row.uuid("player_id"), sequence: try row.int64("seq"), problem: "ledger event without lines"))
            }
            for row in try await connection.query(AuditQueries.linesWithoutEvent) {
                data.structural.append(.init(player: try row.uuid("player_id"), sequence: try row.int64("seq"), problem: "ledger lines without their event"))
            }
            data.outbox = try Self.outboxEntries(try await connection.query(AuditQueries.outbox))
            data.inbox = try await connection.query(AuditQueries.inbox).map { row throws(StorageError) in try Self.inboxRecord(row) }
            var legs: [String: LedgerAuditData.TradeLeg] = [:]
            var order: [String] = []
            for row in try await connection.query(AuditQueries.tradeLegs) {
                guard let tradeID = try row.optionalUUID("trade_id") else { continue }
                let kind = try row.enumValue("kind", as: LedgerEventKind.self)
                let player = try row.uuid("player_id")
                let key = "\(tradeID) \(kind.rawValue) \(player)"
                if legs[key] == nil {
                    order.append(key)
                    legs[key] = .init(tradeID: tradeID, kind: kind, player: player, deltas: [:])
                }
                legs[key]?.deltas[ItemKind(try row.string("item"))] = try row.int64("delta")
            }
            data.tradeLegs = order.compactMap { legs[$0] }
            return data
        }
    }
}
