import Foundation
import MeridianAdmin
import MeridianTransport
import NIOCore

/// The credentials of a cluster run on this machine by `meridian local` or `meridian chaos`: a
/// fresh cluster secret and an operator's admin token, written (0600) into `directory` as
/// `local-cluster.secret`, `local-admin.tokens` (the nodes' tokens file: the token's hash) and
/// `local-admin.token`, where other terminals find them, and the environment that hands them to
/// the node processes.
struct LocalRunCredentials {
    let secret: ClusterSecret
    let adminToken: String
    let secretPath: String
    let tokensPath: String
    let tokenPath: String

    static func create(in directory: String, operatorName: String) throws -> LocalRunCredentials {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        let credentials = LocalRunCredentials(
            secret: .random(), adminToken: AdminTokens.generate(),
            secretPath: "\(directory)/local-cluster.secret", tokensPath: "\(directory)/local-admin.tokens", tokenPath: "\(directory)/local-admin.token"
        )
        let tokenLine = AdminTokens.Entry(name: operatorName, role: .operator, token: credentials.adminToken).line + "\n"
        for (path, text) in [(credentials.secretPath, credentials.secret.hexEncoded), (credentials.tokensPath, tokenLine), (credentials.tokenPath, credentials.adminToken)] {
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        }
        return credentials
    }

    /// The secret as the nodes hold it: they read it as text from `$MERIDIAN_CLUSTER_SECRET`.
    var clientSecret: ClusterSecret { ClusterSecret(text: secret.hexEncoded)! }

    /// This process's environment plus the secret, the tokens file and the operator's token file
    /// (the nodes' own admin commands act as this run's operator), and each node's share of the
    /// cores: NIO's default is an event loop per core in every process (and Swift's tasks run on
    /// those loops, see Entry), so six nodes on two cores would be twelve loops waking one
    /// another; a node gets at least one loop, unless NIO_SINGLETON_GROUP_LOOP_COUNT is set.
    func nodeEnvironment(nodeCount: Int) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["MERIDIAN_CLUSTER_SECRET"] = secret.hexEncoded
        environment["MERIDIAN_ADMIN_TOKENS_FILE"] = tokensPath
        environment["MERIDIAN_ADMIN_TOKEN_FILE"] = tokenPath
        if environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil {
            environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] = "\(max(1, System.coreCount / max(1, nodeCount)))"
        }
        return environment
    }
}
