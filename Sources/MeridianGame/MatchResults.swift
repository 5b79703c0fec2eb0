import Foundation
import MeridianMatchmaking
import MeridianRegion
import MeridianSimulation

/// Turns a finished simulation into each player's result: placement (alive players share
/// first place; eliminated players rank by how long they lasted), outcome, XP, rewards and the
/// Glicko-2 update of every rating from the placements. Pure.
enum MatchResults {
    struct Participant {
        var seat: MatchSeat
        /// Index in the simulation, nil for a player who left before it started.
        var simulationIndex: Int?
        var forfeited: Bool
    }

    static func compute(
        matchID: UUID, participants: [Participant], simulation: MatchSimulation?,
        eliminationOrder: [Int], rules: GameRules, finishedAt: Date
    ) -> [MatchResultMessage] {
        let count = participants.count
        var placement = Array(repeating: count - 1, count: count)
        if let simulation {
            let aliveRank = 0
            let eliminatedRank = Dictionary(
                eliminationOrder.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first }
            )
            let alive = simulation.players.filter(\.isAlive).count
            for (index, participant) in participants.enumerated() {
                guard !participant.forfeited, let sim = participant.simulationIndex else { continue }
                if simulation.players[sim].isAlive {
                    placement[index] = aliveRank
                } else if let order = eliminatedRank[sim] {
                    // The last eliminated ranks right after the survivors.
                    placement[index] = alive + (eliminationOrder.count - 1 - order)
                }
            }
        }
        let winners = placement.enumerated().filter { $0.element == 0 && !participants[$0.offset].forfeited }.count
        let skills = participants.map(\.seat.skill)
        let updated = simulation == nil || count < 2 ? skills : Glicko2.updateFreeForAll(skills, placements: placement)
        return participants.enumerated().map { index, participant in
            let outcome: String
            var xp: Int64 = 0
            var rewards: [String: Int64] = [:]
            if participant.forfeited || simulation == nil {
                outcome = "abandoned"
            } else if placement[index] == 0 {
                outcome = winners == 1 ? "win" : "draw"
                xp = winners == 1 ? rules.winXP : rules.playXP
                let amount = rules.playReward + (winners == 1 ? rules.winReward : 0)
                if amount > 0 { rewards[rules.rewardItem] = amount }
            } else {
                outcome = "loss"
                xp = rules.playXP
                if rules.playReward > 0 { rewards[rules.rewardItem] = rules.playReward }
            }
            let skill = updated[index]
            return MatchResultMessage(
                matchID: matchID, player: participant.seat.player, outcome: outcome, placement: placement[index],
                xp: xp, rewards: rewards,
                skillAfter: outcome == "abandoned" ? nil : skill,
                finishedAt: finishedAt
            )
        }
    }
}
