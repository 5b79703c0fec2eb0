import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// The `main` of a Meridian executable (`meridian`, `meridian-bench`).
package enum CommandMain {
    /// Runs the command `Root` parses from the process's arguments on NIO's event loops.
    package static func run<Root: ParsableCommand>(_ root: Root.Type) async {
        // Run Swift Concurrency's global executor on NIO's event loops: a task woken by a
        // socket read continues on the same thread, with no hop between executors.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        do {
            var command = try Root.parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(Root.self, with: error)
        }
    }

    /// A user's mistake (an unknown option, a missing or malformed argument, a `ValidationError`)
    /// exits 1 with its message on standard error, as every Meridian command promises;
    /// ArgumentParser's own default for these is 64. Help, `ExitCode`s and other errors go the
    /// usual way.
    static func exit<Root: ParsableCommand>(_ root: Root.Type, with error: any Error) -> Never {
        if Root.exitCode(for: error) == .validationFailure {
            let message = Root.fullMessage(for: error)
            FileHandle.standardError.write(Data((message.isEmpty ? "invalid arguments" : message).utf8 + [0x0A]))
            Foundation.exit(1)
        }
        Root.exit(withError: error)
    }
}
