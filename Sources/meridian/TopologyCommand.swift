import MeridianCommandLine
import ArgumentParser
import Foundation
import MeridianTopology

/// `meridian topology validate|diff`.
struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Validate and compare topology files.",
        subcommands: [Validate.self, Diff.self]
    )

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a topology file; print every problem with file:line. Exit 1 if any.")

        @Argument(help: "The topology file.")
        var file: String

        func run() throws {
            let (topology, _) = try Topology.loadOrExplain(file)
            print("\(file): ok — cluster \(topology.cluster) v\(topology.version), \(topology.regions.count) regions, \(topology.nodes.count) nodes")
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print what changes from OLD to NEW: regions, nodes, shard counts, latency.")

        @Argument(help: "The topology file in force.")
        var old: String

        @Argument(help: "The proposed topology file.")
        var new: String

        func run() throws {
            let (before, _) = try Topology.loadOrExplain(old)
            let (after, _) = try Topology.loadOrExplain(new)
            let diff = TopologyDiff(old: before, new: after)
            print(diff.isEmpty ? "no changes" : diff.description)
        }
    }
}
