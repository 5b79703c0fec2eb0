import ArgumentParser
import Foundation
import Logging
import MeridianCatalog
import MeridianCluster
import MeridianTopology
import MeridianTransport

/// Options every long-running command shares.
package struct LoggingOptions: ParsableArguments {
    package init() {}

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    package var logLevel: String = ProcessInfo.processInfo.environment["MERIDIAN_LOG_LEVEL"] ?? "info"

    package func bootstrap() -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "meridian")
    }
}

/// Where the cluster secret comes from: `--secret-file`, else `MERIDIAN_CLUSTER_SECRET`.
package struct SecretOptions: ParsableArguments {
    package init() {}

    @Option(help: "File holding the cluster secret (at least 16 characters). Default: $MERIDIAN_CLUSTER_SECRET.")
    package var secretFile: String?

    package func load() throws -> ClusterSecret {
        if let secretFile {
            let text = try String(contentsOfFile: secretFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let secret = ClusterSecret(text: text) else {
                throw ValidationError("\(secretFile): the cluster secret must be at least 16 characters")
            }
            return secret
        }
        guard let text = ProcessInfo.processInfo.environment["MERIDIAN_CLUSTER_SECRET"] else {
            throw ValidationError("no cluster secret: set MERIDIAN_CLUSTER_SECRET (16+ characters, the same on every node) or pass --secret-file")
        }
        guard let secret = ClusterSecret(text: text) else {
            throw ValidationError("MERIDIAN_CLUSTER_SECRET must be at least 16 characters")
        }
        return secret
    }
}

/// A flag's value, else the environment variable's (an empty variable counts as unset).
package func flagOrEnvironment(_ flag: String?, _ variable: String) -> String? {
    flag ?? ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
}

/// The files of mutual TLS between nodes: given as flags (`meridian bootstrap`), else by
/// `$MERIDIAN_CLUSTER_TLS_CA`, `$MERIDIAN_CLUSTER_TLS_CERT` and `$MERIDIAN_CLUSTER_TLS_KEY`
/// (every command that talks to the nodes).
package enum ClusterTLSFiles {
    /// nil when no file is given; exit 1 (a `ValidationError`) when only some are, or one cannot be read.
    package static func load(ca: String? = nil, certificate: String? = nil, key: String? = nil) throws -> ClusterTLS? {
        let files = (
            ca: flagOrEnvironment(ca, "MERIDIAN_CLUSTER_TLS_CA"), certificate: flagOrEnvironment(certificate, "MERIDIAN_CLUSTER_TLS_CERT"),
            key: flagOrEnvironment(key, "MERIDIAN_CLUSTER_TLS_KEY")
        )
        guard let ca = files.ca, let certificate = files.certificate, let key = files.key else {
            if files.ca != nil || files.certificate != nil || files.key != nil {
                throw ValidationError("cluster TLS needs all three of the CA, the certificate and its key (--cluster-tls-ca/-cert/-key or $MERIDIAN_CLUSTER_TLS_CA/_CERT/_KEY), or none")
            }
            return nil
        }
        do {
            return try ClusterTLS.load(certificateFile: certificate, privateKeyFile: key, caFile: ca)
        } catch {
            throw ValidationError("cluster TLS: \(error)")
        }
    }
}

extension Topology {
    /// Loads a topology file, printing every problem with its line on failure.
    package static func loadOrExplain(_ path: String) throws -> (Topology, String) {
        do {
            let topology = try TopologyLoader.load(path: path)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return (topology, text)
        } catch let error as TopologyError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
    }

    /// True when every node listens on loopback: a local run, where inter-region latency is
    /// simulated on the wire.
    package var isLocal: Bool {
        nodes.allSatisfy { $0.cluster.host.hasPrefix("127.") || $0.cluster.host == "localhost" }
    }

    /// The configuration of `nodeID`'s actor system.
    package func clusterConfiguration(node nodeID: String, yaml: String, secret: ClusterSecret) throws -> ClusterSystem.Configuration {
        guard let node = node(id: nodeID) else {
            throw ValidationError("node '\(nodeID)' is not in the topology (nodes: \(nodes.map(\.id).joined(separator: ", ")))")
        }
        var configuration = ClusterSystem.Configuration(cluster: cluster, node: node.id, region: node.region, secret: secret)
        configuration.bindHost = node.cluster.host
        configuration.bindPort = node.cluster.port
        configuration.advertisedAddress = node.cluster.description
        configuration.seeds = seeds.compactMap { self.node(id: $0)?.cluster.description }
        configuration.knownAddresses = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.cluster.description) })
        configuration.topologyVersion = UInt64(version)
        configuration.topologyYAML = yaml
        let latency = self.latency
        configuration.oneWayLatency = { latency.oneWay(from: $0, to: $1) }
        configuration.emulateLatency = isLocal
        return configuration
    }
}

/// The path of this process's executable (to start more of itself: nodes, workers, peers).
package func currentExecutablePath() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

extension CatalogContent {
    /// Loads a catalog file, printing every problem with its line on failure (exit 1).
    package static func loadOrExplain(_ path: String) throws -> CatalogContent {
        do {
            return try CatalogLoader.load(path: path)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
    }
}
