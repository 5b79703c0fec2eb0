import MeridianTransport
import NIOSSL

/// The client gateway's TLS certificate: with one, the gateway speaks only TLS (a plaintext
/// client's first bytes fail the TLS handshake and its connection is closed).
public struct GatewayTLS: Sendable {
    let context: NIOSSLContext

    /// - Parameters:
    ///   - certificateChain: The gateway's certificate first, then any intermediates. Clients
    ///     check it against the name or IP address they dialed.
    ///   - privateKey: The certificate's key.
    public init(certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey) throws {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificateChain.map { .certificate($0) }, privateKey: .privateKey(privateKey)
        )
        configuration.minimumTLSVersion = .tlsv12
        context = try NIOSSLContext(configuration: configuration)
    }

    /// Loads the certificate chain and key from PEM files.
    public static func load(certificateFile: String, privateKeyFile: String) throws -> GatewayTLS {
        try GatewayTLS(
            certificateChain: PEMFiles.certificates(certificateFile, what: "gateway certificate"), privateKey: PEMFiles.privateKey(privateKeyFile)
        )
    }
}
