import Foundation

extension Bool: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeVarint(self ? 1 : 0) }
    public init(from reader: inout WireReader) throws { self = try reader.readVarint() != 0 }
}

extension Int: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeSigned(Int64(self)) }
    public init(from reader: inout WireReader) throws { self = Int(try reader.readSigned()) }
}

extension Int64: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeSigned(self) }
    public init(from reader: inout WireReader) throws { self = try reader.readSigned() }
}

extension Int32: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeSigned(Int64(self)) }
    public init(from reader: inout WireReader) throws {
        guard let value = Int32(exactly: try reader.readSigned()) else { throw WireDecodingError("Int32 out of range") }
        self = value
    }
}

extension UInt: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeVarint(UInt64(self)) }
    public init(from reader: inout WireReader) throws { self = UInt(try reader.readVarint()) }
}

extension UInt64: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeVarint(self) }
    public init(from reader: inout WireReader) throws { self = try reader.readVarint() }
}

extension UInt32: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeVarint(UInt64(self)) }
    public init(from reader: inout WireReader) throws {
        guard let value = UInt32(exactly: try reader.readVarint()) else { throw WireDecodingError("UInt32 out of range") }
        self = value
    }
}

extension UInt8: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeVarint(UInt64(self)) }
    public init(from reader: inout WireReader) throws {
        guard let value = UInt8(exactly: try reader.readVarint()) else { throw WireDecodingError("UInt8 out of range") }
        self = value
    }
}

extension Double: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeFixed64(bitPattern) }
    public init(from reader: inout WireReader) throws { self = Double(bitPattern: try reader.readFixed64()) }
}

extension Float: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeVarint(UInt64(bitPattern)) }
    public init(from reader: inout WireReader) throws {
        guard let bits = UInt32(exactly: try reader.readVarint()) else { throw WireDecodingError("Float out of range") }
        self = Float(bitPattern: bits)
    }
}

extension String: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeBytes(utf8) }
    public init(from reader: inout WireReader) throws {
        let bytes = try reader.readBytes()
        guard let string = String(validating: bytes, as: UTF8.self) else { throw WireDecodingError("string is not UTF-8") }
        self = string
    }
}

extension Data: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeBytes(self) }
    public init(from reader: inout WireReader) throws { self = Data(try reader.readBytes()) }
}

extension UUID: WireCodable {
    public func encode(to writer: inout WireWriter) {
        withUnsafeBytes(of: uuid) { writer.writeBytes($0) }
    }
    public init(from reader: inout WireReader) throws {
        let bytes = try reader.readBytes()
        guard bytes.count == 16 else { throw WireDecodingError("UUID of \(bytes.count) bytes") }
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
        self = UUID(uuid: raw)
    }
}

extension Optional: WireCodable where Wrapped: WireCodable {
    public func encode(to writer: inout WireWriter) throws {
        switch self {
        case .none: writer.writeVarint(0)
        case .some(let value):
            writer.writeVarint(1)
            try value.encode(to: &writer)
        }
    }
    public init(from reader: inout WireReader) throws {
        self = try reader.readVarint() == 0 ? nil : try Wrapped(from: &reader)
    }
}

extension Array: WireCodable where Element: WireCodable {
    public func encode(to writer: inout WireWriter) throws {
        writer.writeVarint(UInt64(count))
        for element in self { try element.encode(to: &writer) }
    }
    public init(from reader: inout WireReader) throws {
        let count = try reader.readCount()
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try Element(from: &reader)) }
        self = elements
    }
}

extension Dictionary: WireCodable where Key: WireCodable, Value: WireCodable {
    public func encode(to writer: inout WireWriter) throws {
        writer.writeVarint(UInt64(count))
        for (key, value) in self {
            try key.encode(to: &writer)
            try value.encode(to: &writer)
        }
    }
    public init(from reader: inout WireReader) throws {
        let count = try reader.readCount()
        var dictionary: [Key: Value] = [:]
        dictionary.reserveCapacity(count)
        for _ in 0..<count { dictionary[try Key(from: &reader)] = try Value(from: &reader) }
        self = dictionary
    }
}
