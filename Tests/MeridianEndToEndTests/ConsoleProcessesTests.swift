import Foundation
import MeridianTestHTTP
import Testing

/// The nodes' admin HTTP from the outside: real `meridian bootstrap` processes in three
/// regions, a token made by `meridian admin token`, the JSON API, and the web console in a
/// real headless browser (Debian's chromium, which scripts/test installs).
@Suite("End to end: admin HTTP and web console", .serialized)
struct ConsoleProcessesTests {
    /// Debian's chromium, or `$MERIDIAN_CHROMIUM`.
    static var chromium: String {
        ProcessInfo.processInfo.environment["MERIDIAN_CHROMIUM"] ?? "/usr/bin/chromium"
    }

    /// Loads `url` in a fresh headless browser profile, lets its scripts run for `budget` of
    /// virtual time, and returns the resulting DOM (or, with `screenshot`, writes a PNG too).
    static func browse(_ url: String, profile: URL, budget: Duration = .seconds(8), screenshot: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        var arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
            "--user-data-dir=\(profile.path)", "--virtual-time-budget=\(budget.components.seconds * 1000)", "--window-size=1400,1000",
        ]
        arguments.append(screenshot.map { "--screenshot=\($0)" } ?? "--dump-dom")
        process.arguments = arguments + [url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test(.timeLimit(.minutes(4)))
    func theConsoleListsEveryNodeOfAThreeRegionClusterAndWithoutATokenShowsOnlyALogin() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.chromium), "no browser at \(Self.chromium): scripts/test installs Debian's chromium")
        let nodes = ["a-1", "b-1", "c-1"]
        let cluster = try await ProcessCluster(
            "e2e-console", directoryPrefix: "meridian-e2e-console",
            regions: [.init("region-a", shards: 2, nodes: ["a-1"]), .init("region-b", shards: 2, nodes: ["b-1"]), .init("region-c", shards: 2, nodes: ["c-1"])],
            latency: ["region-a/region-b": 10, "region-a/region-c": 20, "region-b/region-c": 30], catalogPrimary: "region-a", seeds: ["a-1"],
            adminHTTP: true
        )
        let directory = cluster.directory

        // The operator's way: a token from the CLI, its line in the file every node reads.
        let made = try Meridian.run(["admin", "token", "--name", "e2e-viewer", "--role", "viewer", "--json"])
        #expect(made.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(made.output.utf8)) as? [String: String])
        let token = try #require(document["token"])
        let line = try #require(document["line"])
        #expect(!line.contains(token))
        let tokensFile = try cluster.write("admin-tokens", line + "\n")

        let processes = try nodes.map { try cluster.start($0, environment: ["MERIDIAN_ADMIN_TOKENS_FILE": tokensFile]) }
        defer { for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        _ = try await cluster.waitForStatus(timeout: .seconds(90)) { rows in
            Set(rows.filter { $0.state == "up" }.map(\.node)) == Set(nodes)
        }
        let address = try #require(cluster.adminAddresses["a-1"])
        let port = try #require(Int(address.split(separator: ":").last ?? ""))
        for node in nodes {
            let nodePort = Int(cluster.adminAddresses[node]?.split(separator: ":").last ?? "") ?? 0
            // From outside, readiness is what a load balancer sees: ask until it says ready.
            var ready = false
            let deadline = ContinuousClock.now + .seconds(60)
            while !ready, ContinuousClock.now < deadline {
                ready = (try? await HTTPExchange.get("/readyz", port: nodePort))?.statusLine == "HTTP/1.1 200 OK"
                if !ready { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(ready, "\(node) never became ready (logs in \(directory.path))")
        }

        // The JSON API, as a script would read it.
        let anonymous = try await HTTPExchange.get("/api/v1/cluster", port: port)
        #expect(anonymous.statusLine == "HTTP/1.1 401 Unauthorized")
        let overview = try await HTTPExchange.get("/api/v1/cluster", port: port, token: token)
        #expect(overview.statusLine == "HTTP/1.1 200 OK")
        for node in nodes { #expect(overview.body.contains(#""node":"\#(node)""#), "\(overview.body)") }

        // The console in a real browser: the sign-in link of `meridian local` opens it.
        let console = try Self.browse("http://\(address)/#token=\(token)", profile: directory.appendingPathComponent("browser-1"))
        for node in nodes {
            #expect(console.contains(#"data-node="\#(node)" data-state="up""#), "the console does not list \(node) up:\n\(console.prefix(4000))")
        }
        for region in ["region-a", "region-b", "region-c"] { #expect(console.contains(#"data-region="\#(region)""#)) }
        #expect(console.contains("e2e-viewer (viewer)"))

        let screenshot = directory.appendingPathComponent("console.png").path
        _ = try Self.browse("http://\(address)/#token=\(token)", profile: directory.appendingPathComponent("browser-2"), screenshot: screenshot)
        let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
        #expect(size > 10_000, "no screenshot at \(screenshot)")
        print("console screenshot: \(screenshot) (\(size) bytes)")

        // Without a token, or with a wrong one: a login form and nothing of the cluster.
        let login = try Self.browse("http://\(address)/", profile: directory.appendingPathComponent("browser-3"))
        #expect(login.contains(#"id="login""#))
        #expect(!login.contains("data-node"))
        #expect(!login.contains("region-a"))
        let refused = try Self.browse("http://\(address)/#token=mrd_not-a-token", profile: directory.appendingPathComponent("browser-4"))
        #expect(refused.contains("not valid"))
        #expect(!refused.contains("data-node"))

        for process in processes { process.terminate() }
        for process in processes { try await process.exited() }
        if ProcessInfo.processInfo.environment["MERIDIAN_KEEP_E2E"] == nil { try? FileManager.default.removeItem(at: directory) }
    }
}
