import Crypto
import CryptoExtras
import Foundation
import NIOPosix

/// Hashes and checks passwords with scrypt (RFC 7914, swift-crypto's CryptoExtras), off the
/// event loops and the cooperative pool: each hash takes tens of milliseconds and
/// `2^logRounds × 128 × blockSize` bytes of memory, on a thread of `threadPool`.
///
/// A stored hash names its parameters — `scrypt$<logRounds>$<blockSize>$<parallelism>$<salt>$<key>`
/// (base64) — so raising them later leaves existing passwords verifiable.
public struct PasswordHasher: Sendable {
    /// scrypt's cost parameters.
    public struct Parameters: Sendable, Hashable {
        /// log2 of N, the CPU/memory cost. Default 15 (N = 32768: 32 MiB and ≈ 60–100 ms per hash here).
        public var logRounds: Int
        /// r, the block size. Default 8.
        public var blockSize: Int
        /// p, the parallelism. Default 1.
        public var parallelism: Int

        public init(logRounds: Int = 15, blockSize: Int = 8, parallelism: Int = 1) {
            self.logRounds = logRounds
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// Cheap parameters for tests only (N = 1024).
        public static let testing = Parameters(logRounds: 10, blockSize: 8, parallelism: 1)
    }

    public let parameters: Parameters
    private let threadPool: NIOThreadPool

    /// Passwords shorter than this are refused at registration.
    public static let minimumPasswordBytes = 8
    /// Longer passwords are refused (bounds the work one login can ask for).
    public static let maximumPasswordBytes = 256
    static let saltBytes = 16
    static let keyBytes = 32

    public init(parameters: Parameters = .init(), threadPool: NIOThreadPool = .singleton) {
        self.parameters = parameters
        self.threadPool = threadPool
    }

    /// A new stored hash of `password` with a fresh random salt.
    public func hash(_ password: String) async throws -> String {
        var salt = [UInt8](repeating: 0, count: Self.saltBytes)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = generator.next() }
        let parameters = self.parameters
        let key = try await derive(password, salt: salt, parameters: parameters)
        return [
            "scrypt", String(parameters.logRounds), String(parameters.blockSize), String(parameters.parallelism),
            Data(salt).base64EncodedString(), Data(key).base64EncodedString(),
        ].joined(separator: "$")
    }

    /// Whether `password` matches `stored` (constant-time comparison of the derived keys). A
    /// malformed stored hash never matches.
    public func verify(_ password: String, against stored: String) async throws -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt",
              let logRounds = Int(parts[1]), (1...24).contains(logRounds),
              let blockSize = Int(parts[2]), (1...64).contains(blockSize),
              let parallelism = Int(parts[3]), (1...16).contains(parallelism),
              let salt = Data(base64Encoded: String(parts[4])), let expected = Data(base64Encoded: String(parts[5])),
              expected.count == Self.keyBytes
        else { return false }
        let key = try await derive(password, salt: Array(salt), parameters: .init(logRounds: logRounds, blockSize: blockSize, parallelism: parallelism))
        return Self.constantTimeEqual(key, Array(expected))
    }

    /// Burns the time of one verification, so an unknown username costs what a wrong password costs.
    public func verifyNothing(_ password: String) async throws {
        _ = try await derive(password, salt: [UInt8](repeating: 0, count: Self.saltBytes), parameters: parameters)
    }

    private func derive(_ password: String, salt: [UInt8], parameters: Parameters) async throws -> [UInt8] {
        let bytes = Array(password.utf8.prefix(Self.maximumPasswordBytes))
        return try await threadPool.runIfActive {
            let key = try KDF.Scrypt.deriveKey(
                from: bytes, salt: salt, outputByteCount: Self.keyBytes,
                rounds: 1 << parameters.logRounds, blockSize: parameters.blockSize, parallelism: parameters.parallelism
            )
            return key.withUnsafeBytes { Array($0) }
        }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
