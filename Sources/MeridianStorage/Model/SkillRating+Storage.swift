import MeridianMatchmaking

// The store keeps a player's ``SkillRating`` (the matchmaking layer's value type, Glicko-2's
// display scale): the match actor computes it after a match and hands it to
// ``LedgerCommand/matchResult(_:)``, which stores it with the history row, XP and rewards.
extension SkillRating {
    func validate() throws(StorageError) {
        guard isValid else {
            throw .invalid("a skill rating needs a finite rating and a finite, positive deviation and volatility, got \(rating), \(deviation), \(volatility)")
        }
    }
}
