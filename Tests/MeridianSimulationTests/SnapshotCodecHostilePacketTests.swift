import MeridianSimulation
import Testing

/// Packets the fuzzer (scripts/fuzz snapshot) found crashing the decoder.
@Suite("Snapshot codec: hostile packets")
struct SnapshotCodecHostilePacketTests {
    /// A full snapshot of tick 1 with one upsert; `gap` the entity's id gap, as a varint.
    static func packet(gap: [UInt8]) -> [UInt8] {
        [0, 1, 1] + gap + [32, 0, 0, 0, 0, 0, 0]
    }

    @Test("an id gap past Int.max is a decoding error (it trapped converting to Int)")
    func idGapPastIntMax() {
        let gap: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]  // UInt64.max
        #expect(throws: SnapshotDecodingError.self) { try SnapshotCodec.decode(Self.packet(gap: gap), baseline: nil) }
    }

    @Test("an id gap near Int.max is a decoding error (adding it to the previous id overflowed)")
    func idGapNearIntMax() {
        let gap: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]  // Int.max
        #expect(throws: SnapshotDecodingError.self) { try SnapshotCodec.decode(Self.packet(gap: gap), baseline: nil) }
    }

    @Test("ids up to the last entity id decode; one past it is an error")
    func lastEntityID() throws {
        let last = try SnapshotCodec.decode(Self.packet(gap: [0xFF, 0xFF, 0x03]), baseline: nil)  // gap 65535 → id 65535
        #expect(last.entities.map(\.id) == [MatchPlayerID.max])
        #expect(throws: SnapshotDecodingError.self) { try SnapshotCodec.decode(Self.packet(gap: [0x80, 0x80, 0x04]), baseline: nil) }
    }

    @Test("a position difference that overflows 64 bits wraps instead of trapping")
    func positionDifferenceOverflow() throws {
        let baseline = ReplicatedSnapshot(tick: 1, entities: [ReplicatedEntity(id: 0, x: 5, y: -5, aim: 0, health: 1, ammo: 1)])
        // Delta of tick 2 on baseline 1: entity 0 (gap 0), mask x|y, zig-zag Int64.max and Int64.min.
        let huge: [UInt8] = [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        let hugeNegative: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        let packet: [UInt8] = [1, 2, 1, 1, 0, 3] + huge + hugeNegative + [0]
        let decoded = try SnapshotCodec.decode(packet, baseline: baseline)
        #expect(decoded.entities.map(\.id) == [0])
    }
}
