import Foundation

/// What a process holds, read from `/proc` (Linux): resident memory and open file descriptors.
struct ProcessResources: Sendable, Codable, Equatable {
    var residentBytes: Int
    var openFiles: Int

    /// The figures of process `pid` now; nil when it is gone (or `/proc` is not there).
    static func of(_ pid: Int32) -> ProcessResources? {
        // statm: size resident shared text lib data dt, in pages.
        guard let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]),
              let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        else { return nil }
        return ProcessResources(residentBytes: pages * Int(sysconf(Int32(_SC_PAGESIZE))), openFiles: descriptors.count)
    }
}
