import CoreMetrics
import Logging
import Metrics
import MeridianObservability
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Testing

@testable import MeridianObservability

@Suite("Metrics endpoint routing")
struct MetricsRouteTests {
    @Test("GET /metrics, with or without a query, is the exposition; HEAD is its head")
    func metricsPath() {
        #expect(MetricsRoute(method: .GET, uri: "/metrics") == .metrics(includeBody: true))
        #expect(MetricsRoute(method: .GET, uri: "/metrics?name[]=x") == .metrics(includeBody: true))
        #expect(MetricsRoute(method: .HEAD, uri: "/metrics") == .metrics(includeBody: false))
    }

    @Test("other methods on /metrics are 405, other paths 404")
    func otherRequests() {
        #expect(MetricsRoute(method: .POST, uri: "/metrics") == .methodNotAllowed)
        #expect(MetricsRoute(method: .DELETE, uri: "/metrics") == .methodNotAllowed)
        #expect(MetricsRoute(method: .GET, uri: "/") == .notFound)
        #expect(MetricsRoute(method: .GET, uri: "/metrics/") == .notFound)
        #expect(MetricsRoute(method: .GET, uri: "/metricsx") == .notFound)
        #expect(MetricsRoute(method: .POST, uri: "/other") == .notFound)
        #expect(MetricsRoute.notFound.status == .notFound)
        #expect(MetricsRoute.methodNotAllowed.status == .methodNotAllowed)
    }
}

@Suite("Metrics server over TCP on 127.0.0.1", .timeLimit(.minutes(1)))
struct MetricsServerTests {
    let logger = Logger(label: "meridian.test.metrics")

    /// A registry holding `meridian_test_total 1`, recorded through swift-metrics.
    func registryCounting() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        let counter = withMetricsFactory(MeridianMetrics.makeFactory(registry: registry, logger: logger)) {
            Counter(label: "meridian_test_total")
        }
        counter.increment()
        return registry
    }

    /// A server on a free port of 127.0.0.1 serving `registry`, stopped after `body`.
    func withServer(
        registry: PrometheusCollectorRegistry,
        configure: (inout MetricsServer.Configuration) -> Void = { _ in },
        _ body: (MetricsServer) async throws -> Void
    ) async throws {
        var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
        configure(&configuration)
        let server = try await MetricsServer.start(configuration, registry: registry, logger: logger)
        do {
            try await body(server)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
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
            let response = try await HTTPExchange.send(
                "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", port: server.port
            )
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
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
        let registry = registryCounting()
        try await withServer(registry: registry) { server in
            let request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
            let responses = try await HTTPExchange.send(request + request + "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: server.port, all: true)
            #expect(responses.map(\.statusLine) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"])
        }
    }

    @Test("an unknown path is 404, another method 405, HEAD has no body")
    func notFoundAndMethod() async throws {
        let registry = registryCounting()
        try await withServer(registry: registry) { server in
            let missing = try await HTTPExchange.send("GET /debug HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: server.port)
            #expect(missing.statusLine == "HTTP/1.1 404 Not Found")

            let post = try await HTTPExchange.send(
                "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi", port: server.port
            )
            #expect(post.statusLine == "HTTP/1.1 405 Method Not Allowed")
            #expect(post.headers["allow"] == "GET, HEAD")

            let head = try await HTTPExchange.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: server.port)
            #expect(head.statusLine == "HTTP/1.1 200 OK")
            #expect(head.body.isEmpty)
        }
    }

    @Test("garbage gets a 400 and a closed connection; the server keeps serving")
    func garbage() async throws {
        let registry = registryCounting()
        try await withServer(registry: registry) { server in
            // Returning at all means the server closed the connection (see HTTPExchange.sendRaw).
            let outcome = try await HTTPExchange.sendRaw(Array("\u{1}\u{2}NOT HTTP AT ALL\r\n\r\n".utf8) + [0xFF, 0x00, 0x0D, 0x0A], port: server.port)
            #expect(outcome.text.hasPrefix("HTTP/1.1 400 Bad Request"))
            let after = try await HTTPExchange.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: server.port)
            #expect(after.statusLine == "HTTP/1.1 200 OK")
        }
    }

    @Test("an oversized head or body closes the connection; the server keeps serving")
    func oversized() async throws {
        let registry = registryCounting()
        try await withServer(registry: registry, configure: { $0.maximumHeadBytes = 1024; $0.maximumBodyBytes = 64 }) { server in
            // Headers past the limit, never terminated: the server must not wait for the end.
            let head = Array("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 64 * 1024)
            // Returning at all means the server closed the connection (see HTTPExchange.sendRaw); the
            // 400 may be lost to the reset that closing with our bytes unread causes.
            let big = try await HTTPExchange.sendRaw(head, port: server.port)
            #expect(big.received.isEmpty || big.text.hasPrefix("HTTP/1.1 400"))

            let body = Array("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".utf8) + Array(repeating: UInt8(ascii: "b"), count: 4096)
            let large = try await HTTPExchange.sendRaw(body, port: server.port)
            #expect(large.received.isEmpty || large.text.hasPrefix("HTTP/1.1 413"))

            let after = try await HTTPExchange.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: server.port)
            #expect(after.statusLine == "HTTP/1.1 200 OK")
            #expect(after.body.contains("meridian_test_total 1"))
        }
    }

    @Test("connections over the limit are closed at once; the others are served")
    func connectionLimit() async throws {
        let registry = PrometheusCollectorRegistry()
        try await withServer(registry: registry, configure: { $0.maximumConnections = 1 }) { server in
            // Hold the only slot with an idle connection, then try a second one.
            let holder = try await HTTPExchange.connect(port: server.port)
            try await holder.executeThenClose { inbound, outbound in
                // One exchange on the holder proves it was admitted before the second connects.
                try await outbound.write(ByteBuffer(string: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"))
                var iterator = inbound.makeAsyncIterator()
                _ = try await iterator.next()
                // Returns only once the server closed it; closed unanswered.
                let refused = try await HTTPExchange.sendRaw(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8), port: server.port)
                #expect(refused.received.isEmpty)
            }
        }
    }

    @Test("shutdown closes idle keep-alive connections instead of waiting for them")
    func shutdownClosesIdleConnections() async throws {
        let registry = registryCounting()
        let server = try await MetricsServer.start(.init(host: "127.0.0.1", port: 0), registry: registry, logger: logger)
        let idle = try await HTTPExchange.connect(port: server.port)
        try await idle.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"))
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
