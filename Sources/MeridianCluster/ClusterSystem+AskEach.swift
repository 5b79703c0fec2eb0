import Distributed

extension ClusterSystem {
    /// Calls the actor at `path` on each of `nodes` (whichever incarnation runs now) in
    /// parallel, each call within `timeout`, and returns the answers by node id. A node that
    /// fails, has no such actor, or outlasts the timeout is left out: for status views that
    /// show what answered, not for anything that must reach every node.
    public func askEach<Actor: DistributedActor, Answer: Sendable>(
        _ nodes: [String], at path: String, as _: Actor.Type, timeout: Duration,
        _ ask: @escaping @Sendable (Actor) async throws -> Answer
    ) async -> [String: Answer] where Actor.ActorSystem == ClusterSystem {
        await withTaskGroup(of: (String, Answer?).self) { group in
            for node in Set(nodes) {
                group.addTask {
                    guard let actor = try? Actor.resolve(id: ClusterActorID(node: node, incarnation: 0, path: path), using: self) else { return (node, nil) }
                    return (node, try? await ClusterSystem.withCallTimeout(timeout) { try await ask(actor) })
                }
            }
            var answers: [String: Answer] = [:]
            for await (node, answer) in group { if let answer { answers[node] = answer } }
            return answers
        }
    }
}
