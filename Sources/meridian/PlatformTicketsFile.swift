import ArgumentParser
import Foundation
import MeridianIdentity
import Yams

/// The platforms whose tickets a node's identity authority accepts (`bootstrap --platform-tickets FILE`):
///
/// ```yaml
/// - platform: oidc                      # the name clients send in PlatformLogin.platform
///   issuer: https://id.example.com      # the tickets' `iss`
///   audience: my-game                   # the tickets' `aud` must name it
///   jwks_file: oidc-keys.json           # the platform's key set (JWKS), relative to this file
/// ```
///
/// Kept out of the topology: every member can fetch the topology, and a platform's
/// configuration is the operator's business.
struct PlatformTicketsFile {
    struct Entry: Decodable {
        var platform: String
        var issuer: String
        var audience: String
        var jwksFile: String

        enum CodingKeys: String, CodingKey {
            case platform, issuer, audience
            case jwksFile = "jwks_file"
        }
    }

    /// The verifiers `path` configures.
    /// - Throws: `ValidationError` naming the file and what is wrong with it.
    static func load(_ path: String) async throws -> [any PlatformTicketVerifier] {
        let url = URL(fileURLWithPath: path)
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ValidationError("\(path): cannot read the platforms file: \(error.localizedDescription)")
        }
        let entries: [Entry]
        do {
            entries = try YAMLDecoder().decode([Entry].self, from: text)
        } catch {
            throw ValidationError("\(path): not a list of platforms (platform, issuer, audience, jwks_file): \(error)")
        }
        guard Set(entries.map(\.platform)).count == entries.count else { throw ValidationError("\(path): a platform is named twice") }
        var verifiers: [any PlatformTicketVerifier] = []
        for entry in entries {
            let keysURL = URL(fileURLWithPath: entry.jwksFile, relativeTo: url.deletingLastPathComponent())
            let jwks: String
            do { jwks = try String(contentsOf: keysURL, encoding: .utf8) } catch {
                throw ValidationError("\(path): platform \(entry.platform): cannot read its key set \(keysURL.path): \(error.localizedDescription)")
            }
            do {
                verifiers.append(try await JWTPlatformTicketVerifier(platform: entry.platform, jwks: jwks, issuer: entry.issuer, audience: entry.audience))
            } catch {
                throw ValidationError("\(path): platform \(entry.platform): \(error.message)")
            }
        }
        return verifiers
    }
}
