import CoreMetrics
import Metrics

/// The gateway's metrics (swift-metrics; exported by whatever factory the process bootstrapped).
struct GatewayMetrics: Sendable {
    /// Open client connections.
    private let connections = Gauge(label: "meridian_gateway_connections")
    /// Successful logins (dev login or resume).
    private let logins = Counter(label: "meridian_gateway_logins_total")
    /// From a client's input arriving here to the first delta that reflects it leaving here.
    let inputToDelta = Timer(label: "meridian_gateway_input_to_delta_seconds")

    func openConnections(_ count: Int) { connections.record(count) }

    func loggedIn() { logins.increment() }

    /// A connection closed for bad input, by reason.
    func refused(_ reason: String) {
        Counter(label: "meridian_gateway_refused_connections_total", dimensions: [("reason", reason)]).increment()
    }
}
