import ArgumentParser
import NIOCore
import NIOPosix

@main
enum Entry {
    static func main() async {
        // Run Swift Concurrency's global executor on NIO's event loops: a task woken by a
        // socket read continues on the same thread, with no hop between executors.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await MeridianCommand.main()
    }
}
