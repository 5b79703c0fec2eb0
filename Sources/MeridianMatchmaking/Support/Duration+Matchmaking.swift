extension Duration {
    /// This duration in seconds, as a `Double`.
    var matchmakingSeconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// Numbers in status reasons, without locale-dependent formatting.
enum ReasonFormat {
    /// "5 s", "2.5 s", "3.2 s": seconds with one decimal, none when whole.
    static func seconds(_ duration: Duration) -> String {
        let tenths = (max(0, duration.matchmakingSeconds) * 10).rounded()
        let whole = Int(tenths / 10)
        let fraction = Int(tenths) - whole * 10
        return fraction == 0 ? "\(whole) s" : "\(whole).\(fraction) s"
    }

    /// "120": rating points rounded to a whole number.
    static func points(_ value: Double) -> String {
        String(Int(value.rounded()))
    }
}
