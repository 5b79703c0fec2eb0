import Foundation
import SwiftProtobuf

/// Protobuf messages travel as their serialized bytes: declare `extension MyMessage: WireCodable {}`.
extension WireCodable where Self: SwiftProtobuf.Message {
    public func encode(to writer: inout WireWriter) throws {
        try writer.writeMessage(self)
    }

    public init(from reader: inout WireReader) throws {
        self = try reader.readMessage()
    }
}

// A domain type that must stay readable across versions travels as a protobuf message: see
// ``ProtobufRepresented``.
extension WireWriter {
    /// Writes `message` as its length-prefixed protobuf bytes.
    public mutating func writeMessage(_ message: some SwiftProtobuf.Message) throws {
        let bytes: [UInt8] = try message.serializedBytes()
        writeBytes(bytes)
    }
}

extension WireReader {
    /// Reads a message written by ``WireWriter/writeMessage(_:)``.
    public mutating func readMessage<Message: SwiftProtobuf.Message>(_ type: Message.Type = Message.self) throws -> Message {
        let bytes = try readBytes()
        do {
            return try Message(serializedBytes: Array(bytes))
        } catch {
            throw WireDecodingError("\(Message.protoMessageName): \(error)")
        }
    }
}

extension UUID {
    /// A UUID from its text in a protobuf message; a malformed one is a decoding error naming `field`.
    package init(wire text: String, _ field: String) throws {
        guard let uuid = UUID(uuidString: text) else { throw WireDecodingError("\(field) is not a UUID: \(text.prefix(40))") }
        self = uuid
    }

    /// How a UUID travels in protobuf messages: its lowercase text.
    package var wire: String { uuidString.lowercased() }
}

/// A domain type with a protobuf form: it travels as that message (declare `proto` and
/// `init(proto:)`; the WireCodable conformance comes with this protocol).
package protocol ProtobufRepresented: WireCodable {
    associatedtype Proto: SwiftProtobuf.Message
    var proto: Proto { get }
    init(proto: Proto) throws
}

extension ProtobufRepresented {
    public func encode(to writer: inout WireWriter) throws {
        try writer.writeMessage(proto)
    }

    public init(from reader: inout WireReader) throws {
        try self.init(proto: reader.readMessage())
    }
}
