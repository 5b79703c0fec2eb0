import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

@main
enum Entry {
    static func main() async {
        // Run Swift Concurrency's global executor on NIO's event loops: a task woken by a
        // socket read continues on the same thread, with no hop between executors.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        do {
            var command = try MeridianCommand.parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(with: error)
        }
    }

    /// A user's mistake (an unknown option, a missing or malformed argument, a `ValidationError`)
    /// exits 1 with its message on standard error, as every `meridian` command promises;
    /// ArgumentParser's own default for these is 64. Help, `ExitCode`s and other errors go the
    /// usual way.
    static func exit(with error: any Error) -> Never {
        if MeridianCommand.exitCode(for: error) == .validationFailure {
            let message = MeridianCommand.fullMessage(for: error)
            FileHandle.standardError.write(Data((message.isEmpty ? "invalid arguments" : message).utf8 + [0x0A]))
            Foundation.exit(1)
        }
        MeridianCommand.exit(withError: error)
    }
}
