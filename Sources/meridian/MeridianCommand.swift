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
            BenchCommand.self,
            LoadtestCommand.self,
        ]
    )
}
