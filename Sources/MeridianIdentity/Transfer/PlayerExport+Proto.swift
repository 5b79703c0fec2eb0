import Foundation
import MeridianCluster
import MeridianMatchmaking
import MeridianStorage
import MeridianWire
import NIOCore

extension Meridian_Transfer_V1_PlayerExport: WireCodable {}
extension Meridian_Transfer_V1_TransferStatus: WireCodable {}
extension Meridian_Transfer_V1_TransferReply: WireCodable {}

/// A player's export as it travels from the source's transfer agent to the destination's.
/// Decoding checks only the form (ids, enums); the destination store checks the content
/// (``RegionStore/importPlayer(_:epoch:)`` refuses an inconsistent ledger).
extension PlayerExport {
    var proto: Meridian_Transfer_V1_PlayerExport {
        var proto = Meridian_Transfer_V1_PlayerExport()
        proto.profile.player = profile.id.wireBytes
        proto.profile.displayName = profile.displayName
        proto.profile.homeRegion = profile.homeRegion
        proto.profile.createdAtUs = profile.createdAt.microseconds
        proto.profile.epoch = profile.epoch.rawValue
        proto.profile.state = profile.state.rawValue
        proto.profile.xp = profile.progression.xp
        proto.profile.ledgerSequence = profile.ledgerSequence
        proto.profile.skill.rating = profile.skill.rating
        proto.profile.skill.deviation = profile.skill.deviation
        proto.profile.skill.volatility = profile.skill.volatility
        proto.matches = matches.map { record in
            var match = Meridian_Transfer_V1_ExportedMatch()
            match.match = record.matchID.wireBytes
            match.finishedAtUs = record.finishedAt.microseconds
            match.outcome = record.outcome.rawValue
            match.xpAwarded = record.xpAwarded
            match.summary = Data(record.summary.readableBytesView)
            return match
        }
        proto.events = events.map { event in
            var wire = Meridian_Transfer_V1_ExportedEvent()
            wire.sequence = event.sequence
            wire.kind = event.kind.rawValue
            wire.idempotencyKey = event.idempotencyKey
            wire.epoch = event.epoch.rawValue
            wire.trade = event.tradeID?.wireBytes ?? Data()
            wire.reason = event.reason
            wire.recordedAtUs = event.recordedAt.microseconds
            wire.deltas = Self.quantities(event.deltas)
            wire.balancesAfter = Self.quantities(event.balancesAfter)
            return wire
        }
        proto.replays = replays.map { replay in
            var wire = Meridian_Transfer_V1_ExportedReplay()
            wire.idempotencyKey = replay.idempotencyKey
            wire.sequence = replay.sequence
            wire.replayedAtUs = replay.replayedAt.microseconds
            return wire
        }
        proto.balances = Self.quantities(balances)
        proto.snapshots = snapshots.map { snapshot in
            var wire = Meridian_Transfer_V1_ExportedSnapshot()
            wire.sequence = snapshot.sequence
            wire.balances = Self.quantities(snapshot.balances)
            return wire
        }
        return proto
    }

    init(proto: Meridian_Transfer_V1_PlayerExport) throws {
        let wire = proto.profile
        let player = try Self.uuid(wire.player, "export player")
        guard let state = PlayerState(rawValue: wire.state) else { throw WireDecodingError("export: unknown player state \(wire.state.prefix(20))") }
        let profile = PlayerProfile(
            id: player, displayName: wire.displayName, homeRegion: wire.homeRegion, createdAt: Date(microseconds: wire.createdAtUs),
            epoch: Epoch(wire.epoch), state: state, progression: Progression(xp: wire.xp), ledgerSequence: wire.ledgerSequence,
            skill: SkillRating(rating: wire.skill.rating, deviation: wire.skill.deviation, volatility: wire.skill.volatility)
        )
        let matches = try proto.matches.map { match throws -> MatchRecord in
            guard let outcome = MatchOutcome(rawValue: match.outcome) else { throw WireDecodingError("export: unknown match outcome \(match.outcome.prefix(20))") }
            return MatchRecord(
                matchID: try Self.uuid(match.match, "export match"), player: player, finishedAt: Date(microseconds: match.finishedAtUs),
                outcome: outcome, xpAwarded: match.xpAwarded, summary: ByteBuffer(bytes: match.summary)
            )
        }
        let events = try proto.events.map { event throws -> LedgerEvent in
            guard let kind = LedgerEventKind(rawValue: event.kind) else { throw WireDecodingError("export: unknown ledger event kind \(event.kind.prefix(20))") }
            return LedgerEvent(
                player: player, sequence: event.sequence, kind: kind, idempotencyKey: event.idempotencyKey, epoch: Epoch(event.epoch),
                tradeID: event.trade.isEmpty ? nil : try Self.uuid(event.trade, "export trade"), reason: event.reason,
                recordedAt: Date(microseconds: event.recordedAtUs),
                deltas: try Self.quantities(event.deltas), balancesAfter: try Self.quantities(event.balancesAfter)
            )
        }
        self.init(
            profile: profile, matches: matches, events: events,
            replays: proto.replays.map { replay in
                LedgerReplay(player: player, idempotencyKey: replay.idempotencyKey, sequence: replay.sequence, replayedAt: Date(microseconds: replay.replayedAtUs))
            },
            balances: try Self.quantities(proto.balances),
            snapshots: try proto.snapshots.map { snapshot in
                PlayerExport.Snapshot(sequence: snapshot.sequence, balances: try Self.quantities(snapshot.balances))
            }
        )
    }

    private static func quantities(_ items: ItemQuantities) -> [Meridian_Transfer_V1_ItemQuantity] {
        items.sorted { $0.key < $1.key }.map { item, quantity in
            var wire = Meridian_Transfer_V1_ItemQuantity()
            wire.item = item.rawValue
            wire.quantity = quantity
            return wire
        }
    }

    private static func quantities(_ items: [Meridian_Transfer_V1_ItemQuantity]) throws -> ItemQuantities {
        var result: ItemQuantities = [:]
        for item in items {
            guard result.updateValue(item.quantity, forKey: ItemKind(item.item)) == nil else {
                throw WireDecodingError("export: item \(item.item.prefix(40)) listed twice")
            }
        }
        return result
    }

    private static func uuid(_ bytes: Data, _ field: String) throws -> UUID {
        guard let uuid = UUID(wireBytes: bytes) else { throw WireDecodingError("\(field) is not a 16-byte UUID") }
        return uuid
    }
}

extension Date {
    init(microseconds: Int64) { self.init(timeIntervalSince1970: Double(microseconds) / 1_000_000) }
    var microseconds: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }
}

extension TransferRecord {
    /// A transfer as the coordinator reports it; nil when malformed.
    package init?(wire proto: Meridian_Transfer_V1_TransferStatus) {
        guard let id = UUID(wireBytes: proto.id), let player = UUID(wireBytes: proto.player), let step = TransferStep(rawValue: proto.step) else {
            return nil
        }
        self.init(
            id: id, player: player, from: proto.fromRegion, to: proto.toRegion, fromEpoch: Epoch(proto.fromEpoch), step: step,
            failure: proto.failure.isEmpty ? nil : proto.failure,
            startedAt: Date(milliseconds: UInt64(max(0, proto.startedAtMs))), updatedAt: Date(milliseconds: UInt64(max(0, proto.updatedAtMs)))
        )
    }
}
