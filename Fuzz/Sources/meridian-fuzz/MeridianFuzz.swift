import Foundation
import MeridianFuzzTargets

#if MERIDIAN_FUZZING
import CLibFuzzer

/// libFuzzer's own `main` is linked with its driver and refers to this entry point; the
/// program's `main` is `MeridianFuzz.main()` (SwiftPM defines `main` as it), and libFuzzer
/// calls the target through the function given to `LLVMFuzzerRunDriver` instead.
@_cdecl("LLVMFuzzerTestOneInput")
func unusedEntryPoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fatalError("meridian-fuzz: libFuzzer's main ran instead of meridian-fuzz's")
}
#endif

/// `meridian-fuzz TARGET [ARGUMENTS…]`.
///
/// Built with `-sanitize=fuzzer -D MERIDIAN_FUZZING` (`scripts/fuzz`), it runs TARGET under
/// libFuzzer: ARGUMENTS are libFuzzer's (flags such as `-max_total_time=60`, corpus folders).
/// The fuzzer's own `main` is not used: libFuzzer has one entry point per program, so this
/// one picks the target first and then hands the rest of the command line to libFuzzer's
/// driver (`LLVMFuzzerRunDriver`). Modes that start the program again (`-fork`, `-jobs`,
/// `-minimize_crash`) would lose the target: use `scripts/fuzz`.
///
/// In an ordinary build it replays ARGUMENTS — files, or folders of files — through TARGET,
/// once each: how a crash file is reproduced under a debugger, and what the corpus tests do.
@main
struct MeridianFuzz {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
            let given = arguments.count >= 2 ? arguments[1] : nil
            let ok = given == "--help" || given == "-h"
            var text = ok ? "" : (given.map { "meridian-fuzz: unknown target '\($0)'\n" } ?? "meridian-fuzz: no target given\n")
            text += "usage: meridian-fuzz TARGET [libFuzzer flags and corpus folders | files to replay]\ntargets:\n"
            for target in FuzzTarget.allCases {
                text += "  \(target.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0))\(target.summary)\n"
            }
            FileHandle.standardError.write(Data(text.utf8))
            exit(ok ? 0 : 1)
        }
        #if MERIDIAN_FUZZING
        exit(fuzz(target, arguments: [arguments[0]] + arguments.dropFirst(2)))
        #else
        replay(target, paths: Array(arguments.dropFirst(2)))
        #endif
    }

    #if MERIDIAN_FUZZING
    static func fuzz(_ target: FuzzTarget, arguments: [String]) -> Int32 {
        var argc = Int32(arguments.count)
        // Kept for the whole run: libFuzzer reads its flags and folders from these.
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = .allocate(capacity: arguments.count + 1)
        for (index, argument) in arguments.enumerated() { argv![index] = strdup(argument) }
        argv![arguments.count] = nil
        // One closure per target: a C function pointer cannot capture which target runs.
        switch target {
        case .clusterLink:
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in FuzzTarget.clusterLink.run(UnsafeRawBufferPointer(start: data, count: size)); return 0 }
        case .gatewayClient:
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in FuzzTarget.gatewayClient.run(UnsafeRawBufferPointer(start: data, count: size)); return 0 }
        case .topology:
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in FuzzTarget.topology.run(UnsafeRawBufferPointer(start: data, count: size)); return 0 }
        case .catalog:
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in FuzzTarget.catalog.run(UnsafeRawBufferPointer(start: data, count: size)); return 0 }
        case .snapshot:
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in FuzzTarget.snapshot.run(UnsafeRawBufferPointer(start: data, count: size)); return 0 }
        }
    }
    #else
    static func replay(_ target: FuzzTarget, paths: [String]) {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("meridian-fuzz: no such file or folder: \(path)\n".utf8))
                exit(1)
            }
            if isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { "\(path)/\($0)" }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            target.run([UInt8](data))
        }
        print("meridian-fuzz: replayed \(files.count) inputs through \(target.rawValue)")
    }
    #endif
}
