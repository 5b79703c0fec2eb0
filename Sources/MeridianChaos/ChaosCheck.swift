/// One checker's verdict after a chaos run: what it checked and every counterexample.
public struct ChaosCheck: Sendable, Codable, Equatable {
    public var name: String
    /// What was checked, in a sentence with its numbers ("42 trades: 40 delivered, 2 refunded").
    public var checked: String
    public var counterexamples: [String]

    public init(name: String, checked: String, counterexamples: [String] = []) {
        self.name = name
        self.checked = checked
        self.counterexamples = counterexamples
    }

    public var passed: Bool { counterexamples.isEmpty }
}
