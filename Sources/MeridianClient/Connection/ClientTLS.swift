import MeridianTransport
import NIOCore
import NIOSSL

/// TLS to a gateway: which certificate authorities the client trusts, and the name the
/// gateway's certificate must carry.
public struct ClientTLS: Sendable, Hashable {
    let context: NIOSSLContext
    /// The name checked against the gateway's certificate (and sent as SNI). Default nil: the
    /// host dialed — a DNS name is checked as a name, an IP address against the certificate's
    /// IP addresses.
    public var serverName: String?

    /// - Parameter trustRoots: The authorities whose certificates are accepted; nil: the
    ///   system's trust store.
    public init(trustRoots: [NIOSSLCertificate]? = nil, serverName: String? = nil) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let trustRoots { configuration.trustRoots = .certificates(trustRoots) }
        context = try NIOSSLContext(configuration: configuration)
        self.serverName = serverName
    }

    /// Trusts the authorities of a PEM file (e.g. a private CA of a test or staging cluster).
    public static func load(caFile: String, serverName: String? = nil) throws -> ClientTLS {
        try ClientTLS(trustRoots: PEMFiles.certificates(caFile, what: "gateway CA"), serverName: serverName)
    }

    /// The TLS handler for a connection to `host`.
    func handler(host: String) throws -> NIOSSLClientHandler {
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: serverName ?? (isAddress ? nil : host))
    }

    // Two settings are the same when they share one TLS context (contexts are not comparable).
    public static func == (lhs: ClientTLS, rhs: ClientTLS) -> Bool {
        lhs.context === rhs.context && lhs.serverName == rhs.serverName
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(context))
        hasher.combine(serverName)
    }
}
