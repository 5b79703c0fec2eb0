#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MeridianWire
import NIOPosix
import SwiftProtobuf
import Synchronization

/// The last catalog version a node served, in one file (a `PersistedCatalog` protobuf), so a restarted
/// node serves it at once, before it has talked to anyone.
///
/// Writes are atomic: the bytes go to a temporary file in the same directory, which is fsynced and then
/// renamed over the old file (and the directory fsynced), so a crash leaves either the old or the new
/// version, never a torn file. File I/O runs on NIO's blocking-I/O thread pool, never on an event loop.
package final class CatalogFileStore: Sendable {
    /// Bumped only for a change old nodes cannot read; such a file is ignored (and replaced) on start.
    static let format: UInt32 = 1

    package let path: String
    private let threadPool: NIOThreadPool
    /// The stamp of the file on disk; held for the whole write so writes are ordered and never go back.
    private let written = Mutex<CatalogStamp?>(nil)

    package init(path: String, threadPool: NIOThreadPool = .singleton) {
        self.path = path
        self.threadPool = threadPool
    }

    /// `<directory>/<node>.catalog`.
    package convenience init(directory: String, node: String) {
        self.init(path: URL(fileURLWithPath: directory).appendingPathComponent("\(node).catalog").path)
    }

    /// The persisted snapshot; `nil` when there is no file yet.
    /// - Throws: ``CatalogStoreError`` when the file exists but cannot be read or is damaged.
    package func load() throws(CatalogStoreError) -> CatalogSnapshot? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CatalogStoreError(path: path, "cannot be read: \(error.localizedDescription)")
        }
        let file: Meridian_Catalog_V1_PersistedCatalog
        do {
            file = try Meridian_Catalog_V1_PersistedCatalog(serializedBytes: data)
        } catch {
            throw CatalogStoreError(path: path, "is not a persisted catalog: \(error)")
        }
        guard file.format == Self.format else {
            throw CatalogStoreError(path: path, "has format \(file.format); this build reads format \(Self.format)")
        }
        do {
            let snapshot = try CatalogSnapshot(proto: file.snapshot)
            written.withLock { $0 = snapshot.stamp }
            return snapshot
        } catch {
            throw CatalogStoreError(path: path, "holds a damaged catalog: \(error)")
        }
    }

    /// Writes `snapshot` unless the file already holds it or a newer one. Returns once the bytes are durable.
    package func save(_ snapshot: CatalogSnapshot) async throws {
        var file = Meridian_Catalog_V1_PersistedCatalog()
        file.format = Self.format
        file.snapshot = snapshot.proto
        let bytes: [UInt8] = try file.serializedBytes()
        let stamp = snapshot.stamp
        let path = self.path
        try await threadPool.runIfActive {
            try self.written.withLock { current in
                if let current, current >= stamp { return }
                try AtomicFile.write(bytes, to: path)
                current = stamp
            }
        }
    }
}

/// A catalog file that exists but cannot be used.
package struct CatalogStoreError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var problem: String
    package init(path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }
    package var description: String { "catalog file \(path) \(problem)" }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// Replace-a-file-atomically with POSIX calls: temp file, write, fsync, rename, fsync the directory.
enum AtomicFile {
    struct Failure: Error, CustomStringConvertible {
        var step: String
        var path: String
        var code: Int32
        var description: String { "\(step) \(path): \(String(cString: strerror(code)))" }
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true)
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(step: "open", path: temporary, code: errno) }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                unlink(temporary)
                throw Failure(step: "write", path: temporary, code: code)
            }
            offset += count
        }
        guard fsync(fd) == 0 else {
            let code = errno
            unlink(temporary)
            throw Failure(step: "fsync", path: temporary, code: code)
        }
        close(fd)
        closed = true
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw Failure(step: "rename", path: path, code: code)
        }
        // The rename is durable only once the directory entry is.
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }
}
