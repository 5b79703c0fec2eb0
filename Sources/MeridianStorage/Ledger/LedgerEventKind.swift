/// What a ledger event did. Each kind has a fixed direction per line, which the audit relies on.
public enum LedgerEventKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// Items created for the player (rewards, compensation): credits only.
    case grant
    /// Items used up (crafting, entry fees): debits only.
    case consume
    /// Items bought: credits the offer's items (created) and debits the price, if any (consumed).
    case purchase
    /// Items moved from the player into a trade's escrow: debits only; an outbox row carries them on.
    case tradeOut = "trade_out"
    /// Items received from another player's trade: credits only, idempotent by trade id.
    case tradeIn = "trade_in"
    /// Escrowed items returned to the giver of a trade that could not be delivered: credits only.
    case tradeRefund = "trade_refund"
    /// Items a match awarded the player: credits only, idempotent by match id. Written with the match's
    /// history row; a match without rewards still has its event, with no lines.
    case matchReward = "match_reward"
}
