import ArgumentParser
import Foundation
import MeridianCommandLine
import MeridianGateway
import MeridianTransport

/// `meridian bootstrap`'s TLS files: the client gateway's certificate, and mutual TLS between
/// nodes. Paths only — a topology file, which every member can fetch, never holds keys.
struct NodeTLSOptions: ParsableArguments {
    @Option(help: "PEM certificate chain clients see; with --gateway-tls-key the gateway speaks only TLS. Default: $MERIDIAN_GATEWAY_TLS_CERT.")
    var gatewayTLSCert: String?

    @Option(help: "PEM private key of --gateway-tls-cert. Default: $MERIDIAN_GATEWAY_TLS_KEY.")
    var gatewayTLSKey: String?

    @Option(name: .customLong("cluster-tls-ca"), help: "PEM cluster CA; with --cluster-tls-cert and --cluster-tls-key, links between nodes run mutual TLS and a peer is accepted only as the node its certificate names (URI SAN urn:meridian:node:<id>). Default: $MERIDIAN_CLUSTER_TLS_CA.")
    var clusterTLSCA: String?

    @Option(help: "PEM certificate chain of this node, signed by the cluster CA. Default: $MERIDIAN_CLUSTER_TLS_CERT.")
    var clusterTLSCert: String?

    @Option(help: "PEM private key of --cluster-tls-cert. Default: $MERIDIAN_CLUSTER_TLS_KEY.")
    var clusterTLSKey: String?

    /// The gateway's files, from the flags or the environment.
    private var gatewayFiles: (certificate: String?, key: String?) {
        (flagOrEnvironment(gatewayTLSCert, "MERIDIAN_GATEWAY_TLS_CERT"), flagOrEnvironment(gatewayTLSKey, "MERIDIAN_GATEWAY_TLS_KEY"))
    }

    func validate() throws {
        let (certificate, key) = gatewayFiles
        if (certificate == nil) != (key == nil) {
            throw ValidationError("give both --gateway-tls-cert and --gateway-tls-key, or neither")
        }
    }

    /// The gateway's TLS, when its files are given; a file that cannot be read is the operator's to fix now (exit 1).
    func gateway() throws -> GatewayTLS? {
        guard case let (certificate?, key?) = gatewayFiles else { return nil }
        do {
            return try GatewayTLS.load(certificateFile: certificate, privateKeyFile: key)
        } catch {
            throw ValidationError("gateway TLS: \(error)")
        }
    }

    /// Mutual TLS between nodes, when its files are given.
    func cluster() throws -> ClusterTLS? {
        try ClusterTLSFiles.load(ca: clusterTLSCA, certificate: clusterTLSCert, key: clusterTLSKey)
    }
}
