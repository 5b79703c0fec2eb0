import CoreMetrics
import Foundation
import Logging
import MeridianAdmin
import MeridianObservability
import MeridianTestHTTP
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import Testing

// The time limit only catches a hang: it leaves room for `scripts/test --sanitize thread`,
// under which these HTTP exchanges ran past one minute.
@Suite("Admin HTTP over TCP on 127.0.0.1: probes, tokens, the console's login", .timeLimit(.minutes(5)))
struct AdminServerTests {
    let logger = Logger(label: "meridian.test.admin")
    static let viewerToken = "mrd_viewer-token-for-tests"
    static let operatorToken = "mrd_operator-token-for-tests"
    let tokens = AdminTokens(entries: [
        .init(name: "grafana", role: .viewer, token: AdminServerTests.viewerToken),
        .init(name: "alice", role: .operator, token: AdminServerTests.operatorToken),
    ])

    /// A registry holding `meridian_test_total 1`, recorded through swift-metrics.
    func registryCounting() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        let counter = withMetricsFactory(MeridianMetrics.makeFactory(registry: registry, logger: logger)) {
            Counter(label: "meridian_test_total")
        }
        counter.increment()
        return registry
    }

    /// A server on a free port of 127.0.0.1, stopped after `body`.
    func withServer(
        registry: PrometheusCollectorRegistry? = nil,
        audit: AuditLog? = nil,
        configure: (inout AdminServer.Configuration) -> Void = { _ in },
        _ body: (AdminServer) async throws -> Void
    ) async throws {
        var configuration = AdminServer.Configuration(host: "127.0.0.1", port: 0, tokens: tokens)
        configure(&configuration)
        let server = try await AdminServer.start(
            configuration, registry: registry ?? registryCounting(), audit: audit ?? AuditLog(path: nil, node: "test-1", logger: logger), logger: logger
        )
        do {
            try await body(server)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    static func get(_ path: String, token: String? = nil, cookie: String? = nil) -> String {
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        if let cookie { request += "Cookie: \(cookie)\r\n" }
        return request + "\r\n"
    }

    @Test("/healthz answers at once; /readyz says starting until the node attaches, and draining after")
    func probes() async throws {
        try await withServer { server in
            let health = try await HTTPExchange.send(Self.get("/healthz"), port: server.port)
            #expect(health.statusLine == "HTTP/1.1 200 OK")
            let starting = try await HTTPExchange.send(Self.get("/readyz"), port: server.port)
            #expect(starting.statusLine == "HTTP/1.1 503 Service Unavailable")
            #expect(starting.body.contains("starting"))
            let api = try await HTTPExchange.send(Self.get("/api/v1/cluster", token: Self.viewerToken), port: server.port)
            #expect(api.statusLine == "HTTP/1.1 503 Service Unavailable")
            server.setDraining()
            let draining = try await HTTPExchange.send(Self.get("/readyz"), port: server.port)
            #expect(draining.statusLine == "HTTP/1.1 503 Service Unavailable")
            #expect(draining.body.contains("draining"))
        }
    }

    @Test("nothing but the probes and the login form without a valid token; a viewer reads, only an operator reads the audit log")
    func tokensAndRoles() async throws {
        let audit = AuditLog(path: nil, node: "test-1", logger: logger)
        await audit.record(AdminPrincipal(name: "alice", role: .operator), action: "player.grant", target: "p1", result: "ok")
        try await withServer(audit: audit) { server in
            for path in ["/metrics", "/api/v1/cluster", "/api/v1/matches", "/api/v1/queues", "/api/v1/players/6f1c0e7e-2b1d-4c55-9a51-1f7d2c0a9b3e", "/api/v1/audit", "/api/v1/whoami"] {
                let anonymous = try await HTTPExchange.send(Self.get(path), port: server.port)
                #expect(anonymous.statusLine == "HTTP/1.1 401 Unauthorized", "\(path) without a token")
                #expect(anonymous.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
                let wrong = try await HTTPExchange.send(Self.get(path, token: "mrd_guess"), port: server.port)
                #expect(wrong.statusLine == "HTTP/1.1 401 Unauthorized", "\(path) with a wrong token")
                #expect(!wrong.body.contains("meridian_test_total"))
            }
            let metrics = try await HTTPExchange.send(Self.get("/metrics", token: Self.viewerToken), port: server.port)
            #expect(metrics.statusLine == "HTTP/1.1 200 OK")
            #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(metrics.body.contains("meridian_test_total 1"))

            let whoami = try await HTTPExchange.send(Self.get("/api/v1/whoami", token: Self.viewerToken), port: server.port)
            #expect(whoami.body == #"{"name":"grafana","role":"viewer"}"#)

            let viewerAudit = try await HTTPExchange.send(Self.get("/api/v1/audit", token: Self.viewerToken), port: server.port)
            #expect(viewerAudit.statusLine == "HTTP/1.1 403 Forbidden")
            let operatorAudit = try await HTTPExchange.send(Self.get("/api/v1/audit", token: Self.operatorToken), port: server.port)
            #expect(operatorAudit.statusLine == "HTTP/1.1 200 OK")
            let entries = try JSONDecoder().decode([AuditEntry].self, from: Data(operatorAudit.body.utf8))
            #expect(entries.map(\.action) == ["player.grant"])
            #expect(entries.first?.who == "alice")
        }
    }

    @Test("the console: a login form only; a valid token sets an HttpOnly session cookie that opens the console; a wrong one does not")
    func consoleLogin() async throws {
        try await withServer { server in
            let anonymous = try await HTTPExchange.send(Self.get("/"), port: server.port)
            #expect(anonymous.statusLine == "HTTP/1.1 200 OK")
            #expect(anonymous.body.contains("id=\"login\""))
            #expect(!anonymous.body.contains("id=\"overview\""))

            let form = "token=\(Self.operatorToken)"
            let login = try await HTTPExchange.send(
                "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\nConnection: close\r\n\r\n\(form)",
                port: server.port
            )
            #expect(login.statusLine == "HTTP/1.1 303 See Other")
            let cookie = try #require(login.headers["set-cookie"])
            #expect(cookie.hasPrefix("meridian_admin=\(Self.operatorToken)"))
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))

            let console = try await HTTPExchange.send(Self.get("/", cookie: "meridian_admin=\(Self.operatorToken)"), port: server.port)
            #expect(console.body.contains("id=\"overview\""))
            let api = try await HTTPExchange.send(Self.get("/api/v1/whoami", cookie: "meridian_admin=\(Self.operatorToken)"), port: server.port)
            #expect(api.body == #"{"name":"alice","role":"operator"}"#)

            let badForm = "token=mrd_guess"
            let refused = try await HTTPExchange.send(
                "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(badForm.utf8.count)\r\nConnection: close\r\n\r\n\(badForm)",
                port: server.port
            )
            #expect(refused.statusLine == "HTTP/1.1 401 Unauthorized")
            #expect(refused.headers["set-cookie"] == nil)
            #expect(refused.body.contains("not valid"))
        }
    }

    @Test("a scrape returns what was recorded through swift-metrics")
    func scrape() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = MeridianMetrics.makeFactory(registry: registry, logger: logger)
        let (ok, failed, inFlight, latency, size) = withMetricsFactory(factory) {
            (
                Counter(label: "meridian_test_appends_total", dimensions: [("outcome", "ok")]),
                Counter(label: "meridian_test_appends_total", dimensions: [("outcome", "error")]),
                Meter(label: "meridian_test_in_flight"),
                Metrics.Timer(label: "meridian_test_seconds"),
                Recorder(label: "meridian_test_batch_size")
            )
        }
        ok.increment(by: 3)
        failed.increment()
        inFlight.increment(by: 2.0)
        latency.record(duration: .milliseconds(3))
        size.record(17)

        try await withServer(registry: registry) { server in
            let response = try await HTTPExchange.send(Self.get("/metrics", token: Self.viewerToken), port: server.port)
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            let value1 = response.body.contains(#"meridian_test_appends_total{outcome="ok"} 3"#)
            #expect(value1)
            let value2 = response.body.contains(#"meridian_test_appends_total{outcome="error"} 1"#)
            #expect(value2)
            #expect(response.body.contains("# TYPE meridian_test_in_flight gauge"))
            #expect(response.body.contains("meridian_test_in_flight 2"))
            #expect(response.body.contains("# TYPE meridian_test_seconds histogram"))
            #expect(response.body.contains("meridian_test_seconds_count 1"))
            #expect(response.body.contains("meridian_test_batch_size_sum 17"))
            #expect(response.headers["content-length"] == "\(response.body.utf8.count)")
        }
    }

    @Test("a keep-alive connection is answered request after request")
    func keepAlive() async throws {
        try await withServer { server in
            let request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            let responses = try await HTTPExchange.send(request + request + "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: server.port, all: true)
            #expect(responses.map(\.statusLine) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"])
        }
    }

    @Test("garbage gets a 400 or a closed connection; the server keeps serving")
    func garbage() async throws {
        try await withServer { server in
            // Returning at all means the server closed the connection (see HTTPExchange.sendRaw).
            let outcome = try await HTTPExchange.sendRaw(Array("\u{1}\u{2}NOT HTTP AT ALL\r\n\r\n".utf8) + [0xFF, 0x00, 0x0D, 0x0A], port: server.port)
            #expect(outcome.received.isEmpty || outcome.text.hasPrefix("HTTP/1.1 400"))
            let after = try await HTTPExchange.send(Self.get("/healthz"), port: server.port)
            #expect(after.statusLine == "HTTP/1.1 200 OK")
        }
    }

    @Test("an oversized head or login body closes the connection; the server keeps serving")
    func oversized() async throws {
        try await withServer(configure: { $0.maximumHeadBytes = 1024 }) { server in
            // Headers past the limit, never terminated: the server must not wait for the end.
            let head = Array("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 64 * 1024)
            let big = try await HTTPExchange.sendRaw(head, port: server.port)
            #expect(big.received.isEmpty || big.text.hasPrefix("HTTP/1.1 4"))

            let body = Array("POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n".utf8) + Array(repeating: UInt8(ascii: "b"), count: 100_000)
            let large = try await HTTPExchange.sendRaw(body, port: server.port)
            #expect(large.received.isEmpty || large.text.hasPrefix("HTTP/1.1 413"))

            let after = try await HTTPExchange.send(Self.get("/healthz"), port: server.port)
            #expect(after.statusLine == "HTTP/1.1 200 OK")
        }
    }

    @Test("a taken port fails start with an error naming the address")
    func portTaken() async throws {
        try await withServer { server in
            var configuration = AdminServer.Configuration(host: "127.0.0.1", port: server.port, tokens: tokens)
            configuration.maximumConnections = 1
            await #expect(throws: AdminServerError.self) {
                _ = try await AdminServer.start(configuration, registry: registryCounting(), audit: AuditLog(path: nil, node: "test-2", logger: logger), logger: logger)
            }
        }
    }

    @Test("shutdown closes idle keep-alive connections instead of waiting for them")
    func shutdownClosesIdleConnections() async throws {
        let server = try await AdminServer.start(
            .init(host: "127.0.0.1", port: 0, tokens: tokens), registry: registryCounting(), audit: AuditLog(path: nil, node: "test-1", logger: logger), logger: logger
        )
        let idle = try await HTTPExchange.connect(port: server.port)
        try await idle.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
            var iterator = inbound.makeAsyncIterator()
            _ = try await iterator.next()  // answered: the connection is being served, and now idle
            await server.shutdown()
            // The server closed it: the stream ends (or fails with a reset) rather than waiting on.
            do {
                while try await iterator.next() != nil {}
            } catch {}
        }
    }

    @Test("bootstrap is once per process: later calls return the same registry, which records new metrics")
    func bootstrapOnce() async throws {
        let first = MeridianMetrics.bootstrap(logger: logger)
        let second = MeridianMetrics.bootstrap(logger: logger)
        #expect(first === second)
        #expect(MeridianMetrics.registry === first)
        Counter(label: "meridian_test_bootstrap_total").increment(by: 2)
        #expect(first.emitToString().contains("meridian_test_bootstrap_total 2"))
    }

    @Test("a name reused as another type or with(out) labels is dropped, not fatal")
    func conflictingShapes() {
        let registry = PrometheusCollectorRegistry()
        let factory = MeridianMetrics.makeFactory(registry: registry, logger: logger)
        withMetricsFactory(factory) {
            Counter(label: "meridian_test_clash").increment(by: 5)
            Metrics.Timer(label: "meridian_test_clash").recordSeconds(1)
            Counter(label: "meridian_test_clash", dimensions: [("outcome", "ok")]).increment()
            Gauge(label: "meridian_test_clash").record(9)
        }
        let text = registry.emitToString()
        #expect(text.contains("# TYPE meridian_test_clash counter"))
        #expect(text.contains("meridian_test_clash 5"))
        #expect(!text.contains("meridian_test_clash_bucket"))
        #expect(!text.contains(#"outcome="ok""#))
    }
}
