import Foundation
import FuzzTargets

// medrepl-fuzz: the fuzz targets as one program (tools/fuzz/run.sh builds and drives it; CONTRIBUTING.md,
// "Fuzzing", says how).
//
//   medrepl-fuzz list                      the targets, one per line, with what each reads
//   medrepl-fuzz seeds TARGET DIR          writes the target's seed inputs into DIR
//   medrepl-fuzz dict TARGET               prints the target's libFuzzer dictionary
//   medrepl-fuzz TARGET [--verbose] PATH...
//                                          runs each file (or every file in each folder) once: replays a
//                                          finding without the sanitizers (--verbose: each input's error)
//   medrepl-fuzz TARGET [libFuzzer flags] [CORPUS...]
//                                          fuzzes, when built by run.sh (-D MEDREPL_FUZZ, libFuzzer linked)

#if MEDREPL_FUZZ
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32
#endif

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("medrepl-fuzz: \(message)\n".utf8))
    exit(2)
}

let arguments = CommandLine.arguments
/// The target libFuzzer's callback runs (a global: a C function pointer cannot capture).
nonisolated(unsafe) var chosen = FuzzTarget.gguf
let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
func target(_ name: String) -> FuzzTarget {
    guard let t = FuzzTarget(rawValue: name) else { fail("no target \"\(name)\"; the targets are \(names)") }
    return t
}

guard arguments.count >= 2 else { fail("usage: medrepl-fuzz list | seeds TARGET DIR | dict TARGET | TARGET [FILES or libFuzzer flags]") }
switch arguments[1] {
case "list":
    for t in FuzzTarget.allCases { print(t.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0) + t.summary) }
case "seeds":
    guard arguments.count == 4 else { fail("usage: medrepl-fuzz seeds TARGET DIR") }
    let dir = URL(fileURLWithPath: arguments[3])
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for seed in try target(arguments[2]).seeds() {
        try Data(seed.bytes).write(to: dir.appendingPathComponent("seed-" + seed.name))
    }
case "dict":
    guard arguments.count == 3 else { fail("usage: medrepl-fuzz dict TARGET") }
    print(target(arguments[2]).dictionaryFile, terminator: "")
default:
    chosen = target(arguments[1])
    let rest = Array(arguments.dropFirst(2))
    #if MEDREPL_FUZZ
    if !rest.contains("--verbose"), rest.contains(where: { $0.hasPrefix("-") }) || rest.allSatisfy({ isFolder($0) }) {
        // libFuzzer reads argv without the target's name.
        var argc = CommandLine.argc - 1
        var argv = CommandLine.unsafeArgv
        argv[1] = argv[0]
        var shifted = argv + 1
        exit(LLVMFuzzerRunDriver(&argc, &shifted) { data, count in
            chosen.run(count == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: count)))
            return 0
        })
    }
    #endif
    var count = 0
    let verbose = rest.contains("--verbose")
    for path in rest where path != "--verbose" {
        let files = isFolder(path)
            ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
            : [path]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
            let error = chosen.run([UInt8](data))
            if verbose { print("\(file): " + (error.map { "\($0)" } ?? "read and used without an error")) }
            count += 1
        }
    }
    print("\(chosen.rawValue): \(count) input\(count == 1 ? "" : "s"), no crash")
}

func isFolder(_ path: String) -> Bool {
    var folder: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
}
