@testable import MeridianMatchmaking
import Testing

@Suite("Sweep internals")
struct PackingAndSkipTests {
    @Test("party packing fills exactly when whole parties can, preferring earlier candidates")
    func packing() {
        var packing = PartyPacking(anchorSize: 4, capacity: 10)
        packing.add(4)
        #expect(!packing.canFill)
        #expect(packing.largest(atLeast: 2) == 8)
        packing.add(3)
        packing.add(3)
        #expect(packing.canFill)
        // The anchor's 4 + 3 + 3; the first 4 cannot be part of any exact fill.
        #expect(PartyPacking.choose(sizes: [4, 3, 3], total: 6) == [1, 2])
        #expect(PartyPacking.choose(sizes: [1, 1, 1, 2], total: 2) == [0, 1])
        #expect(PartyPacking.choose(sizes: [4, 4], total: 6) == nil)
        #expect(PartyPacking.choose(sizes: [], total: 0) == [])
        #expect(PartyPacking(anchorSize: 3, capacity: 10).largest(atLeast: 4) == nil)
    }

    @Test("the skip list finds the nearest remaining position on either side")
    func skipList() {
        var list = SkipList(count: 6)
        #expect(list.next(from: 0) == 0)
        #expect(list.previous(from: 5) == 5)
        for position in [1, 2, 4] { list.remove(position) }
        #expect(list.next(from: 1) == 3)
        #expect(list.previous(from: 2) == 0)
        #expect(list.next(from: 4) == 5)
        #expect(list.previous(from: 4) == 3)
        list.remove(5)
        list.remove(0)
        #expect(list.next(from: 4) == nil)
        #expect(list.previous(from: 2) == nil)
        #expect(list.next(from: 6) == nil)
        #expect(list.previous(from: -1) == nil)
        #expect(list.contains(3))
        #expect(!list.contains(4))
        var empty = SkipList(count: 0)
        #expect(empty.next(from: 0) == nil)
        #expect(empty.previous(from: 0) == nil)
    }
}
