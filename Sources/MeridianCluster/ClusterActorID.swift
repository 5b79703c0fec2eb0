import Distributed

/// Names a distributed actor anywhere in the cluster: the node it lives on (id and
/// incarnation) and its path on that node, e.g. `/shard/eu-west/7` or `/player/<uuid>`.
///
/// The incarnation makes an ID die with its process: after a node restarts, calls to IDs of
/// the old incarnation fail with ``ClusterError/Code/nodeDown`` instead of reaching a
/// different actor that happens to have the same path.
public struct ClusterActorID: Hashable, Sendable, CustomStringConvertible {
    public var node: String
    public var incarnation: UInt64
    public var path: String

    public init(node: String, incarnation: UInt64, path: String) {
        self.node = node
        self.incarnation = incarnation
        self.path = path
    }

    public var description: String { "\(node)#\(incarnation)\(path)" }
}

extension ClusterActorID: WireCodable {
    public func encode(to writer: inout WireWriter) throws {
        try writer.write(node)
        writer.writeVarint(incarnation)
        try writer.write(path)
    }

    public init(from reader: inout WireReader) throws {
        self.init(node: try reader.read(), incarnation: try reader.readVarint(), path: try reader.read())
    }
}

/// A distributed actor reference is sent as its ID and resolved by the receiving system.
/// Declare `extension MyActor: WireCodable {}` to pass `MyActor` as an argument or result.
extension WireCodable where Self: DistributedActor, Self.ID == ClusterActorID, Self.ActorSystem == ClusterSystem {
    public func encode(to writer: inout WireWriter) throws {
        try id.encode(to: &writer)
    }

    public init(from reader: inout WireReader) throws {
        guard let system = reader.system else {
            throw WireDecodingError("actor references can only be decoded by a ClusterSystem")
        }
        self = try Self.resolve(id: try ClusterActorID(from: &reader), using: system)
    }
}
