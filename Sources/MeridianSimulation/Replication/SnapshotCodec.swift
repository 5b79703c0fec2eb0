/// The binary snapshot format: a full snapshot, or a delta against a baseline the client acknowledged.
///
/// ```
/// kind: u8 (0 full, 1 delta) · tick: varint · [baseline tick: varint, delta only]
/// upserts: varint count, then per entity: id gap (varint, from previous id + 1) · mask: u8 · fields
/// removals: varint count, then id gaps (varint)
/// ```
/// Mask bits: 1 x, 2 y, 4 aim, 8 health, 16 ammo, 32 new (all fields, absolute). Positions of
/// entities already in the baseline are zig-zag varint differences, so a walking player costs
/// about 5 bytes per tick.
public enum SnapshotCodec {
    static let fieldX: UInt8 = 1, fieldY: UInt8 = 2, fieldAim: UInt8 = 4, fieldHealth: UInt8 = 8, fieldAmmo: UInt8 = 16, fieldNew: UInt8 = 32

    /// Encodes `snapshot` against `baseline` (nil: a full snapshot).
    public static func encode(_ snapshot: ReplicatedSnapshot, baseline: ReplicatedSnapshot?) -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes.reserveCapacity(16 + snapshot.entities.count * 8)
        writer.byte(baseline == nil ? 0 : 1)
        writer.varint(UInt64(snapshot.tick))
        if let baseline { writer.varint(UInt64(baseline.tick)) }
        let old = baseline?.entities ?? []

        // Both lists are sorted by id: merge them.
        var upserts = ByteWriter()
        var upsertCount = 0
        var removals = ByteWriter()
        var removalCount = 0
        var previousUpsert = -1, previousRemoval = -1
        var i = 0, j = 0
        while i < snapshot.entities.count || j < old.count {
            let current = i < snapshot.entities.count ? snapshot.entities[i] : nil
            let before = j < old.count ? old[j] : nil
            if let c = current, before == nil || c.id < before!.id {
                upserts.varint(UInt64(Int(c.id) - previousUpsert - 1))
                previousUpsert = Int(c.id)
                upserts.byte(fieldNew)
                upserts.signed(Int64(c.x))
                upserts.signed(Int64(c.y))
                upserts.varint(UInt64(c.aim))
                upserts.byte(c.health)
                upserts.byte(c.ammo)
                upsertCount += 1
                i += 1
            } else if let b = before, current == nil || b.id < current!.id {
                removals.varint(UInt64(Int(b.id) - previousRemoval - 1))
                previousRemoval = Int(b.id)
                removalCount += 1
                j += 1
            } else if let c = current, let b = before {
                var mask: UInt8 = 0
                if c.x != b.x { mask |= fieldX }
                if c.y != b.y { mask |= fieldY }
                if c.aim != b.aim { mask |= fieldAim }
                if c.health != b.health { mask |= fieldHealth }
                if c.ammo != b.ammo { mask |= fieldAmmo }
                if mask != 0 {
                    upserts.varint(UInt64(Int(c.id) - previousUpsert - 1))
                    previousUpsert = Int(c.id)
                    upserts.byte(mask)
                    if mask & fieldX != 0 { upserts.signed(Int64(c.x) - Int64(b.x)) }
                    if mask & fieldY != 0 { upserts.signed(Int64(c.y) - Int64(b.y)) }
                    if mask & fieldAim != 0 { upserts.varint(UInt64(c.aim)) }
                    if mask & fieldHealth != 0 { upserts.byte(c.health) }
                    if mask & fieldAmmo != 0 { upserts.byte(c.ammo) }
                    upsertCount += 1
                }
                i += 1
                j += 1
            }
        }
        writer.varint(UInt64(upsertCount))
        writer.bytes.append(contentsOf: upserts.bytes)
        writer.varint(UInt64(removalCount))
        writer.bytes.append(contentsOf: removals.bytes)
        return writer.bytes
    }

    /// The tick a packet carries and the baseline tick it needs (nil for a full snapshot).
    public static func header(of bytes: [UInt8]) throws(SnapshotDecodingError) -> (tick: UInt32, baseline: UInt32?) {
        var reader = ByteReader(bytes: bytes)
        let kind = try reader.byte()
        let tick = UInt32(truncatingIfNeeded: try reader.varint())
        switch kind {
        case 0: return (tick, nil)
        case 1: return (tick, UInt32(truncatingIfNeeded: try reader.varint()))
        default: throw SnapshotDecodingError(reason: "unknown packet kind \(kind)")
        }
    }

    /// Decodes a packet, applying it to `baseline` when it is a delta (whose tick must match).
    public static func decode(_ bytes: [UInt8], baseline: ReplicatedSnapshot?) throws(SnapshotDecodingError) -> ReplicatedSnapshot {
        var reader = ByteReader(bytes: bytes)
        let kind = try reader.byte()
        guard kind <= 1 else { throw SnapshotDecodingError(reason: "unknown packet kind \(kind)") }
        let tick = UInt32(truncatingIfNeeded: try reader.varint())
        var old: [ReplicatedEntity] = []
        if kind == 1 {
            let baselineTick = UInt32(truncatingIfNeeded: try reader.varint())
            guard let baseline, baseline.tick == baselineTick else {
                throw SnapshotDecodingError(reason: "delta for tick \(tick) needs baseline \(baselineTick), which this client does not hold")
            }
            old = baseline.entities
        }
        var changes: [MatchPlayerID: ReplicatedEntity] = [:]
        var previous = -1
        for _ in 0..<(try reader.varint()) {
            let id = try nextID(after: previous, &reader)
            previous = id
            let mask = try reader.byte()
            var entity: ReplicatedEntity
            if mask & fieldNew != 0 {
                entity = ReplicatedEntity(
                    id: MatchPlayerID(id), x: Int32(truncatingIfNeeded: try reader.signed()), y: Int32(truncatingIfNeeded: try reader.signed()),
                    aim: UInt16(truncatingIfNeeded: try reader.varint()), health: try reader.byte(), ammo: try reader.byte()
                )
            } else {
                guard let base = old.first(where: { $0.id == MatchPlayerID(id) }) ?? nil else {
                    throw SnapshotDecodingError(reason: "delta changes entity \(id), absent from baseline")
                }
                entity = base
                // Wrapping: the encoder's differences never overflow, a hostile one must not trap.
                if mask & fieldX != 0 { entity.x = Int32(truncatingIfNeeded: Int64(base.x) &+ (try reader.signed())) }
                if mask & fieldY != 0 { entity.y = Int32(truncatingIfNeeded: Int64(base.y) &+ (try reader.signed())) }
                if mask & fieldAim != 0 { entity.aim = UInt16(truncatingIfNeeded: try reader.varint()) }
                if mask & fieldHealth != 0 { entity.health = try reader.byte() }
                if mask & fieldAmmo != 0 { entity.ammo = try reader.byte() }
            }
            changes[entity.id] = entity
        }
        var removed: Set<MatchPlayerID> = []
        previous = -1
        for _ in 0..<(try reader.varint()) {
            let id = try nextID(after: previous, &reader)
            previous = id
            removed.insert(MatchPlayerID(id))
        }
        guard reader.isAtEnd else { throw SnapshotDecodingError(reason: "\(bytes.count - reader.offset) trailing bytes") }

        var entities = old.filter { !removed.contains($0.id) }.map { changes.removeValue(forKey: $0.id) ?? $0 }
        entities.append(contentsOf: changes.values)
        entities.sort { $0.id < $1.id }
        return ReplicatedSnapshot(tick: tick, entities: entities)
    }

    /// The id after `previous` by the gap the reader holds. The gap is checked before any
    /// arithmetic: a hostile one can be any 64-bit value.
    private static func nextID(after previous: Int, _ reader: inout ByteReader) throws(SnapshotDecodingError) -> Int {
        let gap = try reader.varint()
        let room = Int(MatchPlayerID.max) - previous - 1  // -1 after the last id
        guard room >= 0, gap <= UInt64(room) else { throw SnapshotDecodingError(reason: "entity id out of range") }
        return previous + 1 + Int(gap)
    }
}
