import Foundation
import MeridianCluster
import MeridianMatchmaking
import MeridianRegion
import MeridianSimulation

/// One seat of a match: who, where their data lives, their rating when matched, their ticket.
public struct MatchSeat: Sendable, Hashable, WireCodable {
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

    public func encode(to writer: inout WireWriter) throws {
        try writer.write(player)
        try writer.write(homeRegion)
        try writer.write(skill)
        try writer.write(ticketID)
    }

    public init(from reader: inout WireReader) throws {
        player = try reader.read()
        homeRegion = try reader.read()
        skill = try reader.read()
        ticketID = try reader.read()
    }
}

/// What a shard needs to start a match.
public struct MatchSpec: Sendable, Hashable, WireCodable {
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

    public func encode(to writer: inout WireWriter) throws {
        try writer.write(matchID)
        try writer.write(region)
        try writer.write(shard)
        try writer.write(seats)
    }

    public init(from reader: inout WireReader) throws {
        matchID = try reader.read()
        region = try reader.read()
        shard = try reader.read()
        seats = try reader.read()
    }
}

/// A match as `status` and tests see it.
public struct MatchStatusView: Sendable, Hashable, WireCodable {
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

    public func encode(to writer: inout WireWriter) throws {
        try writer.write(matchID)
        try writer.write(phase)
        try writer.write(players)
        try writer.write(connected)
        try writer.write(tick)
        try writer.write(alive)
        try writer.write(outcome)
    }

    public init(from reader: inout WireReader) throws {
        matchID = try reader.read()
        phase = try reader.read()
        players = try reader.read()
        connected = try reader.read()
        tick = try reader.read()
        alive = try reader.read()
        outcome = try reader.read()
    }
}

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
