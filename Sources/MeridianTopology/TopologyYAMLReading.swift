import MeridianYAML

/// Issues of one topology file, gathered by the shared YAML machinery.
typealias TopologyIssues = IssueCollector<TopologyIssue>

extension YAMLReader where Issue == TopologyIssue {
    /// A `host:port` endpoint.
    mutating func hostPort(_ entry: Entry?, what: String) -> Located<HostPort>? {
        guard let text = string(entry, what: what) else { return nil }
        switch HostPort.parse(text.value) {
        case .success(let address):
            return Located(address, at: text.location)
        case .failure(let failure):
            issues.add(.badAddress, at: text.location, "\(what): \(failure.reason)")
            return nil
        }
    }
}
