import MeridianSimulation

/// Match-state packets as a client receives them: ``SnapshotReceiver`` (header, baseline
/// lookup, the held baselines) over ``SnapshotCodec/decode(_:baseline:)``, for a sequence of
/// full snapshots and deltas against them.
///
/// Input: a sequence of packets, each a 1-byte length then that many bytes (a last, shorter
/// packet takes what is left).
///
/// Invariants: a packet either fails with ``SnapshotDecodingError`` or yields a snapshot whose
/// entities are sorted by id without repeats; that snapshot re-encodes — in full, and as a
/// delta against the baseline it was applied to — to packets that decode to the same snapshot.
enum SnapshotTarget {
    static func run(_ input: FuzzInput) {
        var receiver = SnapshotReceiver()
        var rest = input.bytes[...]
        while let length = rest.first {
            let packet = Array(rest.dropFirst().prefix(Int(length)))
            rest = rest.dropFirst(1 + Int(length))
            let baseline = receiver.latest
            let acknowledged: UInt32?
            do {
                acknowledged = try receiver.receive(packet)
            } catch {
                continue  // a SnapshotDecodingError: the client waits for the next full snapshot
            }
            guard acknowledged != nil, let snapshot = receiver.latest else { continue }
            check(snapshot, against: baseline)
        }
    }

    static func check(_ snapshot: ReplicatedSnapshot, against baseline: ReplicatedSnapshot?) {
        let ids = snapshot.entities.map(\.id)
        invariant(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }, "a decoded snapshot's entities are not sorted by id, or repeat")
        do {
            let full = try SnapshotCodec.decode(SnapshotCodec.encode(snapshot, baseline: nil), baseline: nil)
            invariant(full == snapshot, "a snapshot changed through a full encoding")
            if let baseline {
                let delta = try SnapshotCodec.decode(SnapshotCodec.encode(snapshot, baseline: baseline), baseline: baseline)
                invariant(delta == snapshot, "a snapshot changed through a delta encoding")
            }
        } catch {
            fatalError("a snapshot's own encoding does not decode: \(error)")
        }
    }
}
