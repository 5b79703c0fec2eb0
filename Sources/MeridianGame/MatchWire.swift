import Foundation
import MeridianCluster
import MeridianMatchmaking
import MeridianRegion
import MeridianSimulation
import MeridianWire
import SwiftProtobuf

/// One seat of a match: who, where their data lives, their rating when matched, their ticket.
public struct MatchSeat: Sendable, Hashable {
    public var player: UUID
    public var homeRegion: String
    public var skill: SkillRating
    public var ticketID: UUID

    public init(player: UUID, homeRegion: String, skill: SkillRating, ticketID: UUID) {
        self.player = player
        self.homeRegion = homeRegion
        self.skill = skill
        self.ticketID = ticketID
    }
}

/// What a shard needs to start a match.
public struct MatchSpec: Sendable, Hashable {
    public var matchID: UUID
    public var region: String
    public var shard: Int
    public var seats: [MatchSeat]

    public init(matchID: UUID, region: String, shard: Int, seats: [MatchSeat]) {
        self.matchID = matchID
        self.region = region
        self.shard = shard
        self.seats = seats
    }
}

/// A match as `status` and tests see it.
public struct MatchStatusView: Sendable, Hashable {
    public var matchID: UUID
    public var phase: String
    public var players: Int
    public var connected: Int
    public var tick: UInt32
    public var alive: Int
    /// Set once the match ended: `lastPlayerStanding`, `timeLimitReached` or `closed`.
    public var outcome: String?

    public init(matchID: UUID, phase: String, players: Int, connected: Int, tick: UInt32, alive: Int, outcome: String?) {
        self.matchID = matchID
        self.phase = phase
        self.players = players
        self.connected = connected
        self.tick = tick
        self.alive = alive
        self.outcome = outcome
    }
}

// Between matchmaker, shards and tools as `meridian.game.v1` messages (Protos/game.proto): nodes
// of different versions meet during a rolling upgrade.

extension MatchSeat: ProtobufRepresented {
    package var proto: Meridian_Game_V1_MatchSeat {
        .with {
            $0.player = player.wire
            $0.homeRegion = homeRegion
            $0.skill = skill.proto
            $0.ticketID = ticketID.wire
        }
    }

    package init(proto: Meridian_Game_V1_MatchSeat) throws {
        self.init(
            player: try UUID(wire: proto.player, "seat player"), homeRegion: proto.homeRegion,
            skill: SkillRating(proto: proto.skill), ticketID: try UUID(wire: proto.ticketID, "seat ticket id")
        )
    }
}

extension MatchSpec: ProtobufRepresented {
    package var proto: Meridian_Game_V1_MatchSpec {
        .with {
            $0.matchID = matchID.wire
            $0.region = region
            $0.shard = Int64(shard)
            $0.seats = seats.map(\.proto)
        }
    }

    package init(proto: Meridian_Game_V1_MatchSpec) throws {
        self.init(
            matchID: try UUID(wire: proto.matchID, "match id"), region: proto.region, shard: Int(clamping: proto.shard),
            seats: try proto.seats.map(MatchSeat.init(proto:))
        )
    }
}

extension MatchStatusView: ProtobufRepresented {
    package var proto: Meridian_Game_V1_MatchStatus {
        .with {
            $0.matchID = matchID.wire
            $0.phase = phase
            $0.players = Int64(players)
            $0.connected = Int64(connected)
            $0.tick = tick
            $0.alive = Int64(alive)
            if let outcome { $0.outcome = outcome }
        }
    }

    package init(proto: Meridian_Game_V1_MatchStatus) throws {
        self.init(
            matchID: try UUID(wire: proto.matchID, "match id"), phase: proto.phase, players: Int(clamping: proto.players),
            connected: Int(clamping: proto.connected), tick: proto.tick, alive: Int(clamping: proto.alive),
            outcome: proto.hasOutcome ? proto.outcome : nil
        )
    }
}

// The per-tick messages below (up to 30 per match and gateway each second) keep the compact
// WireCodable encoding: no field tags, so a change to them needs a new call target (a new
// distributed func) rather than a new field.

/// One client input as it travels to the match (7 bytes of payload plus the varint sequence).
public struct InputMessage: Sendable, Hashable, WireCodable {
    public var input: PlayerInput

    public init(_ input: PlayerInput) {
        self.input = input
    }

    public func encode(to writer: inout WireWriter) throws {
        writer.writeVarint(UInt64(input.sequence))
        writer.writeVarint(UInt64(UInt8(bitPattern: input.moveX)))
        writer.writeVarint(UInt64(UInt8(bitPattern: input.moveY)))
        writer.writeVarint(UInt64(input.aim))
        writer.writeVarint((input.fire ? 1 : 0) | (input.reload ? 2 : 0))
    }

    public init(from reader: inout WireReader) throws {
        guard let sequence = UInt32(exactly: try reader.readVarint()),
              let moveX = UInt8(exactly: try reader.readVarint()),
              let moveY = UInt8(exactly: try reader.readVarint()),
              let aim = UInt16(exactly: try reader.readVarint())
        else { throw WireDecodingError("input field out of range") }
        let buttons = try reader.readVarint()
        input = PlayerInput(
            sequence: sequence, moveX: Int8(bitPattern: moveX), moveY: Int8(bitPattern: moveY), aim: aim,
            fire: buttons & 1 != 0, reload: buttons & 2 != 0
        )
    }
}

/// One player's inputs and newest acknowledged tick, as a gateway batches them per match.
public struct ClientUpdate: Sendable, Hashable, WireCodable {
    public var player: UUID
    public var inputs: [InputMessage]
    /// The newest snapshot the client holds; later deltas are encoded against it.
    public var acknowledged: UInt32?

    public init(player: UUID, inputs: [InputMessage] = [], acknowledged: UInt32? = nil) {
        self.player = player
        self.inputs = inputs
        self.acknowledged = acknowledged
    }

    public func encode(to writer: inout WireWriter) throws {
        try writer.write(player)
        try writer.write(inputs)
        try writer.write(acknowledged)
    }

    public init(from reader: inout WireReader) throws {
        player = try reader.read()
        inputs = try reader.read()
        acknowledged = try reader.read()
    }
}

/// One player's share of a tick: which entity of the snapshot is the player's own avatar, and
/// the packet (a delta against the player's last acknowledged snapshot, see ``SnapshotReplicator``).
public struct PlayerPacket: Sendable, Hashable {
    public var entity: UInt16
    /// The last input sequence of the player the simulation applied (input → delta latency).
    public var lastInput: UInt32
    public var bytes: [UInt8]

    public init(entity: UInt16, lastInput: UInt32 = 0, bytes: [UInt8]) {
        self.entity = entity
        self.lastInput = lastInput
        self.bytes = bytes
    }
}

/// What a match sends a subscriber each tick: the packet of every player it serves.
public struct MatchFrame: Sendable, Hashable, WireCodable {
    public var matchID: UUID
    public var tick: UInt32
    public var phase: String
    public var packets: [UUID: PlayerPacket]

    public init(matchID: UUID, tick: UInt32, phase: String, packets: [UUID: PlayerPacket]) {
        self.matchID = matchID
        self.tick = tick
        self.phase = phase
        self.packets = packets
    }

    public func encode(to writer: inout WireWriter) throws {
        try writer.write(matchID)
        try writer.write(tick)
        try writer.write(phase)
        writer.writeVarint(UInt64(packets.count))
        for (player, packet) in packets {
            try writer.write(player)
            writer.writeVarint(UInt64(packet.entity))
            writer.writeVarint(UInt64(packet.lastInput))
            writer.writeBytes(packet.bytes)
        }
    }

    public init(from reader: inout WireReader) throws {
        matchID = try reader.read()
        tick = try reader.read()
        phase = try reader.read()
        let count = try reader.readCount()
        var packets: [UUID: PlayerPacket] = [:]
        packets.reserveCapacity(count)
        for _ in 0..<count {
            let player: UUID = try reader.read()
            guard let entity = UInt16(exactly: try reader.readVarint()), let lastInput = UInt32(exactly: try reader.readVarint()) else {
                throw WireDecodingError("entity id or input sequence out of range")
            }
            packets[player] = PlayerPacket(entity: entity, lastInput: lastInput, bytes: Array(try reader.readBytes()))
        }
        self.packets = packets
    }
}
