/// The fuzz targets: each takes arbitrary bytes through real Meridian code — the same
/// functions and channel handlers a node runs on a peer's or a client's bytes — and stops the
/// process (a trap, which libFuzzer reports as a crash) when an invariant breaks. Bad input
/// is expected: a typed error is the right answer, and the target returns normally.
///
/// `meridian-fuzz TARGET` runs one under libFuzzer (`scripts/fuzz`), or replays files through
/// it in an ordinary build; `MeridianFuzzTests` replays the committed corpora (Fuzz/Corpus/).
package enum FuzzTarget: String, CaseIterable, Sendable {
    /// A peer's bytes on a node-to-node connection: frames, envelopes, the handshake, fragment
    /// reassembly and heartbeats (``ClusterLinkTarget``).
    case clusterLink = "cluster-link"
    /// A client's bytes on a gateway connection: frames, ClientMessage, the connection's state
    /// machine, input batches, error replies (``GatewayClientTarget``).
    case gatewayClient = "gateway-client"
    /// Topology files (``TopologyTarget``).
    case topology
    /// Catalog files and catalog content as it replicates (``CatalogTarget``).
    case catalog
    /// Match-state snapshot and delta packets as a client receives them (``SnapshotTarget``).
    case snapshot

    /// Runs one input through the target.
    package func run(_ bytes: UnsafeRawBufferPointer) {
        let input = FuzzInput(bytes)
        switch self {
        case .clusterLink: ClusterLinkTarget.run(input)
        case .gatewayClient: GatewayClientTarget.run(input)
        case .topology: TopologyTarget.run(input)
        case .catalog: CatalogTarget.run(input)
        case .snapshot: SnapshotTarget.run(input)
        }
    }

    /// Runs `bytes` through the target.
    package func run(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { run($0) }
    }

    /// One line for `meridian-fuzz --help`.
    package var summary: String {
        switch self {
        case .clusterLink: "a peer's bytes through a node connection's handlers (frames, handshake, fragments, heartbeats)"
        case .gatewayClient: "a client's bytes through the gateway's frame decoder, ClientMessage parsing and connection state"
        case .topology: "topology YAML through TopologyLoader.parse"
        case .catalog: "catalog YAML through CatalogLoader.parse, or catalog content bytes as replication reads them"
        case .snapshot: "snapshot and delta packets through SnapshotReceiver and SnapshotCodec"
        }
    }
}

/// An input and the helpers the targets use to take it apart: a leading byte of options, then
/// the bytes the target reads.
struct FuzzInput {
    var bytes: [UInt8]

    init(_ raw: UnsafeRawBufferPointer) {
        bytes = Array(raw)
    }

    /// The first byte (options of the target), and the rest.
    var header: (options: UInt8, rest: ArraySlice<UInt8>)? {
        guard let first = bytes.first else { return nil }
        return (first, bytes.dropFirst())
    }

    /// How a target cuts its stream into reads, chosen by three bits of its options: the whole
    /// stream at once, or reads of a few fixed sizes, so that frames split across reads (and
    /// several frames in one read) are both covered.
    static let readSizes = [Int.max, 1, 2, 3, 7, 64, 500, 4096]

    static func reads(of bytes: ArraySlice<UInt8>, choice: UInt8) -> [ArraySlice<UInt8>] {
        let size = readSizes[Int(choice & 7)]
        var reads: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes.endIndex - start > size ? start + size : bytes.endIndex
            reads.append(bytes[start..<end])
            start = end
        }
        return reads
    }
}

/// Stops the run with `message` when `condition` is false: a broken invariant is a finding,
/// in every build configuration (unlike `assert`).
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    guard condition() else { fatalError("invariant broken: \(message())", file: file, line: line) }
}
