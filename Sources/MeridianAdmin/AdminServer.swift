import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import MeridianTopology
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// A node's admin HTTP (Hummingbird), on the node's `metrics:` address:
///
/// | path | who | what |
/// |---|---|---|
/// | `GET /healthz` | anyone | 200 while the process serves HTTP (liveness) |
/// | `GET /readyz` | anyone | 200 once the node joined with its catalog and topology loaded; 503 while starting or draining |
/// | `GET /metrics` | viewer | Prometheus exposition |
/// | `GET /api/v1/cluster`, `/matches`, `/queues`, `/players/{id}`, `/whoami` | viewer | JSON |
/// | `GET /api/v1/audit` | operator | the node's latest admin actions |
/// | `GET /` | anyone | the web console, or only a login form without a valid session |
/// | `POST /login`, `POST /logout` | anyone | start or end a console session (an HttpOnly cookie holding the token) |
///
/// It starts before the node's other parts (their metrics need the registry) and serves the
/// probes at once; the API answers 503 until ``attach(_:)`` gives it the node's queries.
public final class AdminServer: Sendable {
    public struct Configuration: Sendable {
        /// Host or address to listen on.
        public var host: String
        /// Port; 0 picks a free one (see ``AdminServer/port``).
        public var port: Int
        /// Who may read and act. Default none: only the probes answer.
        public var tokens: AdminTokens = .none
        /// Largest request head (request line and headers), in bytes. Default 16 KiB: a
        /// browser sends a few hundred, a scrape less.
        public var maximumHeadBytes = 16 * 1024
        /// Connections served at once; further ones wait in the listen backlog. Default 64.
        public var maximumConnections = 64
        /// A connection idle this long is closed. Default 60 s, above the usual scrape interval
        /// so a scraper's keep-alive connection survives between scrapes.
        public var idleTimeout: Duration = .seconds(60)

        public init(host: String, port: Int, tokens: AdminTokens = .none) {
            self.host = host
            self.port = port
            self.tokens = tokens
        }
    }

    /// The port it listens on (the bound one when ``Configuration/port`` was 0).
    public let port: Int
    /// `http://host:port`.
    public let url: String
    /// The node's audit log of admin actions.
    public let audit: AuditLog
    private let state: AdminState
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    private init(port: Int, url: String, audit: AuditLog, state: AdminState, group: ServiceGroup, running: Task<Void, any Error>) {
        self.port = port
        self.url = url
        self.audit = audit
        self.state = state
        self.group = group
        self.running = running
    }

    /// Binds and starts serving; returns once it accepts connections.
    /// - Throws: ``AdminServerError`` when the address cannot be bound.
    public static func start(
        _ configuration: Configuration, registry: PrometheusCollectorRegistry, audit: AuditLog, logger: Logger
    ) async throws -> AdminServer {
        let state = AdminState()
        let router = AdminRoutes(tokens: configuration.tokens, registry: registry, audit: audit, state: state).router()
        let (bound, boundContinuation) = AsyncStream<Int>.makeStream()
        var http1 = HTTP1Channel.Configuration(idleTimeout: TimeAmount(configuration.idleTimeout))
        http1.httpDecoder = .init(
            maxHeaderFieldSize: configuration.maximumHeadBytes, maxHeaderListSize: configuration.maximumHeadBytes, maxHeaderFieldCount: 100
        )
        let application = Application(
            router: router,
            server: .http1(configuration: http1),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil, reuseAddress: true,
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maximumConnections)
            ),
            onServerRunning: { channel in boundContinuation.yield(channel.localAddress?.port ?? configuration.port) },
            logger: logger
        )
        // In a group of its own so that shutdown is graceful: requests in flight are answered,
        // idle keep-alive connections closed (a cancelled server logs each as an error).
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        let running = Task {
            defer { boundContinuation.finish() }
            try await group.run()
        }
        var ports = bound.makeAsyncIterator()
        let requested = HostPort(host: configuration.host, port: configuration.port).description
        guard let port = await ports.next() else {
            let failure: (any Error)? = switch await running.result {
            case .failure(let error): error
            case .success: nil
            }
            throw AdminServerError(address: requested, underlying: failure)
        }
        let url = "http://\(HostPort(host: configuration.host, port: port))"
        logger.info("serving admin HTTP", metadata: ["meridian.admin.url": "\(url)"])
        return AdminServer(port: port, url: url, audit: audit, state: state, group: group, running: running)
    }

    /// Gives the API what it reports from; until then it answers 503 and `/readyz` says the node is starting.
    public func attach(_ queries: any AdminQueries) {
        state.attach(queries)
    }

    /// Marks the node as draining: `/readyz` answers 503 from now on, so load balancers and
    /// Kubernetes stop sending it clients.
    public func setDraining() {
        state.setDraining()
    }

    /// Stops listening, answers the requests in flight and closes every connection.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
        _ = await running.result
        await audit.close()
    }
}

/// The admin server could not bind its address.
public struct AdminServerError: Error, Sendable, CustomStringConvertible {
    public var address: String
    public var underlying: (any Error)?

    public var description: String {
        "cannot serve admin HTTP on \(address): \(underlying.map { "\($0)" } ?? "the server stopped before it listened"); is another process using the port? (the topology's metrics: address of this node)"
    }
}

/// What the routes read that the node fills in while it starts and stops.
final class AdminState: Sendable {
    private struct State {
        var queries: (any AdminQueries)?
        var draining = false
    }

    private let state = Mutex(State())

    var queries: (any AdminQueries)? { state.withLock { $0.queries } }

    func attach(_ queries: any AdminQueries) { state.withLock { $0.queries = queries } }

    func setDraining() { state.withLock { $0.draining = true } }

    /// nil when ready, else why not.
    func notReadyReason() -> String? {
        let (queries, draining) = state.withLock { ($0.queries, $0.draining) }
        if draining { return "draining: the node is leaving the cluster" }
        guard let queries else { return "starting: the node has not joined yet" }
        return queries.notReadyReason()
    }
}
