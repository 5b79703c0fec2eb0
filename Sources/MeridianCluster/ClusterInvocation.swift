import Distributed
import Foundation
import MeridianTransport
import MeridianWire

/// Records a call's arguments in the compact binary encoding (see ``WireCodable``).
public struct ClusterInvocationEncoder: DistributedTargetInvocationEncoder {
    public typealias SerializationRequirement = any WireCodable

    var writer = WireWriter()
    var genericSubstitutions: [String] = []

    public mutating func recordGenericSubstitution<T>(_ type: T.Type) throws {
        guard let name = _mangledTypeName(type) else {
            throw ClusterError(.serialization, "generic argument \(type) has no mangled name")
        }
        genericSubstitutions.append(name)
    }

    public mutating func recordArgument<Value: WireCodable>(_ argument: RemoteCallArgument<Value>) throws {
        try argument.value.encode(to: &writer)
    }

    public mutating func recordReturnType<R: WireCodable>(_ type: R.Type) throws {}
    public mutating func recordErrorType<E: Error>(_ type: E.Type) throws {}
    public mutating func doneRecording() throws {}
}

/// Reads a call's arguments back on the recipient's node.
public struct ClusterInvocationDecoder: DistributedTargetInvocationDecoder {
    public typealias SerializationRequirement = any WireCodable

    var reader: WireReader
    let genericSubstitutions: [String]

    init(arguments: [UInt8], genericSubstitutions: [String], system: ClusterSystem) {
        self.reader = WireReader(bytes: arguments, system: system)
        self.genericSubstitutions = genericSubstitutions
    }

    public mutating func decodeGenericSubstitutions() throws -> [any Any.Type] {
        try genericSubstitutions.map { name in
            guard let type = _typeByName(name) else {
                throw ClusterError(.serialization, "unknown generic argument type \(name)")
            }
            return type
        }
    }

    public mutating func decodeNextArgument<Argument: WireCodable>() throws -> Argument {
        try Argument(from: &reader)
    }

    public mutating func decodeErrorType() throws -> (any Any.Type)? { nil }
    public mutating func decodeReturnType() throws -> (any Any.Type)? { nil }
}

/// Sends the outcome of an inbound call back to the caller, on the connection it came in on.
public struct ClusterResultHandler: DistributedTargetInvocationResultHandler, Sendable {
    public typealias SerializationRequirement = any WireCodable

    let session: PeerSession
    let callID: UInt64
    let oneWay: Bool

    public func onReturn<Success: WireCodable>(value: Success) async throws {
        guard !oneWay else { return }
        var writer = WireWriter()
        do {
            try value.encode(to: &writer)
        } catch {
            session.sendError(callID: callID, code: .badArguments, type: "\(type(of: error))", message: "cannot encode result: \(error)")
            return
        }
        session.sendValue(callID: callID, bytes: writer.bytes)
    }

    public func onReturnVoid() async throws {
        guard !oneWay else { return }
        session.sendValue(callID: callID, bytes: [])
    }

    public func onThrow<Err: Error>(error: Err) async throws {
        guard !oneWay else { return }
        session.sendError(callID: callID, code: .thrown, type: String(reflecting: type(of: error as Any)), message: "\(error)")
    }
}

extension Meridian_Cluster_V1_Call {
    /// A call of the recorded `invocation` to the actor `id` (no call id, deadline or target
    /// yet). Its arguments travel beside it (``ClusterSystem/send(_:arguments:target:to:route:)``),
    /// so they are copied once, into the frame.
    init(to id: ClusterActorID, invocation: ClusterInvocationEncoder) {
        self.init()
        recipientPath = id.path
        recipientIncarnation = id.incarnation
        genericSubstitutions = invocation.genericSubstitutions
    }

    /// Envelope field of a call, and call field of its arguments (cluster.proto).
    static let envelopeField = 10
    static let argumentsField = InPlaceBytesField.plain(7)
}

extension Meridian_Cluster_V1_Reply {
    /// Envelope field of a reply, and reply field of its value (cluster.proto).
    static let envelopeField = 11
    static let valueField = InPlaceBytesField.oneofMember(2)  // in `oneof outcome`
}
