/// What the grants and consumes `meridian chaos` had acknowledged say each player must hold of
/// the item they use, and the idempotency violations seen on the way.
///
/// Every operation carries an idempotency key and is sent again with the same key until it is
/// acknowledged (a fault may eat the request or the reply), and once more on purpose after
/// that. So each key must be applied exactly once: every acknowledgement of a key names the
/// same ledger sequence, and all but the first applied one say `replayed`.
public struct ChaosLedgerModel: Sendable {
    private struct Applied: Sendable {
        var player: String
        var delta: Int64
        var sequence: Int64
    }

    private var applied: [String: Applied] = [:]
    public private(set) var violations: [String] = []

    public init() {}

    /// Records an acknowledgement of the operation `key` (a grant: `delta` > 0, a consume: < 0)
    /// on `player`, answered with ledger `sequence`.
    public mutating func acknowledged(key: String, player: String, delta: Int64, sequence: Int64, replayed: Bool) {
        guard let first = applied[key] else {
            // A first answer that says "replayed" is fine: an earlier attempt was applied and its
            // answer lost.
            applied[key] = Applied(player: player, delta: delta, sequence: sequence)
            return
        }
        if first.sequence != sequence {
            violations.append("key \(key) of \(player) acknowledged at ledger sequences \(first.sequence) and \(sequence): applied twice")
        } else if !replayed {
            violations.append("key \(key) of \(player) answered as a new write when sent again (sequence \(sequence)): the replay was not recognised")
        }
    }

    /// Keys acknowledged so far.
    public var acknowledgedCount: Int { applied.count }

    /// The balance `player` must hold: the sum of its acknowledged operations.
    public func expectedBalance(of player: String) -> Int64 {
        applied.values.filter { $0.player == player }.reduce(0) { $0 + $1.delta }
    }

    /// The players with an acknowledged operation.
    public var players: Set<String> { Set(applied.values.map(\.player)) }

    /// Compares `actual` balances with the expected ones; one line per difference.
    public func differences(actual: [String: Int64]) -> [String] {
        players.sorted().compactMap { player in
            let expected = expectedBalance(of: player)
            let found = actual[player] ?? 0
            return expected == found ? nil : "\(player) holds \(found), but its acknowledged grants and consumes add up to \(expected)"
        }
    }
}
