import ArgumentParser
import Foundation
import MeridianCommandLine

/// The admin token an admin command acts with: an operator's, for the nodes to check and to
/// name in their audit logs.
struct AdminTokenOptions: ParsableArguments {
    @Option(help: "File holding an operator's admin token (`meridian admin token` makes one; `meridian local` writes data/local-admin.token). Default: $MERIDIAN_ADMIN_TOKEN_FILE, else the token in $MERIDIAN_ADMIN_TOKEN.")
    var adminTokenFile: String?

    /// The token; exit 1 (a `ValidationError`) when none is given or the file cannot be read.
    func load() throws -> String {
        if let path = flagOrEnvironment(adminTokenFile, "MERIDIAN_ADMIN_TOKEN_FILE") {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read the admin token file \(path)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ValidationError("the admin token file \(path) is empty") }
            return token
        }
        if let token = flagOrEnvironment(nil, "MERIDIAN_ADMIN_TOKEN") { return token }
        throw ValidationError("this command acts as an operator: give --admin-token-file FILE (or $MERIDIAN_ADMIN_TOKEN_FILE / $MERIDIAN_ADMIN_TOKEN)")
    }
}
