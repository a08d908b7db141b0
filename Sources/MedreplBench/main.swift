import Foundation
import Kernels

// medrepl-bench: the medrepl side of the benchmark (issue 8). One workload per process, so that the
// peak resident memory (getrusage) belongs to that workload alone; the result is one JSON object on the
// last line of standard output. tools/bench/run.sh runs it interleaved with tools/bench/reference.py.
//
//   medrepl-bench machine                          sgemm peak and memory read bandwidth
//   medrepl-bench w1 --init-adapter DIR [--max-steps 8] [--logging-steps 1]
//   medrepl-bench w2 [--max-steps 8]
//   medrepl-bench w3 --batch 8 --dtype bf16
//   medrepl-bench w4 --config tinyllama [--checkpointing]

BLASHealth.repairByReexecutingIfNeeded()

let usage = "usage: medrepl-bench machine | w1 | w2 | w3 | w4 [--name value]... (see tools/bench/README.md)"
let arguments = Array(CommandLine.arguments.dropFirst())
guard let workload = arguments.first else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
}

do {
    let options = try BenchOptions(Array(arguments.dropFirst()))
    // A tuning knob of the kernels' row split (Parallel.chunksPerThread), for measuring it.
    Parallel.chunksPerThread = try options.int("chunks-per-thread", Parallel.chunksPerThread)
    Parallel.usesSpinningPool = try options.int("spinning-pool", 1) != 0
    // 0 or 1: the f32/bf16 decode products' software prefetch (default: this CPU's choice), for measuring it
    KernelLevel.streamPrefetch = try options.int("stream-prefetch", KernelLevel.streamPrefetch ? 1 : 0) != 0
    // 0: buffers of 4 MiB and more on ordinary 4 KiB pages instead of asking for 2 MiB ones (FloatBuffer.usesHugePages)
    FloatBuffer.usesHugePages = try options.int("huge-pages", 1) != 0
    // 0: OpenBLAS threads its own products instead of the pool splitting them (BLAS.splitsOverPool)
    if try options.int("blas-split", 1) == 0 { BLAS.splitsOverPool = false; BLAS.threads = Parallel.threads }
    var result: [String: Any]
    switch workload {
    case "machine": result = MachineProbe.run(options)
    case "w1": result = try TrainingWorkload.run(options, notebookMode: true)
    case "w2": result = try TrainingWorkload.run(options, notebookMode: false)
    case "w3": result = try GenerationWorkload.run(options)
    case "w4": result = try ScaleWorkload.run(options)
    default: throw BenchError("unknown workload '\(workload)'; \(usage)")
    }
    result["workload"] = workload
    result["peak_gib"] = peakResidentGiB()
    result["threads"] = Parallel.threads
    result["kernel_level"] = KernelLevel.process.description   // MEDREPL_ISA=avx2 gives the AVX2 figures
    result["blas_core"] = BLAS.coreName
    result["stream_prefetch"] = KernelLevel.streamPrefetch
    result["huge_pages"] = FloatBuffer.usesHugePages
    print(jsonLine(result))
} catch {
    FileHandle.standardError.write(Data("medrepl-bench \(workload): \(error)\n".utf8))
    exit(1)
}
