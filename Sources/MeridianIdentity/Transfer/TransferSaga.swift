import Foundation
import MeridianStorage

/// A cross-region transfer of one player's home, as a pure state machine: the coordinator
/// (``IdentityAuthority``) persists ``TransferSaga/State`` after every step and carries out the
/// ``Action`` each event returns; a coordinator that restarts loads the state and asks
/// ``resume()`` what to do next. No I/O, no clock.
///
/// Steps, in order — the flip of the directory is the commit point:
/// 1. `begun`: recorded; nothing changed anywhere.
/// 2. `frozen`: the source store refuses every write for the player (retryable).
/// 3. `copied`: the destination holds an `incoming` copy at epoch + 1 (profile, progression,
///    rating, history, the whole ledger with its sequence numbers and idempotency keys).
/// 4. `flipped`: the directory names the destination at epoch + 1. From here the transfer only
///    goes forward.
/// 5. `activated`: the destination's copy takes writes.
/// 6. `done`: the source copy is tombstoned.
/// Before the flip a failure rolls back: the destination's copy is discarded, the source is
/// unfrozen (`rolledBack`).
package struct TransferSaga: Sendable, Hashable {
    package typealias Step = TransferStep
    /// The saga's state is the record the authority persists.
    package typealias State = TransferRecord

    /// What the coordinator does next; it reports the outcome with ``succeeded(_:)`` or ``failed(_:reason:)``.
    package enum Action: Sendable, Hashable {
        case freezeSource
        case copyToDestination
        case flipDirectory
        case activateDestination
        case tombstoneSource
        case discardDestination
        case unfreezeSource
        /// Nothing to do: the transfer ended (``State/step`` says how).
        case finished
    }

    package enum Refusal: Error, Sendable, Hashable {
        /// The action reported does not belong to the current step (a stale or duplicated report).
        case unexpected(Action, at: Step)
    }

    package private(set) var state: State

    package init(_ state: State) {
        self.state = state
    }

    /// The action for the current step (also after a restart of the coordinator: every action is idempotent).
    package func resume() -> Action {
        switch state.step {
        case .begun: .freezeSource
        case .frozen: .copyToDestination
        case .copied: .flipDirectory
        case .flipped: .activateDestination
        case .activated: .tombstoneSource
        case .rollingBack: .discardDestination
        case .done, .rolledBack: .finished
        }
    }

    /// `action` completed: advance and return the next action.
    package mutating func succeeded(_ action: Action) throws(Refusal) -> Action {
        switch (state.step, action) {
        case (.begun, .freezeSource): state.step = .frozen
        case (.frozen, .copyToDestination): state.step = .copied
        case (.copied, .flipDirectory): state.step = .flipped
        case (.flipped, .activateDestination): state.step = .activated
        case (.activated, .tombstoneSource): state.step = .done
        case (.rollingBack, .discardDestination): return .unfreezeSource  // same step until the source is writable again
        case (.rollingBack, .unfreezeSource): state.step = .rolledBack
        default: throw .unexpected(action, at: state.step)
        }
        return resume()
    }

    /// `action` failed for good (not a transient error the coordinator retries). Before the flip
    /// the transfer rolls back; after it, the coordinator retries the same action until it works.
    package mutating func failed(_ action: Action, reason: String) throws(Refusal) -> Action {
        guard action == resume() || (state.step == .rollingBack && action == .unfreezeSource) else {
            throw .unexpected(action, at: state.step)
        }
        if state.step.isCommitted || state.step == .rollingBack { return action }
        if state.step == .begun {
            // Nothing was changed anywhere (the freeze did not happen): end at once.
            state.failure = reason
            state.step = .rolledBack
            return .finished
        }
        state.failure = reason
        state.step = .rollingBack
        return .discardDestination
    }

    /// `action` got no answer for too long, so whether it happened is unknown. Before the flip the
    /// transfer rolls back — also at the first step, since a freeze whose reply was lost may have
    /// happened (discarding and unfreezing are harmless when nothing was done); after the flip,
    /// and while rolling back, the coordinator keeps retrying the same action.
    package mutating func gaveUp(_ action: Action, reason: String) throws(Refusal) -> Action {
        guard action == resume() || (state.step == .rollingBack && action == .unfreezeSource) else {
            throw .unexpected(action, at: state.step)
        }
        if state.step.isCommitted || state.step == .rollingBack { return action }
        state.failure = reason
        state.step = .rollingBack
        return .discardDestination
    }

    /// Records when the state last changed (the coordinator stamps each step before it persists it).
    package mutating func stamp(_ date: Date) {
        state.updatedAt = date
    }
}
