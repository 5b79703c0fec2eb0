// swift-tools-version:6.1
import PackageDescription

/// One set of compiler settings for every target: Swift 6 language mode (strict concurrency),
/// `any` spelled out for existentials, and imports visible only where they are written.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "meridian",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "meridian", targets: ["meridian"]),
        .executable(name: "meridian-bench", targets: ["meridian-bench"]),
        .library(name: "MeridianCluster", targets: ["MeridianCluster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // The node's admin HTTP (metrics, probes, JSON API, web console). No traits: it needs
        // neither swift-configuration nor the full Foundation.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        // Benchmark peer only (`meridian-bench rpc`): never linked into `meridian`.
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        // Tests only: property-based round trips of the wire codecs.
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // Code generated from Protos/ by scripts/gen-protos. Never edited by hand.
        .target(
            name: "MeridianWire",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: swiftSettings
        ),
        // YAML with file:line issues, shared by every configuration file format (topology, catalog).
        .target(
            name: "MeridianYAML",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // Topology files: model, YAML parsing with file:line errors, validation, diff, shard placement.
        .target(
            name: "MeridianTopology",
            dependencies: ["MeridianYAML", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // The clock a node's timed parts run on: the continuous clock, or a manual one tests step.
        .target(
            name: "MeridianClock",
            swiftSettings: swiftSettings
        ),
        // SWIM membership as a pure state machine: no I/O, no clock of its own.
        .target(
            name: "MeridianMembership",
            swiftSettings: swiftSettings
        ),
        // Node-to-node TCP: framing, authenticated handshake, one multiplexed connection per pair.
        .target(
            name: "MeridianTransport",
            dependencies: [
                "MeridianWire",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // The distributed actor system, membership driver and receptionist.
        .target(
            name: "MeridianCluster",
            dependencies: [
                "MeridianClock",
                "MeridianWire",
                "MeridianTopology",
                "MeridianMembership",
                "MeridianTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Global catalogs: model, catalog files with file:line errors, versioned snapshots, local reads,
        // persistence, publish in the primary region and replication to every node.
        .target(
            name: "MeridianCatalog",
            dependencies: [
                "MeridianYAML",
                "MeridianTopology",
                "MeridianWire",
                "MeridianMembership",
                "MeridianCluster",
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Matchmaking as pure code: tickets and parties, Glicko-2 ratings, widening skill windows,
        // region latency, overflow and backfill decisions. No clock, no I/O.
        .target(
            name: "MeridianMatchmaking",
            swiftSettings: swiftSettings
        ),
        // One storage protocol, two backends (embedded SQLite, PostgreSQL): player data, the
        // event-sourced inventory ledger with group commit, trade escrow/outbox, audit.
        .target(
            name: "MeridianStorage",
            dependencies: [
                "MeridianMatchmaking",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // A node's share of its region's data: player actors, trade inbox and relay.
        .target(
            name: "MeridianRegion",
            dependencies: [
                "MeridianClock",
                "MeridianCluster",
                "MeridianMatchmaking",
                "MeridianStorage",
                "MeridianTopology",
                "MeridianWire",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The global identity layer: accounts and login methods (password with scrypt, device,
        // platform tickets checked with jwt-kit, dev), signed access tokens and rotating refresh tokens, the home-region directory with a
        // read cache on every node, the authority actor and every node's replica.
        .target(
            name: "MeridianIdentity",
            dependencies: [
                "MeridianClock",
                "MeridianCluster",
                "MeridianMatchmaking",
                "MeridianMembership",
                "MeridianStorage",
                "MeridianTopology",
                "MeridianWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // Latency percentiles (HdrHistogram) for the load generator and the benchmarks.
        .target(
            name: "MeridianLatency",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: swiftSettings
        ),
        // What the `meridian` and `meridian-bench` commands share: logging and secret options,
        // loading a topology file, a node's cluster configuration.
        .target(
            name: "MeridianCommandLine",
            dependencies: [
                "MeridianCatalog",
                "MeridianCluster",
                "MeridianTopology",
                "MeridianTransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // `meridian-bench …`'s measuring parts and its peers (raw NIO echo, grpc-swift-2).
        .target(
            name: "MeridianBench",
            dependencies: [
                "MeridianCluster",
                "MeridianLatency",
                "MeridianTransport",
                "MeridianWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // The pure match simulation a match actor drives: lifecycle, authoritative tick, per-client deltas.
        .target(
            name: "MeridianSimulation",
            swiftSettings: swiftSettings
        ),
        // The game layer on the cluster: shards, match actors driving the simulation, sessions,
        // match results to players' home regions, the per-region matchmaker actor.
        .target(
            name: "MeridianGame",
            dependencies: [
                "MeridianClock",
                "MeridianCluster",
                "MeridianTopology",
                "MeridianCatalog",
                "MeridianStorage",
                "MeridianRegion",
                "MeridianSimulation",
                "MeridianMatchmaking",
                "MeridianWire",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Metrics export: the Prometheus registry as the process's swift-metrics factory (served
        // by the node's admin HTTP, MeridianAdmin).
        .target(
            name: "MeridianObservability",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Client-facing TCP: client.proto sessions, signed tokens, rate limits, bounded outbound
        // queues, routing of a client's calls to its player actor and its match.
        .target(
            name: "MeridianGateway",
            dependencies: [
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "MeridianClock",
                "MeridianWire",
                "MeridianTransport",
                "MeridianCluster",
                "MeridianMembership",
                "MeridianTopology",
                "MeridianCatalog",
                "MeridianStorage",
                "MeridianRegion",
                "MeridianIdentity",
                "MeridianSimulation",
                "MeridianMatchmaking",
                "MeridianGame",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Swift client library (bots, tests): connect, locate, nearest region, login, queue, play.
        .target(
            name: "MeridianClient",
            dependencies: [
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "MeridianWire",
                "MeridianTransport",
                "MeridianSimulation",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // One node assembled from its parts as ServiceLifecycle services: store, actor system,
        // region data, catalog replica, identity, game services, gateway, metrics.
        // A node's admin HTTP: Prometheus metrics, health and readiness probes, the JSON API and
        // the web console behind admin tokens, and the audit log of admin actions.
        .target(
            name: "MeridianAdmin",
            dependencies: [
                "MeridianTopology",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MeridianNode",
            dependencies: [
                "MeridianAdmin",
                "MeridianCluster",
                "MeridianStorage",
                "MeridianRegion",
                "MeridianCatalog",
                "MeridianIdentity",
                "MeridianGame",
                "MeridianGateway",
                "MeridianObservability",
                "MeridianTopology",
                "MeridianMembership",
                "MeridianTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                "MeridianWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // `meridian chaos`'s pure parts: the seeded fault schedule and the invariant models.
        .target(
            name: "MeridianChaos",
            dependencies: ["MeridianSimulation"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "meridian",
            dependencies: [
                "MeridianNode",
                "MeridianChaos",
                "MeridianAdmin",
                "MeridianSimulation",
                "MeridianMatchmaking",
                "MeridianGame",
                "MeridianGateway",
                "MeridianIdentity",
                "MeridianClient",
                "MeridianWire",
                "MeridianTopology",
                "MeridianCatalog",
                "MeridianStorage",
                "MeridianRegion",
                "MeridianTransport",
                "MeridianCluster",
                "MeridianLatency",
                "MeridianCommandLine",
                "MeridianObservability",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // `meridian-bench …`: the benchmark programs, apart so that a node never links their
        // peers (grpc-swift-2, NIOExtras) and the main job builds without them.
        .executableTarget(
            name: "meridian-bench",
            dependencies: [
                "MeridianBench",
                "MeridianLatency",
                "MeridianCommandLine",
                "MeridianCatalog",
                "MeridianCluster",
                "MeridianIdentity",
                "MeridianMatchmaking",
                "MeridianMembership",
                "MeridianSimulation",
                "MeridianStorage",
                "MeridianTopology",
                "MeridianTransport",
                "MeridianWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianWireTests",
            dependencies: [
                "MeridianWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianClockTests",
            dependencies: ["MeridianClock"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianCommandLineTests",
            dependencies: ["MeridianCommandLine", "MeridianClock"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianTopologyTests",
            dependencies: ["MeridianTopology"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianStorageTests",
            dependencies: [
                "MeridianStorage",
                "MeridianClock",
                "MeridianTestSupport",
                "MeridianMatchmaking",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianIdentityTests",
            dependencies: [
                "MeridianIdentity",
                "MeridianTestScope",
                "MeridianTestSupport",
                "MeridianRegion",
                "MeridianMatchmaking",
                "MeridianClock",
                "MeridianCluster",
                "MeridianStorage",
                "MeridianTopology",
                "MeridianTransport",
                "MeridianWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Fuzzing (scripts/fuzz): the targets, and `meridian-fuzz TARGET`, which runs one under
        // libFuzzer when built with `-sanitize=fuzzer -D MERIDIAN_FUZZING` and otherwise
        // replays files through it. MeridianFuzzTests replays the committed corpora.
        .target(
            name: "MeridianFuzzTargets",
            dependencies: [
                "MeridianCatalog",
                "MeridianCluster",
                "MeridianGame",
                "MeridianGateway",
                "MeridianSimulation",
                "MeridianTopology",
                "MeridianTransport",
                "MeridianWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Fuzz/Sources/MeridianFuzzTargets",
            swiftSettings: swiftSettings
        ),
        // libFuzzer's driver, declared for `meridian-fuzz` (defined by the fuzzer's runtime).
        .target(name: "CLibFuzzer", path: "Fuzz/Sources/CLibFuzzer"),
        .executableTarget(
            name: "meridian-fuzz",
            dependencies: ["MeridianFuzzTargets", "CLibFuzzer"],
            path: "Fuzz/Sources/meridian-fuzz",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianFuzzTests",
            dependencies: ["MeridianFuzzTargets"],
            path: "Fuzz/Tests/MeridianFuzzTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianYAMLTests",
            dependencies: ["MeridianYAML", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianCatalogTests",
            dependencies: [
                "MeridianTestScope",
                "MeridianClock",
                "MeridianCatalog",
                "MeridianCluster",
                "MeridianMembership",
                "MeridianTopology",
                "MeridianTransport",
                "MeridianWire",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianMembershipTests",
            dependencies: ["MeridianMembership"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianTransportTests",
            dependencies: [
                "MeridianTestCertificates",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "MeridianTransport",
                "MeridianWire",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianClusterTests",
            dependencies: [
                .product(name: "PropertyBased", package: "swift-property-based"),
                "MeridianTestScope",
                "MeridianClock",
                "MeridianCluster",
                "MeridianMembership",
                .product(name: "Atomics", package: "swift-atomics"),
                "MeridianTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianChaosTests",
            dependencies: ["MeridianChaos"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianSimulationTests",
            dependencies: ["MeridianSimulation", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianMatchmakingTests",
            dependencies: ["MeridianMatchmaking"],
            swiftSettings: swiftSettings
        ),
        // Shared by every test target that starts nodes: the process-wide cluster slots and the
        // scoped set-up/teardown helper.
        .target(
            name: "MeridianTestScope",
            path: "Tests/MeridianTestScope",
            swiftSettings: swiftSettings
        ),
        // A plain HTTP/1.1 client over raw TCP, for the admin HTTP's tests.
        .target(
            name: "MeridianTestHTTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/MeridianTestHTTP",
            swiftSettings: swiftSettings
        ),
        // Shared by the game and gateway tests: in-process clusters running the whole node stack.
        .target(
            name: "MeridianTestSupport",
            dependencies: [
                "MeridianNode",
                "MeridianAdmin",
                "MeridianTestScope",
                "MeridianClock",
                "MeridianGame",
                "MeridianGateway",
                "MeridianIdentity",
                "MeridianCluster",
                "MeridianTopology",
                "MeridianRegion",
                "MeridianMatchmaking",
                "MeridianMembership",
                "MeridianTransport",
                "MeridianStorage",
                "MeridianWire",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/MeridianTestSupport",
            swiftSettings: swiftSettings
        ),
        // A certificate authority made at test time, for TLS tests (no key is committed).
        .target(
            name: "MeridianTestCertificates",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Tests/MeridianTestCertificates",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianNodeTests",
            dependencies: [
                "MeridianNode",
                "MeridianClock",
                "MeridianTestHTTP",
                "MeridianAdmin",
                "MeridianGame",
                "MeridianRegion",
                "MeridianTestScope",
                "MeridianTestSupport",
                "MeridianCluster",
                "MeridianIdentity",
                "MeridianMembership",
                "MeridianWire",
                "MeridianTopology",
                "MeridianTransport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianGameTests",
            dependencies: [
                "MeridianNode",
                "MeridianTestScope",
                "MeridianClock",
                "MeridianTestSupport",
                "MeridianGame",
                "MeridianCluster",
                "MeridianTopology",
                "MeridianCatalog",
                "MeridianStorage",
                "MeridianRegion",
                "MeridianSimulation",
                "MeridianMatchmaking",
                "MeridianMembership",
                "MeridianTransport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianGatewayTests",
            dependencies: [
                "MeridianTestScope",
                "MeridianClock",
                "MeridianTestSupport",
                "MeridianGateway",
                "MeridianIdentity",
                "MeridianClient",
                "MeridianWire",
                "MeridianTransport",
                "MeridianCluster",
                "MeridianTopology",
                "MeridianRegion",
                "MeridianGame",
                "MeridianSimulation",
                "MeridianMatchmaking",
                "MeridianMembership",
                "MeridianStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianClientTests",
            dependencies: [
                .product(name: "PropertyBased", package: "swift-property-based"),
                "MeridianTestCertificates",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "MeridianTestScope",
                "MeridianClock",
                "MeridianClient",
                "MeridianIdentity",
                "MeridianTestSupport",
                "MeridianGateway",
                "MeridianTransport",
                "MeridianWire",
                .product(name: "Logging", package: "swift-log"),
                "MeridianSimulation",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianAdminTests",
            dependencies: [
                "MeridianAdmin",
                "MeridianTestHTTP",
                "MeridianObservability",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Starts real `meridian` processes; needs the executable built first (swift build).
        .testTarget(
            name: "MeridianEndToEndTests",
            dependencies: ["MeridianTopology", "MeridianMembership", "MeridianTransport", "MeridianTestCertificates", "MeridianTestHTTP", "MeridianAdmin"],
            swiftSettings: swiftSettings
        ),
    ]
)
