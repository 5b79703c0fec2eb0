import MeridianLatency
import MeridianCommandLine
import ArgumentParser
import Crypto
import CryptoExtras
import Foundation
import Logging
import MeridianBench
import MeridianCluster
import MeridianIdentity
import MeridianMembership
import MeridianStorage
import MeridianTopology
import MeridianTransport
import MeridianWire

extension BenchCommand {
    /// `meridian-bench identity`: token verification, refresh latency per region, password logins/s.
    struct Identity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "identity",
            abstract: "Access-token verification (ns/op, vs the raw RSA-PSS verification inside; raw Ed25519 and P-256 beside), refresh p50/p99 from each region, password logins/s at the authority, transfer p50/p99 between every region pair.",
            discussion: """
                Goals on a 2-core box (not test assertions): verification ≤ 50 µs; refresh p99 ≤ the RTT to the \
                authority + 10 ms; transfer p99 ≤ 4 × the pair's RTT + 50 ms (a player with --ledger-events \
                events). The nodes of the topology run in this process with its latency emulated; every node \
                keeps its region's data (and the authority its accounts) in SQLite in a temporary directory. \
                Run a release build: swift build -c release --product meridian-bench && .build/release/meridian-bench identity
                """
        )

        @Flag(help: "Print one JSON object.") var json = false
        @Option(help: "Topology whose regions, nodes and latency the cluster runs use.") var topology: String = "Topology/local.yaml"
        @Option(help: "Token verifications timed.") var verifications: Int = 20_000
        @Option(help: "Refreshes timed from each region.") var refreshes: Int = 200
        @Option(help: "Seconds of password logins.") var loginSeconds: Double = 5
        @Option(help: "Concurrent password logins.") var loginConcurrency: Int = 4
        @Option(help: "Transfers timed per ordered region pair.") var transfers: Int = 20
        @Option(help: "Ledger events of each transferred player.") var ledgerEvents: Int = 1000
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            let (parsed, _) = try Topology.loadOrExplain(topology)
            let json = self.json
            let progress: (String) -> Void = { step in
                if !json { FileHandle.standardError.write(Data("running \(step)…\n".utf8)) }
            }
            progress("token verification")
            let verification = try TokenVerificationBenchmark(iterations: max(1000, verifications)).run()
            var cluster = IdentityClusterBenchmark(topology: parsed, logger: logger)
            cluster.refreshes = max(10, refreshes)
            cluster.loginDuration = .milliseconds(Int64(loginSeconds * 1000))
            cluster.loginConcurrency = max(1, loginConcurrency)
            cluster.transfers = max(1, transfers)
            cluster.ledgerEvents = max(1, ledgerEvents)
            let clusterResult = try await cluster.run(progress: progress)
            let report = IdentityBenchReport(
                verification: verification, refresh: clusterResult.refresh, passwordLogins: clusterResult.logins, transfers: clusterResult.transfers
            )
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.rendered, terminator: "")
            }
        }
    }
}

/// Verifying one access token, single-threaded, next to the raw signature verification it
/// contains (the peer: RSASSA-PSS with a 2048-bit key), and the raw Ed25519 and ES256 (P-256)
/// verifications an access token could have used instead.
struct TokenVerificationBenchmark {
    struct Result: Codable, Sendable {
        var iterations: Int
        var algorithm: String
        var tokenBytes: Int
        var verifyNsPerOp: Double
        var rawRSANsPerOp: Double
        var rawEd25519NsPerOp: Double
        var rawP256NsPerOp: Double
        /// Ours over the raw signature it contains.
        var ratio: Double
        var goalNs: Double

        enum CodingKeys: String, CodingKey {
            case iterations, ratio, algorithm
            case tokenBytes = "token_bytes"
            case verifyNsPerOp = "verify_ns_per_op"
            case rawRSANsPerOp = "raw_rsa_pss_ns_per_op"
            case rawEd25519NsPerOp = "raw_ed25519_ns_per_op"
            case rawP256NsPerOp = "raw_p256_ns_per_op"
            case goalNs = "goal_ns"
        }
    }

    let iterations: Int

    func run() throws -> Result {
        // The key the identity authority makes.
        let key = try TokenSigningKey.generate()
        let signer = AccessTokenSigner(keyID: "bench", key: key, cluster: "bench")
        let now = Date()
        let claims = AccessClaims(
            player: UUID(), homeRegion: "eu-west", epoch: 1, session: UUID(),
            issuedAt: UInt64(now.timeIntervalSince1970), expiresAt: UInt64(now.timeIntervalSince1970) + 900, keyID: "bench"
        )
        let token = try signer.sign(claims)
        let keys = signer.keySet
        _ = try keys.verify(token, now: now)  // warm-up
        let ours = try measure { (try? keys.verify(token, now: now)) != nil }

        let message = Array(repeating: UInt8(7), count: 120)
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let rsaSignature = try rsa.signature(for: message, padding: .PSS)
        let rsaPublic = rsa.publicKey
        let rawRSA = try measure { rsaPublic.isValidSignature(rsaSignature, for: message, padding: .PSS) }
        let ed25519 = Curve25519.Signing.PrivateKey()
        let ed25519Signature = try ed25519.signature(for: message)
        let ed25519Public = ed25519.publicKey
        let rawEd25519 = try measure { ed25519Public.isValidSignature(ed25519Signature, for: message) }
        let p256 = P256.Signing.PrivateKey()
        let p256Signature = try p256.signature(for: message)
        let p256Public = p256.publicKey
        let rawP256 = try measure { p256Public.isValidSignature(p256Signature, for: message) }
        return Result(
            iterations: iterations, algorithm: "RSA-2048 PSS SHA-256", tokenBytes: token.utf8.count, verifyNsPerOp: ours,
            rawRSANsPerOp: rawRSA, rawEd25519NsPerOp: rawEd25519, rawP256NsPerOp: rawP256,
            ratio: ours / max(1, rawRSA), goalNs: 50_000
        )
    }

    /// Mean nanoseconds per call of `verify`, which must succeed every time.
    private func measure(_ verify: () -> Bool) throws -> Double {
        let clock = ContinuousClock()
        var valid = 0
        let start = clock.now
        for _ in 0..<iterations where verify() { valid += 1 }
        let elapsed = start.duration(to: clock.now)
        guard valid == iterations else { throw ValidationError("a valid signature failed verification") }
        return elapsed.benchMicroseconds * 1e3 / Double(iterations)
    }
}

/// The topology's nodes as in-process ClusterSystems (latency emulated), each with its identity
/// layer; the authority's node keeps accounts in a temporary SQLite store.
struct IdentityClusterBenchmark {
    struct RegionRefresh: Codable, Sendable {
        var region: String
        var rttToAuthorityMs: Double
        var p50Ms: Double
        var p99Ms: Double
        var goalMs: Double

        enum CodingKeys: String, CodingKey {
            case region
            case rttToAuthorityMs = "rtt_to_authority_ms"
            case p50Ms = "p50_ms"
            case p99Ms = "p99_ms"
            case goalMs = "goal_ms"
        }
    }

    struct Logins: Codable, Sendable {
        var node: String
        var concurrency: Int
        var logins: Int
        var perSecond: Double
        var p50Ms: Double
        var p99Ms: Double
        var scrypt: String

        enum CodingKeys: String, CodingKey {
            case node, concurrency, logins, scrypt
            case perSecond = "per_second"
            case p50Ms = "p50_ms"
            case p99Ms = "p99_ms"
        }
    }

    struct PairTransfers: Codable, Sendable {
        var from: String
        var to: String
        var transfers: Int
        var ledgerEvents: Int
        var rttMs: Double
        var p50Ms: Double
        var p99Ms: Double
        var goalMs: Double

        enum CodingKeys: String, CodingKey {
            case from, to, transfers
            case ledgerEvents = "ledger_events"
            case rttMs = "rtt_ms"
            case p50Ms = "p50_ms"
            case p99Ms = "p99_ms"
            case goalMs = "goal_ms"
        }
    }

    struct Result: Sendable {
        var refresh: [RegionRefresh]
        var logins: Logins
        var transfers: [PairTransfers]
    }

    let topology: Topology
    let logger: Logger
    var refreshes = 200
    var loginDuration: Duration = .seconds(5)
    var loginConcurrency = 4
    var transfers = 20
    var ledgerEvents = 1000

    func run(progress: (String) -> Void) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-bench-identity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var running: [(system: ClusterSystem, identity: IdentityNode, store: (any RegionStore)?)] = []
        func stop() async {
            for node in running {
                await node.identity.stop()
                await node.system.shutdown()
                await node.store?.close()
            }
        }
        do {
            let result = try await measure(directory: directory, running: &running, progress: progress)
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }

    private func measure(
        directory: URL, running: inout [(system: ClusterSystem, identity: IdentityNode, store: (any RegionStore)?)], progress: (String) -> Void
    ) async throws -> Result {
        progress("identity: starting \(topology.nodes.count) nodes of \(topology.regions.count) regions in this process")
        let secret = ClusterSecret.random()
        let authorityNode = IdentityPlacement.authorityNode(in: topology)
        for node in topology.nodes {
            var configuration = ClusterSystem.Configuration(cluster: "bench-\(topology.cluster)", node: node.id, region: node.region, secret: secret)
            configuration.seeds = running.map(\.system.address)
            let latency = topology.latency
            configuration.oneWayLatency = { latency.oneWay(from: $0, to: $1) }
            configuration.emulateLatency = true
            let system = try await ClusterSystem.start(configuration, logger: logger)
            // Every node keeps its share of its region's data (a transfer's steps run there).
            let store: any RegionStore = try await SQLiteRegionStore.open(
                directory: directory.appendingPathComponent(node.region).path, node: node.id, logger: logger
            )
            var identity = IdentityConfiguration.node(of: topology)
            identity.devLogin = true
            let node = try await IdentityNode.start(system: system, topology: topology, store: store, configuration: identity, logger: logger)
            running.append((system, node, store))
        }
        let everyNode = Set(topology.nodes.map(\.id))
        for node in running {
            try await node.system.membership.waitUntil(timeout: .seconds(60)) { members in
                everyNode.isSubset(of: Set(members.filter { $0.status == .up }.map(\.id.node)))
            }
        }
        // Refresh from one node of each region.
        var refresh: [RegionRefresh] = []
        for region in topology.regions.map(\.name) {
            guard let node = running.first(where: { $0.system.region == region }) else { continue }
            progress("identity: \(refreshes) refreshes from \(region)")
            var request = Meridian_Identity_V1_AdminCreateAccount()
            request.dev.player = UUID().uuidString.lowercased()
            request.homeRegion = region
            var token = try await node.identity.createAccount(request).refreshToken
            token = try await node.identity.refresh(token, source: "bench").refreshToken  // warm-up: connections, call targets
            var recorder = LatencyRecorder()
            let clock = ContinuousClock()
            for _ in 0..<refreshes {
                let start = clock.now
                token = try await node.identity.refresh(token, source: "bench").refreshToken
                recorder.record(start.duration(to: clock.now))
            }
            let rtt = topology.latency.oneWay(from: region, to: topology.identityAuthority) * 2
            refresh.append(RegionRefresh(
                region: region, rttToAuthorityMs: rtt.benchMicroseconds / 1e3, p50Ms: recorder.p50.benchMicroseconds / 1e3,
                p99Ms: recorder.p99.benchMicroseconds / 1e3, goalMs: rtt.benchMicroseconds / 1e3 + 10
            ))
        }
        // Password logins at the authority, from its own node (no network in the way: the hash is the cost).
        guard let authority = running.first(where: { $0.system.nodeID == authorityNode }) else {
            throw ValidationError("the topology's identity_authority region has no nodes")
        }
        progress("identity: password logins for \(loginDuration) at concurrency \(loginConcurrency)")
        let usernames = (0..<loginConcurrency).map { "bench-user-\($0)" }
        for username in usernames {
            var request = Meridian_Identity_V1_AdminCreateAccount()
            request.password.username = username
            request.password.password = "bench password \(username)"
            request.homeRegion = topology.identityAuthority
            _ = try await authority.identity.createAccount(request)
        }
        let clock = ContinuousClock()
        let deadline = clock.now + loginDuration
        let started = clock.now
        let recorders = try await withThrowingTaskGroup(of: LatencyRecorder.self) { group in
            for username in usernames {
                group.addTask {
                    var recorder = LatencyRecorder()
                    var request = Meridian_Identity_V1_LoginRequest()
                    request.password.username = username
                    request.password.password = "bench password \(username)"
                    request.gatewayRegion = topology.identityAuthority
                    request.source = "bench-\(username)"
                    while clock.now < deadline {
                        let start = clock.now
                        _ = try await authority.identity.login(request)
                        recorder.record(start.duration(to: clock.now))
                    }
                    return recorder
                }
            }
            var all: [LatencyRecorder] = []
            for try await recorder in group { all.append(recorder) }
            return all
        }
        let elapsed = started.duration(to: clock.now)
        var merged = LatencyRecorder()
        for recorder in recorders { merged.merge(recorder) }
        let parameters = PasswordHasher.Parameters()
        let logins = Logins(
            node: authority.system.nodeID, concurrency: loginConcurrency, logins: merged.count,
            perSecond: Double(merged.count) / elapsed.benchSeconds,
            p50Ms: merged.p50.benchMicroseconds / 1e3, p99Ms: merged.p99.benchMicroseconds / 1e3,
            scrypt: "N=2^\(parameters.logRounds) r=\(parameters.blockSize) p=\(parameters.parallelism)"
        )
        let transfers = try await measureTransfers(running: running, authority: authority.identity, progress: progress)
        return Result(refresh: refresh, logins: logins, transfers: transfers)
    }

    /// Moves players with `ledgerEvents` events between every ordered pair of regions, one at a
    /// time, asked at the authority's node (the coordinator's own calls are what is timed).
    private func measureTransfers(
        running: [(system: ClusterSystem, identity: IdentityNode, store: (any RegionStore)?)], authority: IdentityNode, progress: (String) -> Void
    ) async throws -> [PairTransfers] {
        let regions = topology.regions.map(\.name)
        var results: [PairTransfers] = []
        for from in regions {
            for to in regions where to != from {
                progress("identity: \(transfers) transfers \(from) → \(to) of players with \(ledgerEvents) ledger events")
                var players: [UUID] = []
                for _ in 0..<transfers + 1 {
                    players.append(try await makePlayer(homedIn: from, running: running, authority: authority))
                }
                var recorder = LatencyRecorder()
                let clock = ContinuousClock()
                for (index, player) in players.enumerated() {
                    let start = clock.now
                    let record = try await authority.transfer(player: player, to: to)
                    let elapsed = start.duration(to: clock.now)
                    guard record.step == .done else {
                        throw ValidationError("a transfer \(from) → \(to) ended \(record.step.rawValue): \(record.failure ?? "")")
                    }
                    if index > 0 { recorder.record(elapsed) }  // the first one warms connections and call targets
                }
                let rtt = topology.latency.oneWay(from: from, to: to) * 2
                results.append(PairTransfers(
                    from: from, to: to, transfers: recorder.count, ledgerEvents: ledgerEvents, rttMs: rtt.benchMicroseconds / 1e3,
                    p50Ms: recorder.p50.benchMicroseconds / 1e3, p99Ms: recorder.p99.benchMicroseconds / 1e3,
                    goalMs: 4 * rtt.benchMicroseconds / 1e3 + 50
                ))
            }
        }
        return results
    }

    /// An account homed in `region` whose player data (on its owner node) has `ledgerEvents` grants.
    private func makePlayer(
        homedIn region: String, running: [(system: ClusterSystem, identity: IdentityNode, store: (any RegionStore)?)], authority: IdentityNode
    ) async throws -> UUID {
        let player = UUID()
        var request = Meridian_Identity_V1_AdminCreateAccount()
        request.dev.player = player.uuidString.lowercased()
        request.homeRegion = region
        _ = try await authority.createAccount(request)
        guard let owner = PlayerPlacement.owner(of: player, region: region, topology: topology),
              let store = running.first(where: { $0.system.nodeID == owner })?.store
        else { throw ValidationError("region \(region) has no node with a store") }
        _ = try await store.createPlayer(NewPlayer(id: player, displayName: "bench", homeRegion: region))
        let commands = (0..<ledgerEvents).map { index in
            MeridianStorage.LedgerCommand.append(LedgerAppend(
                player: player, epoch: .initial, idempotencyKey: "bench-\(index)", operation: .grant(["gold": 1]), reason: "bench"
            ))
        }
        for result in try await store.applyLedger(commands) { _ = try result.get() }
        return player
    }
}

struct IdentityBenchReport: Codable {
    var verification: TokenVerificationBenchmark.Result
    var refresh: [IdentityClusterBenchmark.RegionRefresh]
    var passwordLogins: IdentityClusterBenchmark.Logins
    var transfers: [IdentityClusterBenchmark.PairTransfers]

    enum CodingKeys: String, CodingKey {
        case verification, refresh, transfers
        case passwordLogins = "password_logins"
    }

    var rendered: String {
        var text = "access-token verification (\(verification.iterations)×, \(verification.tokenBytes)-byte token):\n"
        text += String(format: "  meridian verify (%@) %.1f µs/op | raw RSA-PSS verify %.1f µs/op | ratio %.2f | raw Ed25519 %.1f µs/op | raw P-256 %.1f µs/op | goal ≤ 50 µs\n",
                       verification.algorithm as NSString, verification.verifyNsPerOp / 1000, verification.rawRSANsPerOp / 1000, verification.ratio,
                       verification.rawEd25519NsPerOp / 1000, verification.rawP256NsPerOp / 1000)
        text += "refresh (a round trip to the identity authority and its store):\n"
        for region in refresh {
            text += String(format: "  from %-10@ rtt %6.1f ms  p50 %6.1f ms  p99 %6.1f ms  goal ≤ %6.1f ms\n",
                           region.region as NSString, region.rttToAuthorityMs, region.p50Ms, region.p99Ms, region.goalMs)
        }
        text += String(format: "password logins at %@ (%@, %d at once): %.1f/s  p50 %.1f ms  p99 %.1f ms\n",
                       passwordLogins.node as NSString, passwordLogins.scrypt as NSString, passwordLogins.concurrency,
                       passwordLogins.perSecond, passwordLogins.p50Ms, passwordLogins.p99Ms)
        text += "transfers (players with \(transfers.first?.ledgerEvents ?? 0) ledger events, asked at the authority):\n"
        for pair in transfers {
            text += String(format: "  %-10@ → %-10@ rtt %6.1f ms  p50 %7.1f ms  p99 %7.1f ms  goal ≤ %7.1f ms  (%d transfers)\n",
                           pair.from as NSString, pair.to as NSString, pair.rttMs, pair.p50Ms, pair.p99Ms, pair.goalMs, pair.transfers)
        }
        return text
    }
}
