import Foundation

/// Reads a YAML file's text before it is composed, with the checks every file format wants.
package enum YAMLFile {
    /// Why a file could not be read; the message completes "<kind> file …".
    package struct Unreadable: Error, Sendable {
        package var problem: String
    }

    /// The UTF-8 text at `path`. Refuses files over `maximumSize` bytes, so a bad path (a log, a disk
    /// image) cannot eat memory. `document` names the kind of file in messages, e.g. "topology file".
    package static func text(at path: String, document: String, maximumSize: Int) throws(Unreadable) -> String {
        let data: Data
        do {
            let url = URL(fileURLWithPath: path)
            let size = try url.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0
            guard size <= maximumSize else {
                throw Unreadable(problem: "is \(size) bytes; \(document)s are limited to \(maximumSize) bytes")
            }
            data = try Data(contentsOf: url)
        } catch let error as Unreadable {
            throw error
        } catch {
            throw Unreadable(problem: "cannot be read: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Unreadable(problem: "is not UTF-8 text")
        }
        return text
    }
}
