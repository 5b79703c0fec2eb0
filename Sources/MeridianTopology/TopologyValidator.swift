import MeridianYAML

/// Checks that a topology makes sense as a whole: references resolve, names and numbers are in range,
/// and no two endpoints share an address. Runs on drafts from files and on topologies built in code alike.
enum TopologyValidator {
    /// Upper bound on shards per region: far above any real need, low enough to catch a stray digit.
    static let maximumShards = 65_536
    /// Upper bound on a one-way delay: no link on Earth is slower, and failure-detection timeouts grow with it.
    static let maximumLatencyMilliseconds = 10_000

    static func check(_ draft: TopologyDraft, into issues: inout TopologyIssues) {
        checkHeader(draft, &issues)
        let regionNames = checkRegions(draft, &issues)
        checkNodes(draft, regionNames: regionNames, &issues)
        checkSeeds(draft, &issues)
        checkLatency(draft, regionNames: regionNames, &issues)
        for (field, value) in [("catalog_primary", draft.catalogPrimary), ("identity_authority", draft.identityAuthority)] {
            guard let value, let regionNames, !regionNames.contains(value.value) else { continue }
            issues.add(.unknownRegion, at: value.location,
                       "\(field) names unknown region '\(value.value)'\(known(regionNames))")
        }
    }

    private static func checkHeader(_ draft: TopologyDraft, _ issues: inout TopologyIssues) {
        if let cluster = draft.cluster {
            if cluster.value.allSatisfy(\.isWhitespace) {
                issues.add(.badValue, at: cluster.location, "cluster name is empty; every node checks it in the handshake")
            } else if cluster.value.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true }) {
                issues.add(.badValue, at: cluster.location, "cluster name '\(cluster.value)' must not contain spaces or control characters")
            }
        }
        if let version = draft.version, version.value < 1 {
            issues.add(.badValue, at: version.location, "version must be at least 1, found \(version.value)")
        }
    }

    /// Returns the defined region names, or `nil` when the regions section is unusable.
    private static func checkRegions(_ draft: TopologyDraft, _ issues: inout TopologyIssues) -> Set<String>? {
        guard let regions = draft.regions else { return nil }
        if regions.value.isEmpty {
            issues.add(.badValue, at: regions.location, "regions is empty; define at least one region")
        }
        var seen = Set<String>()
        for region in regions.value {
            let name = region.name
            if !seen.insert(name.value).inserted {
                // Only reachable for topologies built in code: the decoder already reported a repeated YAML key.
                issues.add(.duplicateKey, at: name.location, "region '\(name.value)' is defined twice")
            }
            if let problem = nameProblem(name.value) {
                issues.add(.badValue, at: name.location, "region name '\(name.value)' \(problem)")
            }
            if let shards = region.shards, !(1...maximumShards).contains(shards.value) {
                issues.add(.badValue, at: shards.location,
                           "shards of region '\(name.value)' must be 1...\(maximumShards), found \(shards.value)")
            }
            if let storage = region.storage, !StorageURL.hasKnownScheme(storage.value) {
                issues.add(.badValue, at: storage.location,
                           "storage of region '\(name.value)' is '\(StorageURL.redacted(storage.value))'; expected 'sqlite:<directory>' or 'postgres://user@host/database'")
            }
            if let storage = region.storage, StorageURL.hasPassword(storage.value) {
                issues.add(.badValue, at: storage.location,
                           "storage of region '\(name.value)' carries a password, but any member can fetch the topology; name a file on the nodes instead (postgres://user@host/db?password_file=/etc/meridian/db-password) or set $MERIDIAN_POSTGRES_PASSWORD")
            }
        }
        return seen
    }

    private static func checkNodes(_ draft: TopologyDraft, regionNames: Set<String>?, _ issues: inout TopologyIssues) {
        guard let nodes = draft.nodes else { return }
        var firstByID: [String: SourceLocation] = [:]
        var populated = Set<String>()
        var holdingPlayers = Set<String>()
        var endpoints: [HostPort: (owner: String, location: SourceLocation)] = [:]
        for node in nodes.value {
            let label = node.id?.value ?? "node\(node.location.lineSuffix)"
            if let id = node.id {
                if let first = firstByID[id.value] {
                    issues.add(.duplicateNode, at: id.location, "node id '\(id.value)' is used twice; first used\(first.lineSuffix)")
                } else {
                    firstByID[id.value] = id.location
                }
                if let problem = nameProblem(id.value) {
                    issues.add(.badValue, at: id.location, "node id '\(id.value)' \(problem)")
                }
            }
            if let region = node.region {
                populated.insert(region.value)
                if node.players?.value != false { holdingPlayers.insert(region.value) }
                if let regionNames, !regionNames.contains(region.value) {
                    issues.add(.unknownRegion, at: region.location,
                               "node '\(label)' is in unknown region '\(region.value)'\(known(regionNames))")
                }
            }
            let roles = [("cluster", node.cluster), ("gateway", node.gateway), ("metrics", node.metrics)]
            for case let (role, address?) in roles {
                let owner = "\(label) \(role)"
                // Files were checked while decoding; this catches topologies built in code.
                if case .failure(let failure) = HostPort.parse(address.value.description) {
                    issues.add(.badAddress, at: address.location, "\(role) address of node '\(label)': \(failure.reason)")
                }
                // Host names are case-insensitive; addresses are compared as written otherwise.
                let key = HostPort(host: address.value.host.lowercased(), port: address.value.port)
                if let previous = endpoints[key] {
                    issues.add(.addressClash, at: address.location,
                               "address \(address.value) of \(owner) is already used by \(previous.owner)\(previous.location.lineSuffix)")
                } else {
                    endpoints[key] = (owner, address.location)
                }
            }
        }
        guard let regions = draft.regions else { return }
        for region in regions.value where !populated.contains(region.name.value) {
            issues.add(.emptyRegion, at: region.name.location,
                       "region '\(region.name.value)' has no nodes; add a node with 'region: \(region.name.value)' or remove the region")
        }
        for region in regions.value where populated.contains(region.name.value) && !holdingPlayers.contains(region.name.value) {
            issues.add(.emptyRegion, at: region.name.location,
                       "every node of region '\(region.name.value)' says 'players: false'; at least one must hold the region's players")
        }
    }

    private static func checkSeeds(_ draft: TopologyDraft, _ issues: inout TopologyIssues) {
        guard let seeds = draft.seeds else { return }
        if seeds.value.isEmpty {
            issues.add(.noSeeds, at: seeds.location, "seeds is empty; list at least one node id for starting nodes to contact")
        }
        let nodeIDs = draft.nodes.map { Set($0.value.compactMap(\.id?.value)) }
        var seen: [String: SourceLocation] = [:]
        for seed in seeds.value {
            if let first = seen[seed.value] {
                issues.add(.badSeed, at: seed.location, "seed '\(seed.value)' is listed twice; first listed\(first.lineSuffix)")
                continue
            }
            seen[seed.value] = seed.location
            if let nodeIDs, !nodeIDs.contains(seed.value) {
                issues.add(.badSeed, at: seed.location, "seed '\(seed.value)' is not a node of this topology")
            }
        }
    }

    private static func checkLatency(_ draft: TopologyDraft, regionNames: Set<String>?, _ issues: inout TopologyIssues) {
        var seen: [RegionPair: SourceLocation] = [:]
        for entry in draft.latency {
            let key = entry.key
            if entry.pair.first == entry.pair.second {
                issues.add(.badLatency, at: key.location, "latency '\(key.value)' is within one region, where delay is always zero; remove it")
            }
            if let first = seen[entry.pair] {
                issues.add(.badLatency, at: key.location,
                           "latency between \(entry.pair.first) and \(entry.pair.second) is given twice; first given\(first.lineSuffix)")
            } else {
                seen[entry.pair] = key.location
            }
            if let regionNames {
                for name in Set([entry.pair.first, entry.pair.second]).sorted() where !regionNames.contains(name) {
                    issues.add(.unknownRegion, at: key.location, "latency '\(key.value)' names unknown region '\(name)'\(known(regionNames))")
                }
            }
            if let milliseconds = entry.milliseconds, milliseconds.value < 0 {
                issues.add(.badLatency, at: milliseconds.location,
                           "latency '\(key.value)' is negative (\(milliseconds.value) ms); delays are 0 or more milliseconds")
            } else if let milliseconds = entry.milliseconds, milliseconds.value > maximumLatencyMilliseconds {
                issues.add(.badLatency, at: milliseconds.location,
                           "latency '\(key.value)' is \(milliseconds.value) ms; one-way delays above \(maximumLatencyMilliseconds) ms are surely a typo")
            }
        }
    }

    /// Why a region name or node id is unusable, if it is: these names end up in actor paths
    /// (`/shard/eu-west/7`) and in `a/b` latency keys.
    static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
        }
        return allowed ? nil : "may contain only letters, digits, '-', '_' and '.'"
    }

    private static func known(_ names: Set<String>) -> String {
        names.isEmpty ? "" : "; known regions: \(names.sorted().joined(separator: ", "))"
    }
}

extension Topology {
    /// Checks a topology built in code (or received from another node) with the same rules as a file.
    /// Issues carry no line numbers; `file` names the source in messages.
    public func validate(file: String = "<topology>") throws(TopologyError) {
        var issues = TopologyIssues(file: file)
        TopologyValidator.check(TopologyDraft(self), into: &issues)
        guard issues.isEmpty else { throw TopologyError(issues: issues.issues) }
    }
}
