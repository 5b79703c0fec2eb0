import MeridianSimulation
import PropertyBased
import Testing

/// Round trips of the snapshot codec on generated snapshots, full and as deltas against any
/// baseline; and arbitrary packets, which must fail with a ``SnapshotDecodingError`` or decode
/// to a snapshot that re-encodes.
@Suite("Snapshot codec properties")
struct SnapshotCodecPropertyTests {
    /// Entities with distinct ids, sorted by id, every field over its whole range.
    static let snapshots = zip(
        Gen.uint32(in: 0...UInt32.max),
        zip(
            Gen.uint16(in: 0...UInt16.max),
            Gen.int32(in: Int32.min...Int32.max),
            Gen.int32(in: Int32.min...Int32.max),
            zip(Gen.uint16(in: 0...UInt16.max), Gen.uint8(in: 0...255), Gen.uint8(in: 0...255))
        ).array(of: 0...12)
    ).map { tick, fields in
        var seen = Set<MatchPlayerID>()
        let entities = fields.compactMap { id, x, y, rest -> ReplicatedEntity? in
            guard seen.insert(id).inserted else { return nil }
            return ReplicatedEntity(id: id, x: x, y: y, aim: rest.0, health: rest.1, ammo: rest.2)
        }
        return ReplicatedSnapshot(tick: tick, entities: entities.sorted(by: Self.byID))
    }

    static func byID(_ a: ReplicatedEntity, _ b: ReplicatedEntity) -> Bool { a.id < b.id }

    /// `snapshot` with some entities moved, changed, removed or added: a plausible next tick.
    static func evolved(_ snapshot: ReplicatedSnapshot, by changes: [UInt16]) -> ReplicatedSnapshot {
        var entities = snapshot.entities
        for change in changes {
            if !entities.isEmpty, change % 4 != 3 {
                let index = Int(change) % entities.count
                switch change % 4 {
                case 0: entities[index].x &+= Int32(change) - 300
                case 1: entities[index].health = UInt8(truncatingIfNeeded: change)
                default: entities.remove(at: index)
                }
            } else if !entities.contains(where: { $0.id == change }) {
                entities.append(ReplicatedEntity(id: change, x: -1, y: Int32(change), aim: change, health: 1, ammo: 2))
            }
        }
        return ReplicatedSnapshot(tick: snapshot.tick &+ 1, entities: entities.sorted(by: byID))
    }

    @Test("a full snapshot comes back as it was")
    func fullRoundTrip() async {
        await propertyCheck(count: 300, input: Self.snapshots) { snapshot in
            let decoded = try SnapshotCodec.decode(SnapshotCodec.encode(snapshot, baseline: nil), baseline: nil)
            #expect(decoded == snapshot)
        }
    }

    @Test("a delta against any baseline, applied to that baseline, gives the snapshot")
    func deltaRoundTrip() async {
        await propertyCheck(count: 300, input: Self.snapshots, Self.snapshots) { snapshot, baseline in
            let packet = SnapshotCodec.encode(snapshot, baseline: baseline)
            #expect(try SnapshotCodec.header(of: packet).baseline == baseline.tick)
            let decoded = try SnapshotCodec.decode(packet, baseline: baseline)
            #expect(decoded == snapshot)
        }
    }

    @Test("a receiver that gets every packet of an evolving match holds each tick's snapshot")
    func receiverFollowsDeltas() async {
        await propertyCheck(input: Self.snapshots, Gen.uint16(in: 0...400).array(of: 0...6).array(of: 1...8)) { first, steps in
            var receiver = SnapshotReceiver()
            var baseline: ReplicatedSnapshot?
            var current = first
            for changes in steps {
                let acknowledged = try receiver.receive(SnapshotCodec.encode(current, baseline: baseline))
                #expect(acknowledged == current.tick)
                #expect(receiver.latest == current)
                baseline = current
                current = Self.evolved(current, by: changes)
            }
        }
    }

    @Test("arbitrary packets fail with a SnapshotDecodingError, or decode to a snapshot that re-encodes")
    func arbitraryPackets() async {
        let packets = zip(Gen.uint8(in: 0...1), Gen.uint8(in: 0...255).array(of: 0...64)).map { kind, rest in [kind] + rest }
        await propertyCheck(count: 1000, input: packets, Self.snapshots) { packet, baseline in
            let decoded: ReplicatedSnapshot
            do {
                decoded = try SnapshotCodec.decode(packet, baseline: baseline)
            } catch {
                return  // typed: SnapshotDecodingError
            }
            let again = try SnapshotCodec.decode(SnapshotCodec.encode(decoded, baseline: nil), baseline: nil)
            #expect(again == decoded)
        }
    }
}
