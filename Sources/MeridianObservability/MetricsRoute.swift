import NIOHTTP1

/// What the metrics endpoint answers to a request: pure, so the rules are tested without a socket.
enum MetricsRoute: Equatable {
    /// `GET /metrics` (or `HEAD`, which gets the same head without the body).
    case metrics(includeBody: Bool)
    case notFound
    case methodNotAllowed

    /// The path the exposition is served at.
    static let path = "/metrics"

    init(method: HTTPMethod, uri: String) {
        // A query string (`/metrics?name[]=x`, sent by some scrapers) selects nothing here.
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard path == Self.path else {
            self = .notFound
            return
        }
        switch method {
        case .GET: self = .metrics(includeBody: true)
        case .HEAD: self = .metrics(includeBody: false)
        default: self = .methodNotAllowed
        }
    }

    var status: HTTPResponseStatus {
        switch self {
        case .metrics: .ok
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        }
    }
}
