import Foundation
import MeridianCluster
import MeridianGame
import MeridianMatchmaking
import MeridianRegion
import Testing

/// The region's and the match set-up's call arguments and results travel as protobuf messages
/// (Protos/region.proto, game.proto): they round-trip, a newer node's extra fields are skipped,
/// and bad bytes are errors.
@Suite("Region and game wire messages")
struct RegionWireTests {
    private static func bytes(_ value: some WireCodable) throws -> [UInt8] {
        var writer = WireWriter()
        try writer.write(value)
        return writer.bytes
    }

    private static func decode<T: WireCodable>(_ bytes: [UInt8], as type: T.Type = T.self) throws -> T {
        var reader = WireReader(bytes: bytes)
        return try reader.read()
    }

    private static let ticket = QueueTicket(
        id: UUID(), members: [.init(player: UUID(), homeRegion: "eu-west"), .init(player: UUID(), homeRegion: "us-east")],
        rttMilliseconds: ["eu-west": 12, "us-east": 80], visitedRegions: ["eu-west"], queuedAt: Date(timeIntervalSince1970: 1_790_000_000.25)
    )
    private static let assignment = MatchAssignment(matchID: UUID(), region: "eu-west", shard: 7, node: "eu-west-2", incarnation: 1_795_000_000_000_001)

    @Test func sessionsRoundTrip() throws {
        for session in [PlayerSession.idle, .queued(Self.ticket, region: "us-east"), .inMatch(Self.assignment)] {
            #expect(try Self.decode(Self.bytes(session)) == session)
        }
        #expect(try Self.decode(Self.bytes(Self.ticket)) == Self.ticket)
        #expect(try Self.decode(Self.bytes(SkillRating(rating: 1612.5, deviation: 48, volatility: 0.059))) == SkillRating(rating: 1612.5, deviation: 48, volatility: 0.059))
    }

    @Test func resultsAndDeliveriesRoundTrip() throws {
        let rated = MatchResultMessage(
            matchID: UUID(), player: UUID(), outcome: "win", placement: 0, xp: 120, rewards: ["gold": 5],
            skillAfter: SkillRating(rating: 1530, deviation: 300, volatility: 0.06), finishedAt: Date(timeIntervalSince1970: 1_790_000_100.5)
        )
        var unrated = rated
        unrated.skillAfter = nil
        #expect(try Self.decode(Self.bytes(rated)) == rated)
        #expect(try Self.decode(Self.bytes(unrated)) == unrated)
        let outcome = DeliveryOutcome(accepted: false, reason: "receiver does not exist")
        #expect(try Self.decode(Self.bytes(outcome)) == outcome)
    }

    @Test func matchSetUpRoundTrips() throws {
        let seats = [
            MatchSeat(player: UUID(), homeRegion: "eu-west", skill: .initial, ticketID: UUID()),
            MatchSeat(player: UUID(), homeRegion: "us-east", skill: SkillRating(rating: 1700, deviation: 40, volatility: 0.05), ticketID: UUID()),
        ]
        let spec = MatchSpec(matchID: UUID(), region: "eu-west", shard: 3, seats: seats)
        #expect(try Self.decode(Self.bytes(spec)) == spec)
        #expect(try Self.decode(Self.bytes(seats)) == seats)
        for outcome in [nil, "timeLimitReached"] {
            let status = MatchStatusView(matchID: UUID(), phase: "active", players: 10, connected: 9, tick: 4_321, alive: 7, outcome: outcome)
            #expect(try Self.decode(Self.bytes(status)) == status)
        }
    }

    /// A field a newer node added (number 99 here) is skipped by this one.
    @Test func unknownFieldsOfANewerNodeAreSkipped() throws {
        var encoded = try Self.bytes(Self.assignment)
        // The value is a length-prefixed message: append field 99 (varint 1) and fix the length.
        var reader = WireReader(bytes: encoded)
        var message = Array(try reader.readBytes())
        message += [0x98, 0x06, 0x01]  // tag (99 << 3 | 0) as a varint, then 1
        var writer = WireWriter()
        writer.writeBytes(message)
        encoded = writer.bytes
        #expect(try Self.decode(encoded) == Self.assignment)
    }

    @Test func badBytesAreDecodingErrors() throws {
        let good = try Self.bytes(PlayerSession.queued(Self.ticket, region: "eu-west"))
        for cut in 0..<good.count {
            #expect(throws: (any Error).self) { _ = try Self.decode(Array(good.prefix(cut)), as: PlayerSession.self) }
        }
        // A session whose oneof is empty, and an id that is not a UUID.
        var writer = WireWriter()
        writer.writeBytes([UInt8]())
        #expect(throws: WireDecodingError.self) { _ = try Self.decode(writer.bytes, as: PlayerSession.self) }
        var badID = WireWriter()
        badID.writeBytes([0x0A, 0x03] + Array("abc".utf8))  // field 1 (match_id) = "abc"
        #expect(throws: WireDecodingError.self) { _ = try Self.decode(badID.bytes, as: MatchAssignment.self) }
    }
}
