import Foundation
import Testing

/// The benchmarks' own executable: `meridian-bench rpc` starts its peers as child processes of
/// itself and prints one JSON document; `meridian bench` says where the benchmarks went.
@Suite("meridian-bench")
struct BenchProcessesTests {
    /// `meridian-bench`, next to the `meridian` the suite runs.
    static var executable: String {
        URL(fileURLWithPath: Meridian.executable).deletingLastPathComponent().appendingPathComponent("meridian-bench").path
    }

    @Test func rpcRunsAgainstItsOwnPeersAndPrintsOneJSONArray() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["rpc", "--seconds", "0.2", "--cases", "meridian", "nio-echo", "--json"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let results = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        let cases = Set(results.compactMap { $0["case"] as? String })
        #expect(cases == ["meridian", "nio-echo"])
        #expect(results.count == 6, "three concurrencies per case")
        let calls = results.compactMap { ($0["calls"] as? NSNumber)?.intValue }
        let everyCaseCalled = calls.count == 6 && calls.allSatisfy { $0 > 0 }
        #expect(everyCaseCalled, "\(results)")
    }

    @Test func meridianBenchSaysWhereTheBenchmarksAreAndExitsOne() throws {
        let (status, output) = try Meridian.run(["bench", "rpc"], withErrors: true)
        #expect(status == 1)
        #expect(output.contains("meridian-bench rpc"), "\(output)")
    }
}
