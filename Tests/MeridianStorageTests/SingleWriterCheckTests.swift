import Foundation
import MeridianStorage
import Testing

/// ``SingleWriterCheck`` on hand-made copies of one player.
@Suite struct SingleWriterCheckTests {
    private let player = PlayerID()

    private func event(_ sequence: Int64, epoch: Int64, key: String, gold: Int64 = 1) -> LedgerEvent {
        LedgerEvent(
            player: player, sequence: sequence, kind: .grant, idempotencyKey: key, epoch: Epoch(epoch), tradeID: nil, reason: "test",
            recordedAt: Date(timeIntervalSince1970: Double(sequence)), deltas: ["gold": gold], balancesAfter: ["gold": gold * sequence]
        )
    }

    @Test func aHomeAndTheTombstonesOfEarlierStaysAreOneWriter() {
        let history = [event(1, epoch: 1, key: "a"), event(2, epoch: 1, key: "b"), event(3, epoch: 2, key: "c"), event(4, epoch: 3, key: "d")]
        let copies = [
            SingleWriterCheck.Copy(location: "eu-west/1", state: .tombstoned, epoch: 1, events: Array(history.prefix(2))),
            SingleWriterCheck.Copy(location: "us-east/1", state: .tombstoned, epoch: 2, events: Array(history.prefix(3))),
            SingleWriterCheck.Copy(location: "ap-south/1", state: .active, epoch: 3, events: history),
        ]
        #expect(SingleWriterCheck.check(player: player, copies: copies).isEmpty)
    }

    @Test func aWriteAcceptedByAnOldHomeAfterTheMoveIsTwoWriters() {
        let history = [event(1, epoch: 1, key: "a"), event(2, epoch: 2, key: "b")]
        let stale = [event(1, epoch: 1, key: "a"), event(2, epoch: 1, key: "late")]
        let problems = SingleWriterCheck.check(player: player, copies: [
            .init(location: "eu-west/1", state: .tombstoned, epoch: 1, events: stale),
            .init(location: "us-east/1", state: .active, epoch: 2, events: history),
        ])
        #expect(problems.count == 1)
        #expect(problems.first?.contains("eu-west/1 accepted grant late at sequence 2, epoch 1") == true)
        // A longer tombstone than the home is two writers as well.
        let longer = SingleWriterCheck.check(player: player, copies: [
            .init(location: "eu-west/1", state: .tombstoned, epoch: 1, events: history + [event(3, epoch: 2, key: "c")]),
            .init(location: "us-east/1", state: .active, epoch: 2, events: history),
        ])
        #expect(longer.count == 1)
    }

    @Test func activeInTwoStoresOrInNoneIsAFinding() {
        let history = [event(1, epoch: 1, key: "a")]
        let two = SingleWriterCheck.check(player: player, copies: [
            .init(location: "eu-west/1", state: .active, epoch: 1, events: history),
            .init(location: "eu-west/2", state: .active, epoch: 1, events: history),
        ])
        #expect(two.count == 1)
        let none = SingleWriterCheck.check(player: player, copies: [.init(location: "eu-west/1", state: .frozen, epoch: 1, events: history)])
        #expect(none.count == 1)
        // Epochs of the live copy never go back.
        let backwards = SingleWriterCheck.check(player: player, copies: [
            .init(location: "eu-west/1", state: .active, epoch: 2, events: [event(1, epoch: 2, key: "a"), event(2, epoch: 1, key: "b")]),
        ])
        #expect(backwards.count == 1)
    }
}
