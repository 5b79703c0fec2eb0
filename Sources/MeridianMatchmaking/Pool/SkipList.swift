/// Positions 0..<count of a sorted array, some of them removed, with the nearest remaining
/// position on either side found in near-constant time (union–find with path halving).
///
/// The match sweep walks outward from an anchor through tickets already taken by earlier
/// matches of the same pass; without this the walk would revisit them again and again.
struct SkipList: Sendable {
    /// `right[i] == i` while i remains; `right[count]` is the end sentinel.
    private var right: [Int32]
    /// Shifted by one: `left[i + 1]` is for position i; `left[0]` is the start sentinel.
    private var left: [Int32]
    let count: Int

    init(count: Int) {
        self.count = count
        self.right = (0...count).map { Int32($0) }
        self.left = (0...count).map { Int32($0) }
    }

    func contains(_ position: Int) -> Bool {
        self.right[position] == Int32(position)
    }

    /// Takes `position` out: the searches skip it from now on.
    mutating func remove(_ position: Int) {
        guard self.contains(position) else { return }
        self.right[position] = Int32(position + 1)
        self.left[position + 1] = Int32(position)
    }

    /// The first remaining position ≥ `position`, or nil.
    mutating func next(from position: Int) -> Int? {
        guard position < self.count else { return nil }
        var i = max(position, 0)
        while self.right[i] != Int32(i) {
            let parent = Int(self.right[i])
            self.right[i] = self.right[parent]
            i = parent
        }
        return i < self.count ? i : nil
    }

    /// The last remaining position ≤ `position`, or nil.
    mutating func previous(from position: Int) -> Int? {
        guard position >= 0 else { return nil }
        var i = min(position, self.count - 1) + 1
        while self.left[i] != Int32(i) {
            let parent = Int(self.left[i])
            self.left[i] = self.left[parent]
            i = parent
        }
        return i > 0 ? i - 1 : nil
    }
}
