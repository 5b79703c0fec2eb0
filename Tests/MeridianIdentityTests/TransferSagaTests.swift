import Foundation
import Testing
@testable import MeridianIdentity
import MeridianStorage

@Suite("Transfer saga (pure)")
struct TransferSagaTests {
    static func saga(at step: TransferSaga.Step = .begun) -> TransferSaga {
        TransferSaga(.init(id: UUID(), player: UUID(), from: "eu-west", to: "us-east", fromEpoch: 3, step: step))
    }

    @Test func theHappyPathVisitsEveryStepInOrder() throws {
        var saga = Self.saga()
        var actions: [TransferSaga.Action] = [saga.resume()]
        var steps: [TransferSaga.Step] = [saga.state.step]
        while actions.last != .finished {
            actions.append(try saga.succeeded(actions.last!))
            steps.append(saga.state.step)
        }
        #expect(actions == [.freezeSource, .copyToDestination, .flipDirectory, .activateDestination, .tombstoneSource, .finished])
        #expect(steps == [.begun, .frozen, .copied, .flipped, .activated, .done])
        #expect(saga.state.toEpoch == 4)
    }

    /// After a coordinator restart, each persisted step resumes with its own action.
    @Test(arguments: TransferSaga.Step.allCases)
    func everyStepResumesWithItsAction(_ step: TransferSaga.Step) {
        let expected: [TransferSaga.Step: TransferSaga.Action] = [
            .begun: .freezeSource, .frozen: .copyToDestination, .copied: .flipDirectory, .flipped: .activateDestination,
            .activated: .tombstoneSource, .done: .finished, .rollingBack: .discardDestination, .rolledBack: .finished,
        ]
        #expect(Self.saga(at: step).resume() == expected[step])
    }

    @Test func aFailureBeforeTheFlipRollsBackAndAfterItRetries() throws {
        // Refused at the freeze: nothing changed, it ends at once.
        var refused = Self.saga()
        #expect(try refused.failed(.freezeSource, reason: "no such player") == .finished)
        #expect(refused.state.step == .rolledBack)
        #expect(refused.state.failure == "no such player")

        // Refused at the copy: discard the destination's copy, then unfreeze the source.
        var copy = Self.saga(at: .frozen)
        #expect(try copy.failed(.copyToDestination, reason: "destination refused") == .discardDestination)
        #expect(try copy.succeeded(.discardDestination) == .unfreezeSource)
        #expect(copy.state.step == .rollingBack)
        #expect(try copy.succeeded(.unfreezeSource) == .finished)
        #expect(copy.state.step == .rolledBack)

        // Refused at the flip (the directory moved meanwhile): roll back too.
        var flip = Self.saga(at: .copied)
        #expect(try flip.failed(.flipDirectory, reason: "stale epoch") == .discardDestination)

        // After the flip there is no way back: the same action again.
        for (step, action) in [(TransferSaga.Step.flipped, TransferSaga.Action.activateDestination), (.activated, .tombstoneSource)] {
            var committed = Self.saga(at: step)
            #expect(try committed.failed(action, reason: "unreachable") == action)
            #expect(committed.state.step == step)
        }
    }

    @Test func reportsThatDoNotMatchTheStepAreRefused() {
        var saga = Self.saga(at: .copied)
        #expect(throws: TransferSaga.Refusal.self) { try saga.succeeded(.freezeSource) }
        #expect(throws: TransferSaga.Refusal.self) { try saga.succeeded(.tombstoneSource) }
        #expect(throws: TransferSaga.Refusal.self) { try saga.failed(.activateDestination, reason: "x") }
        #expect(saga.state.step == .copied)
        var done = Self.saga(at: .done)
        #expect(throws: TransferSaga.Refusal.self) { try done.succeeded(.tombstoneSource) }
    }
}
