import Foundation
import MeridianTopology

/// Topology files through ``TopologyLoader/parse(yaml:file:)``: the YAML reader (MeridianYAML),
/// the decoder with file:line issues and the validator. A topology it accepts is then used the
/// way a node uses one: shard placement of every region, the home node of a player, and a diff
/// against itself.
///
/// Input: the file's bytes (UTF-8; invalid sequences become U+FFFD, as reading a file does).
///
/// Invariants: a rejected file says why (at least one issue); a topology compared with itself
/// has no changes; every shard of a region with nodes has an owner among them.
enum TopologyTarget {
    static let player = UUID(uuid: (0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x41, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8))

    static func run(_ input: FuzzInput) {
        let topology: Topology
        do {
            topology = try TopologyLoader.parse(yaml: String(decoding: input.bytes, as: UTF8.self), file: "fuzz.yaml")
        } catch {
            invariant(!error.issues.isEmpty, "a topology was refused without an issue")
            _ = "\(error)"  // the message an operator reads
            return
        }
        invariant(TopologyDiff(old: topology, new: topology).changes.isEmpty, "a topology differs from itself")
        for region in topology.regions {
            let nodes = topology.nodes(in: region.name).map(\.id)
            let owners = ShardPlacement.assignments(region: region.name, shardCount: region.shards, nodes: nodes)
            invariant(nodes.isEmpty || owners.count == region.shards, "a shard of region '\(region.name)' has no owner")
            invariant(owners.values.allSatisfy(nodes.contains), "a shard of region '\(region.name)' is owned by a node of another region")
            _ = PlayerPlacement.owner(of: player, region: region.name, topology: topology)
        }
    }
}
