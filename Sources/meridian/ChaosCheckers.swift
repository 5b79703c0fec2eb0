import Foundation
import Logging
import MeridianCatalog
import MeridianChaos
import MeridianGame
import MeridianIdentity
import MeridianCluster
import MeridianRegion
import MeridianTopology
import MeridianStorage
import MeridianWire

/// The invariants checked once a chaos run's faults have healed and the cluster settled. Each
/// checker says what it checked and lists every counterexample it found.
struct ChaosCheckers {
    let cluster: ChaosCluster
    let workload: ChaosWorkload
    let logger: Logger

    func run(
        audit: LedgerAuditReport, harnessProblems: [String],
        bots: (before: LoadtestReport?, atHeal: LoadtestReport?, after: LoadtestReport?)
    ) async -> [ChaosCheck] {
        [
            processes(),
            await membership(),
            ledger(audit),
            trades(audit),
            await grantsAndConsumes(),
            operationsFinished(),
            await transfers(),
            await catalog(),
            await topology(),
            self.bots(bots),
            await botPlayers(),
            await oneWriter(),
            ChaosCheck(name: "harness", checked: "every fault applied and healed", counterexamples: harnessProblems),
        ]
    }

    /// No node process ended but those the harness killed (and it started them again).
    private func processes() -> ChaosCheck {
        let states = cluster.supervisor.states
        let down = states.filter { !$0.value }.map { "\($0.key) is not running" }.sorted()
        return ChaosCheck(
            name: "no crash", checked: "\(states.count) node processes: none exited unless killed by the harness, all running at the end",
            counterexamples: cluster.supervisor.unexpectedExits + down
        )
    }

    /// Every node sees every node up (a node that was declared down rejoined by itself).
    private func membership() async -> ChaosCheck {
        let missing = await cluster.nodesNotUpEverywhere()
        return ChaosCheck(
            name: "membership", checked: "every node sees all \(cluster.topology.nodes.count) nodes up",
            counterexamples: missing.map { "\($0) is not up in every node's view" }
        )
    }

    private func ledger(_ audit: LedgerAuditReport) -> ChaosCheck {
        ChaosCheck(
            name: "ledger audit",
            checked: "\(audit.locations.count) stores, \(audit.playerCount) players, \(audit.eventCount) events: every balance recomputed from its events, conservation per item, the legs of \(audit.tradeCount) trades agree",
            counterexamples: audit.mismatches.map(\.description)
        )
    }

    /// Every acknowledged trade was delivered exactly once or refunded exactly once, and none is left in escrow.
    private func trades(_ audit: LedgerAuditReport) -> ChaosCheck {
        let acknowledged = workload.acknowledgedTrades
        var problems = workload.tradeViolations
        var delivered = 0, refunded = 0
        for id in acknowledged {
            switch audit.tradeOutcomes[id] {
            case .delivered?: delivered += 1
            case .refunded?: refunded += 1
            case let outcome?: problems.append("acknowledged trade \(id) is \(outcome.rawValue) after the cluster settled")
            case nil: problems.append("acknowledged trade \(id) has no outbox row in any store: its giver's leg is lost")
            }
        }
        for (id, outcome) in audit.tradeOutcomes where !outcome.isFinal && !acknowledged.contains(id) {
            problems.append("trade \(id) is \(outcome.rawValue) after the cluster settled")
        }
        return ChaosCheck(
            name: "trades exactly once",
            checked: "\(acknowledged.count) acknowledged trades (each sent again on purpose): \(delivered) delivered, \(refunded) refunded; \(audit.tradeOutcomes.count) trades in the stores, all settled",
            counterexamples: problems
        )
    }

    /// Every acknowledged grant and consume was applied exactly once: balances equal their sum.
    private func grantsAndConsumes() async -> ChaosCheck {
        let model = workload.model
        var actual: [String: Int64] = [:]
        var problems = model.violations
        for player in workload.players {
            do {
                let view = try await ClusterSystem.withCallTimeout(.seconds(10)) { try await workload.home(of: player.id).view() }
                actual[player.id.uuidString] = view.balances["gems"] ?? 0
            } catch {
                problems.append("\(player.id): cannot read its balances: \(error)")
            }
        }
        problems += model.differences(actual: actual)
        return ChaosCheck(
            name: "grants and consumes exactly once",
            checked: "\(model.acknowledgedCount) acknowledged grants and consumes (each sent again on purpose) against the gems of \(workload.players.count) players",
            counterexamples: problems
        )
    }

    /// Every operation the workload started was acknowledged once the faults healed.
    private func operationsFinished() -> ChaosCheck {
        let tallies = workload.tallies
        let summary = tallies.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.acknowledged)/\($0.value.attempted)" }.joined(separator: ", ")
        return ChaosCheck(
            name: "operations finish", checked: "acknowledged/attempted: \(summary)",
            counterexamples: tallies.values.flatMap(\.unresolved).map { "not acknowledged by the end of the settle time: \($0)" }
        )
    }

    /// Each moved player lives where the directory says, with its data active there.
    private func transfers() async -> ChaosCheck {
        var problems: [String] = []
        let moved = workload.movedTo
        for player in workload.players {
            do {
                let directory = try await workload.homeRegion(of: player.id)
                if let expected = moved[player.id], directory != expected {
                    problems.append("\(player.id) was moved to \(expected) but the directory names \(directory)")
                }
                let view = try await ClusterSystem.withCallTimeout(.seconds(10)) { try await workload.home(of: player.id).view() }
                if view.homeRegion != directory || view.state != "active" {
                    problems.append("\(player.id): the directory names \(directory), its data there says home \(view.homeRegion), state \(view.state)")
                }
            } catch {
                problems.append("\(player.id): \(error)")
            }
        }
        return ChaosCheck(
            name: "transfers", checked: "\(workload.players.count) players (\(moved.count) moved) live, active, where the directory says",
            counterexamples: problems
        )
    }

    /// Every node serves one catalog version, at least the newest acknowledged publish.
    private func catalog() async -> ChaosCheck {
        let reports = await CatalogAdmin(system: cluster.client.system).reports(nodes: cluster.topology.nodes.map { ($0.id, $0.region) }, timeout: .seconds(3))
        let newest = workload.catalogVersions.max() ?? 1
        var problems: [String] = []
        let versions = Dictionary(reports.compactMap { report in report.version.map { (report.node, $0) } }, uniquingKeysWith: { first, _ in first })
        for node in cluster.topology.nodes {
            guard let version = versions[node.id] else { problems.append("\(node.id) did not report its catalog"); continue }
            if version < newest { problems.append("\(node.id) serves catalog v\(version), older than the acknowledged v\(newest)") }
        }
        if Set(versions.values).count > 1 { problems.append("nodes serve different catalog versions: \(versions.sorted { $0.key < $1.key })") }
        return ChaosCheck(
            name: "catalog", checked: "\(cluster.topology.nodes.count) nodes serve one catalog version ≥ v\(newest) (\(workload.catalogVersions.count) publishes acknowledged)",
            counterexamples: problems
        )
    }

    private func topology() async -> ChaosCheck {
        let versions = await cluster.client.topologyVersions(of: cluster.topology.nodes.map(\.id), timeout: .seconds(3))
        var problems = cluster.topology.nodes.filter { versions[$0.id] == nil }.map { "\($0.id) did not report its topology version" }
        let distinct = Set(versions.values.map { Int($0.version) })
        if distinct != [cluster.topology.version] { problems.append("topology versions \(distinct.sorted()), expected v\(cluster.topology.version) everywhere") }
        return ChaosCheck(name: "topology", checked: "\(cluster.topology.nodes.count) nodes run topology v\(cluster.topology.version)", counterexamples: problems)
    }

    /// Every bot is connected again and matches finish after the heal.
    private func bots(_ bots: (before: LoadtestReport?, atHeal: LoadtestReport?, after: LoadtestReport?)) -> ChaosCheck {
        guard cluster.botCount > 0 else { return ChaosCheck(name: "bots", checked: "no bots in this run") }
        guard let after = bots.after else {
            return ChaosCheck(name: "bots", checked: "bots report", counterexamples: ["the bots' process reported nothing"])
        }
        var problems: [String] = []
        if cluster.bots?.isRunning != true { problems.append("the bots' process is not running") }
        if let age = cluster.bots?.latestAge, age > .seconds(5) { problems.append("the bots' latest report is \(age) old") }
        if after.connected < cluster.botCount {
            let errors = after.errors.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            problems.append("\(cluster.botCount - after.connected) of \(cluster.botCount) bots are not connected at the end (bots' errors: \(errors.isEmpty ? "none" : errors))")
        }
        let sinceHeal = after.matchesFinished - (bots.atHeal?.matchesFinished ?? 0)
        if sinceHeal <= 0 { problems.append("no match finished after the heal") }
        return ChaosCheck(
            name: "bots play again",
            checked: "\(after.connected)/\(cluster.botCount) bots connected; \(after.matchesFinished) matches finished (\(sinceHeal) after the heal), \(after.matchesLost) lost to faults, \(after.disconnects) disconnects, \(after.redirects) redirects",
            counterexamples: problems
        )
    }
}

extension ChaosCheckers {
    /// Each bot's match results were applied exactly once — its gold and XP are what the rules
    /// pay for the matches in its history (bots get gold from nothing else), no match is in its
    /// history twice — and no bot is stuck "in match" on a match that no node runs.
    func botPlayers() async -> ChaosCheck {
        guard cluster.botCount > 0 else { return ChaosCheck(name: "match results and sessions", checked: "no bots in this run") }
        // The rules of the run's catalog (every publish changes only its message of the day).
        guard let content = try? CatalogLoader.parse(yaml: cluster.catalogTemplate, file: "chaos catalog") else {
            return ChaosCheck(name: "match results and sessions", checked: "the run's catalog", counterexamples: ["the run's catalog does not parse"])
        }
        let rules = GameRules(config: content.config)
        var problems: [String] = []
        var verified = 0, matches = 0, truncated = 0
        let authority = AuthorityClient(system: cluster.client.system, topology: cluster.topology, timeout: .seconds(10), logger: logger)
        var live = await liveMatches()
        for index in 0..<cluster.botCount {
            do {
                let device = LoadtestLogin.deviceID(index)
                let details = try await authority.call { try await $0.details(device: device) }
                guard details.found, let player = UUID(uuidString: details.entry.player) else {
                    problems.append("bot \(index): no account for its device"); continue
                }
                let home = try PlayerDirectory(system: cluster.client.system, topology: cluster.topology).home(of: player, region: details.entry.homeRegion)
                let (view, history) = try await ClusterSystem.withCallTimeout(.seconds(10)) {
                    (try await home.view(), try await home.recentMatches(limit: 100))
                }
                matches += history.count
                if Set(history.map(\.matchID)).count != history.count { problems.append("bot \(index) (\(player)): a match is in its history twice") }
                if history.count < 100 {
                    verified += 1
                    let gold = history.reduce(Int64(0)) { sum, entry in
                        switch entry.outcome {
                        case "win": sum + rules.playReward + rules.winReward
                        case "draw", "loss": sum + rules.playReward
                        default: sum
                        }
                    }
                    let xp = history.reduce(Int64(0)) { $0 + $1.xp }
                    if view.balances[rules.rewardItem] ?? 0 != gold || view.xp != xp {
                        problems.append("bot \(index) (\(player)): holds \(view.balances[rules.rewardItem] ?? 0) \(rules.rewardItem) and \(view.xp) XP; its \(history.count) matches pay \(gold) and \(xp)")
                    }
                } else {
                    truncated += 1
                }
                // In a match: it must run somewhere (read again after a refresh, as it may just have ended).
                if case .inMatch(let match) = try await home.currentSession(), !live.contains(match.matchID) {
                    live = await liveMatches()
                    if case .inMatch(let again) = try await home.currentSession(), again.matchID == match.matchID, !live.contains(match.matchID) {
                        problems.append("bot \(index) (\(player)) is in match \(match.matchID), which no node runs")
                    }
                }
            } catch {
                problems.append("bot \(index): \(error)")
            }
        }
        return ChaosCheck(
            name: "match results and sessions",
            checked: "\(cluster.botCount) bots, \(matches) matches in their histories: no match twice; gold and XP equal the rules' pay for their matches (\(verified) bots; \(truncated) with more history than one read returns); none in a match no node runs",
            counterexamples: problems
        )
    }

    /// No player had two writers: after the faults, each of the run's players (its accounts and
    /// its bots) is active in exactly one store, and every other copy's ledger is a prefix of the
    /// live one (``SingleWriterCheck``).
    func oneWriter() async -> ChaosCheck {
        var players = workload.players.map(\.id)
        let authority = AuthorityClient(system: cluster.client.system, topology: cluster.topology, timeout: .seconds(10), logger: logger)
        var problems: [String] = []
        for index in 0..<cluster.botCount {
            let device = LoadtestLogin.deviceID(index)
            if let details = try? await authority.call({ try await $0.details(device: device) }), details.found, let id = UUID(uuidString: details.entry.player) {
                players.append(id)
            } else {
                problems.append("bot \(index): its account was not found")
            }
        }
        var events = 0
        do {
            problems += try await LedgerCommand.Audit.withStores(of: cluster.topology, logger: logger) { stores in
                var found: [String] = []
                for player in players {
                    var copies: [SingleWriterCheck.Copy] = []
                    for (location, store) in stores {
                        guard let profile = try await store.player(player) else { continue }
                        let ledger = try await store.ledgerEvents(of: player, after: 0, limit: .max)
                        events += ledger.count
                        copies.append(SingleWriterCheck.Copy(location: location, state: profile.state, epoch: profile.epoch, events: ledger))
                    }
                    found += SingleWriterCheck.check(player: player, copies: copies)
                }
                return found
            }
        } catch {
            problems.append("the stores could not be read: \(error)")
        }
        return ChaosCheck(
            name: "one writer per player",
            checked: "\(players.count) players, \(events) ledger events in all their copies: each active in exactly one store, every other copy a prefix of its home's ledger",
            counterexamples: problems
        )
    }

    /// The ids of every match some node runs now.
    private func liveMatches() async -> Set<UUID> {
        let byNode = await cluster.client.system.askEach(cluster.topology.nodes.map(\.id), at: GameFront.path, as: GameFront.self, timeout: .seconds(3)) {
            try await $0.localMatches()
        }
        return Set(byNode.values.flatMap { $0.map(\.matchID) })
    }
}

/// What a chaos run did and found, as text or one JSON document.
struct ChaosOutcome {
    var schedule: ChaosSchedule
    var tallies: [String: ChaosWorkload.Tally]
    var checks: [ChaosCheck]
    var matchesFinished: Int
    var settledIn: Duration

    var passed: Bool { checks.allSatisfy(\.passed) }

    func text(seed: UInt64) -> String {
        var lines = ["", "chaos run, seed \(seed): \(schedule.faults.count) faults (\(counts))"]
        lines.append("operations (acknowledged/attempted): " + tallies.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.acknowledged)/\($0.value.attempted)" }.joined(separator: ", ") + ", matches finished \(matchesFinished)")
        lines += checks.flatMap(\.reportLines)
        let failed = checks.filter { !$0.passed }.count
        lines.append(passed ? "all \(checks.count) checks passed" : "\(failed) of \(checks.count) checks failed; replay with --seed \(seed)")
        return lines.joined(separator: "\n")
    }

    func json(seed: UInt64, storage: String) -> String {
        let object: [String: Any] = [
            "seed": seed, "storage": storage, "passed": passed,
            "faults": schedule.faults.map { ["at_ms": $0.startMilliseconds, "length_ms": $0.lengthMilliseconds, "kind": $0.kind.rawValue, "what": $0.description] as [String: Any] },
            "fault_counts": Dictionary(uniqueKeysWithValues: schedule.counts.map { ($0.key.rawValue, $0.value) }),
            "operations": tallies.mapValues { ["attempted": $0.attempted, "acknowledged": $0.acknowledged, "unresolved": $0.unresolved.count] },
            "matches_finished": matchesFinished,
            "settled_ms": Int(settledIn / .milliseconds(1)),
            "checks": checks.map(\.jsonObject),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private var counts: String {
        schedule.counts.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
    }
}

extension ChaosCheck {
    /// PASS or FAIL with what was checked, then up to 20 counterexamples (the chaos and soak reports).
    var reportLines: [String] {
        var lines = ["\(passed ? "PASS" : "FAIL") \(name): \(checked)"]
        lines += counterexamples.prefix(20).map { "     counterexample: \($0)" }
        if counterexamples.count > 20 { lines.append("     … and \(counterexamples.count - 20) more") }
        return lines
    }

    /// The check in a report's JSON document.
    var jsonObject: [String: Any] {
        ["name": name, "passed": passed, "checked": checked, "counterexamples": counterexamples]
    }
}
