/// A closure to keep in a `Mutex` (or another generic container).
///
/// Swift 6.3 re-abstracts a bare closure type that is a `Mutex`'s value and writes it back on
/// every `withLock { $0 }`, wrapping it in two more thunks each time: every call walks a longer
/// chain than the last (a gateway spent most of its CPU in such chains). In a struct the
/// closure is stored once, as is.
public struct StoredClosure<Result>: Sendable {
    public let call: @Sendable () -> Result

    public init(_ call: @escaping @Sendable () -> Result) {
        self.call = call
    }
}
