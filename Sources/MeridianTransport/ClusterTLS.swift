import NIOSSL
import SwiftASN1
import X509

/// Mutual TLS on the links between nodes.
///
/// Every node holds a certificate signed by the cluster's CA whose subject alternative names
/// include the URI ``nodeURI(_:)`` of its node id. A link is accepted only when both sides
/// present such a certificate, and the handshake then accepts the peer only as the node its
/// certificate names: a holder of the cluster secret alone can no longer claim another
/// node's id, and every frame after the handshake is encrypted and authenticated.
///
/// Node addresses are not checked against the certificate (nodes may move between hosts and
/// be reached by IP or DNS name); the node id is.
public struct ClusterTLS: Sendable {
    let server: NIOSSLContext
    let client: NIOSSLContext
    /// The node id this side's own certificate names (nil: it names none, and peers will refuse it).
    public let node: String?

    /// The URI subject alternative name that certifies `node`.
    public static func nodeURI(_ node: String) -> String { "urn:meridian:node:\(node)" }

    /// - Parameters:
    ///   - certificateChain: This node's certificate first, then any intermediates.
    ///   - privateKey: The key of this node's certificate.
    ///   - trustRoots: The cluster CA(s): the only issuers of peer certificates accepted.
    public init(certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, trustRoots: [NIOSSLCertificate]) throws {
        var server = TLSConfiguration.makeServerConfiguration(certificateChain: certificateChain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        var client = TLSConfiguration.makeClientConfiguration()
        client.certificateChain = certificateChain.map { .certificate($0) }
        client.privateKey = .privateKey(privateKey)
        server.trustRoots = .certificates(trustRoots)
        client.trustRoots = .certificates(trustRoots)
        // The peer's certificate must chain to the cluster CA (a server asks for one and
        // refuses a peer without it); which node it is, the handshake checks.
        server.certificateVerification = .noHostnameVerification
        client.certificateVerification = .noHostnameVerification
        server.minimumTLSVersion = .tlsv13
        client.minimumTLSVersion = .tlsv13
        self.server = try NIOSSLContext(configuration: server)
        self.client = try NIOSSLContext(configuration: client)
        self.node = certificateChain.first.flatMap(Self.certifiedNode)
    }

    /// Loads the node's certificate chain and key and the cluster CA from PEM files.
    /// - Throws: ``TransportError/Code/authenticationFailed`` naming the file that cannot be read.
    public static func load(certificateFile: String, privateKeyFile: String, caFile: String) throws -> ClusterTLS {
        let chain = try PEMFiles.certificates(certificateFile, what: "node certificate")
        let key = try PEMFiles.privateKey(privateKeyFile)
        let roots = try PEMFiles.certificates(caFile, what: "cluster CA")
        do {
            return try ClusterTLS(certificateChain: chain, privateKey: key, trustRoots: roots)
        } catch {
            throw TransportError(.authenticationFailed, "cannot use \(certificateFile) with \(privateKeyFile) for TLS: \(error)")
        }
    }

    /// The node id `certificate` certifies (its ``nodeURI(_:)`` subject alternative name), if any.
    package static func certifiedNode(_ certificate: NIOSSLCertificate) -> String? {
        guard let der = try? certificate.toDERBytes(),
              let parsed = try? Certificate(derEncoded: der),
              let names = try? parsed.extensions.subjectAlternativeNames
        else { return nil }
        let prefix = nodeURI("")
        for case .uniformResourceIdentifier(let uri) in names where uri.hasPrefix(prefix) && uri.count > prefix.count {
            return String(uri.dropFirst(prefix.count))
        }
        return nil
    }
}

/// Reading PEM files for TLS, with errors that name the file.
package enum PEMFiles {
    package static func certificates(_ path: String, what: String) throws -> [NIOSSLCertificate] {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(path)
            guard !certificates.isEmpty else { throw TransportError(.authenticationFailed, "no certificate in it") }
            return certificates
        } catch {
            throw TransportError(.authenticationFailed, "cannot read the \(what) from \(path) (a PEM file of certificates): \(error)")
        }
    }

    package static func privateKey(_ path: String) throws -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw TransportError(.authenticationFailed, "cannot read the private key from \(path) (a PEM file): \(error)")
        }
    }
}
