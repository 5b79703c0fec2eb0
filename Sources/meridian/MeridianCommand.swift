import ArgumentParser

struct MeridianCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meridian",
        abstract: "Meridian: a multi-region, actor-based backend cluster for online games.",
        subcommands: [
            LocalCommand.self,
            BootstrapCommand.self,
            StatusCommand.self,
            TopologyCommand.self,
            CatalogCommand.self,
            PlayerCommand.self,
            AccountCommand.self,
            IdentityCommand.self,
            MatchCommand.self,
            LedgerCommand.self,
            MovedBenchCommand.self,
            LoadtestCommand.self,
            AdminCommand.self,
            ChaosCommand.self,
        ]
    )
}

/// `meridian bench` moved to its own executable, so that a node never links the benchmarks'
/// peers: says where, and exits 1.
struct MovedBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks are in their own executable: swift run -c release meridian-bench --help.",
        shouldDisplay: false
    )

    @Argument(parsing: .allUnrecognized) var rest: [String] = []

    func run() throws {
        let subcommand = rest.first.map { " \($0)" } ?? ""
        throw ValidationError("the benchmarks are in their own executable: swift run -c release meridian-bench\(subcommand) …")
    }
}
