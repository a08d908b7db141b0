// swift-tools-version:5.9
// medrepl: LoRA fine-tuning of Llama-family models on medical QA, on a CPU.
//
// Module layout (one concept per module; the engine never depends on the language or the shell, and the
// language, the format and the exercises never on the engine):
//   CBLAS, CEditLine            system libraries found through pkg-config
//   CSentencePiece              C++ shim with a C interface over libsentencepiece
//   CKernels                    small C kernels (bf16 conversion, cpuid, matrix-vector, thread pool, dropout, exp, bf16 GEMM,
//                               ggml block quantization and its products)
//   Support                     atomic files and folders, plain file-system errors, JSON writing, byte and
//                               count formatting, progress bars, available memory, settings tables,
//                               closest-name suggestions (Foundation only)
//   Kernels                     buffers, weight matrices, BLAS, CPU and BLAS health
//   Weights                     safetensors and GGUF readers/writers, model resolution
//   Tokenizers                  SentencePiece, byte-level BPE, chat templates
//   Llama                       config, weights, forward pass, KV cache, generation
//   Training                    LoRA, backward pass, AdamW, trainer, PEFT adapters
//   Datasets                    JSON/JSONL QA datasets, select/shuffle/map/filter
//   Evaluation                  the notebook's protocol, matchers, intervals
//   Language                    the command language: lexer, parser, values, verbs and the registry, sessions, help
//   NotebookFormat              the .mednb document, its runner, output matching, volatile text, Markdown export
//   Exercises                   grading, student copies, written-answer rubrics
//   Notebook                    live engine objects and the verbs that drive the engine (Registry.standard())
//   Shell                       the libedit shell
//   medrepl                     the executable
//   TestSupport                 the repository's paths for the test targets (root, ../shared, the SmolLM2 GGUF),
//                               the seeded generator of the random-input tests
//
// Each target's dependencies are exactly the modules of this package its Swift files import
// (SupportTests/PackageManifestTests checks it).
import PackageDescription

// A binary built on one x86-64 machine runs on another (see CONTRIBUTING.md, "CPUs"):
// - CKernels is built for baseline x86-64; each kernel carries AVX2, AVX-512 and AVX512-BF16 code behind
//   per-function target attributes and picks one per call from CPUID (MEDREPL_ISA lowers it).
// - Swift code is built for x86-64-v3 (-target-cpu haswell: AVX2, FMA, F16C, BMI2), which every CPU
//   medrepl is meant for has: its loops (RMSNorm, RoPE, AdamW, ...) are memory-bound, so AVX-512 gained
//   nothing measurable there (CONTRIBUTING.md has the figures), while -target-cpu native would let a build on an AVX-512 machine stop with SIGILL on an
//   AVX2 one. A CPU without x86-64-v3 gets a sentence and exit code 70 from cpu.c at start-up instead.
#if arch(x86_64)
let nativeSwift: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
let nativeC: [CSetting] = [.unsafeFlags(["-O3"]), .define("MK_SWIFT_NEEDS_X86_64_V3")]
#else
let nativeSwift: [SwiftSetting] = []
let nativeC: [CSetting] = [.unsafeFlags(["-O3"])]
#endif

let package = Package(
    name: "medrepl",
    products: [
        .executable(name: "medrepl", targets: ["medrepl"]),
        .executable(name: "medrepl-bench", targets: ["MedreplBench"]),
        .executable(name: "medrepl-fuzz", targets: ["MedreplFuzz"]),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CEditLine", path: "Sources/CEditLine", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .target(name: "CSentencePiece", path: "Sources/CSentencePiece",
                cxxSettings: [.unsafeFlags(["-std=c++17"])],
                linkerSettings: [.linkedLibrary("sentencepiece"), .linkedLibrary("stdc++")]),
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: nativeC),

        .target(name: "Support", swiftSettings: nativeSwift),
        .target(name: "Kernels", dependencies: ["CBLAS", "CKernels"], swiftSettings: nativeSwift),
        .target(name: "Weights", dependencies: ["CKernels", "Kernels", "Support"], swiftSettings: nativeSwift),
        .target(name: "Tokenizers", dependencies: ["CSentencePiece", "Support", "Weights"], swiftSettings: nativeSwift),
        .target(name: "Llama", dependencies: ["CKernels", "Kernels", "Support", "Tokenizers", "Weights"], swiftSettings: nativeSwift),
        .target(name: "Training", dependencies: ["CKernels", "Kernels", "Llama", "Support", "Tokenizers", "Weights"],
                swiftSettings: nativeSwift),
        .target(name: "Datasets", dependencies: ["Support", "Weights"], swiftSettings: nativeSwift),
        .target(name: "Evaluation", dependencies: ["Datasets", "Llama", "Support"], swiftSettings: nativeSwift),
        .target(name: "Language", dependencies: ["Support"], swiftSettings: nativeSwift),
        .target(name: "NotebookFormat", dependencies: ["Language", "Support"], swiftSettings: nativeSwift),
        .target(name: "Exercises", dependencies: ["Language", "NotebookFormat", "Support"], swiftSettings: nativeSwift),
        .target(name: "Notebook", dependencies: ["Datasets", "Evaluation", "Exercises", "Kernels", "Language", "Llama", "NotebookFormat",
                                                 "Support", "Tokenizers", "Training", "Weights"],
                swiftSettings: nativeSwift),
        .target(name: "Shell", dependencies: ["CEditLine", "Exercises", "Kernels", "Language", "Notebook", "NotebookFormat", "Support"],
                swiftSettings: nativeSwift),
        .executableTarget(name: "medrepl", dependencies: ["Kernels", "Shell"], swiftSettings: nativeSwift),
        // The benchmark's medrepl side (tools/bench/run.sh): the engine only, one workload per process.
        .executableTarget(name: "MedreplBench", dependencies: ["CKernels", "Datasets", "Kernels", "Llama", "Tokenizers", "Training"],
                          swiftSettings: nativeSwift),
        // Fuzz targets for every parser (tools/fuzz/run.sh builds them with libFuzzer; the tests replay their findings).
        .target(name: "FuzzTargets", dependencies: ["Datasets", "Language", "Llama", "Notebook", "NotebookFormat", "TestSupport", "Tokenizers",
                                                    "Training", "Weights"],
                path: "tools/fuzz/FuzzTargets", swiftSettings: nativeSwift),
        .executableTarget(name: "MedreplFuzz", dependencies: ["FuzzTargets"], path: "tools/fuzz/medrepl-fuzz",
                          swiftSettings: nativeSwift),

        // Test code only: the test targets (and the fuzz targets, which read the test fixtures) depend on it.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SupportTests", dependencies: ["Support", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["CEditLine", "CKernels", "CSentencePiece", "Kernels", "TestSupport"]),
        .testTarget(name: "WeightsTests", dependencies: ["CKernels", "Kernels", "Support", "TestSupport", "Weights"], exclude: ["Fixtures"]),
        .testTarget(name: "TokenizersTests", dependencies: ["TestSupport", "Tokenizers", "Weights"]),
        .testTarget(name: "LlamaTests", dependencies: ["Kernels", "Llama", "TestSupport", "Tokenizers", "Weights"]),
        .testTarget(name: "TrainingTests", dependencies: ["Kernels", "Llama", "TestSupport", "Training", "Weights"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Support", "TestSupport", "Weights"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Datasets", "Evaluation", "Llama", "Support", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "TestSupport"]),
        .testTarget(name: "LanguageTests", dependencies: ["Language"]),
        .testTarget(name: "NotebookFormatTests", dependencies: ["NotebookFormat", "TestSupport"]),
        .testTarget(name: "ExercisesTests", dependencies: ["Exercises", "Language", "NotebookFormat", "TestSupport"]),
        .testTarget(name: "NotebookTests", dependencies: ["Datasets", "Evaluation", "Exercises", "Kernels", "Language", "Llama", "Notebook",
                                                          "NotebookFormat", "Shell", "Support", "TestSupport", "Tokenizers", "Training",
                                                          "Weights"], exclude: ["Fixtures"]),
    ]
)
