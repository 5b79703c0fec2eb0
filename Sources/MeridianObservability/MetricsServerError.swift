/// ``MetricsServer`` could not start.
package struct MetricsServerError: Error, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        /// The address could not be bound (in use, not local, no permission).
        case bindFailed
    }

    package var code: Code
    package var address: String
    package var underlying: any Error

    package init(_ code: Code, address: String, underlying: any Error) {
        self.code = code
        self.address = address
        self.underlying = underlying
    }

    package var description: String {
        switch code {
        case .bindFailed:
            "cannot serve metrics on \(address): \(underlying); is another process (a second node with the same metrics: address?) listening there, or is the host not an address of this machine?"
        }
    }
}
