import Foundation
import Testing
import Weights

@Suite struct ModelLocatorTests {
    let tmp = TempDir()

    func locator(_ env: [String: String] = [:]) -> ModelLocator {
        var l = ModelLocator(environment: ["HOME": tmp.file("home").path].merging(env) { $1 },
                             currentDirectory: tmp.url, executable: nil)
        l.showProgress = false
        return l
    }

    func makeSafetensorsFolder(_ dir: URL, extra: [String: Float] = [:]) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(#"{"architectures": ["LlamaForCausalLM"]}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        try Data("{}".utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        var w = SafetensorsWriter(metadata: ["format": "pt"])
        try w.add("model.norm.weight", shape: [2], floats: [1, 2])
        try w.write(to: dir.appendingPathComponent("model.safetensors"))
    }

    @Test func folderWithSafetensors() throws {
        let dir = tmp.file("tiny")
        try makeSafetensorsFolder(dir)
        let files = try locator().resolve("tiny")      // relative to the current folder
        #expect(files.format == .safetensors)
        #expect(files.configFile?.lastPathComponent == "config.json")
        #expect(files.weightFiles.map(\.lastPathComponent) == ["model.safetensors"])
        #expect(files.tokenizerFiles.keys.sorted() == ["tokenizer.json"])
        #expect(try files.tensorSource().floats("model.norm.weight") == [1, 2])
    }

    @Test func ggufFileAndFolderWithOneGGUF() throws {
        let dir = tmp.file("g")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.url("quants.gguf"), to: dir.appendingPathComponent("m.gguf"))
        let byFile = try locator().resolve(dir.appendingPathComponent("m.gguf").path)
        #expect(byFile.format == .gguf && byFile.ggufFile?.lastPathComponent == "m.gguf")
        let byFolder = try locator().resolve(dir.path)
        #expect(byFolder.ggufFile == byFile.ggufFile)
        #expect(try byFolder.tensorSource().tensorNames().contains("model.norm.weight"))
        try FileManager.default.copyItem(at: Fixtures.url("quants.gguf"), to: dir.appendingPathComponent("n.gguf"))
        expectWeightsError(file: dir.path, ["several .gguf"]) { _ = try locator().resolve(dir.path) }
    }

    @Test func badNamesAndFolders() throws {
        expectWeightsError(file: "no/such/thing", ["not a Hugging Face id"]) { _ = try locator().resolve("no/such/thing") }
        let empty = tmp.file("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        expectWeightsError(file: empty.path, ["not a model folder"]) { _ = try locator().resolve(empty.path) }
        var w = SafetensorsWriter()
        try w.add("x", shape: [1], floats: [1])
        try w.write(to: empty.appendingPathComponent("model.safetensors"))
        expectWeightsError(file: empty.path, ["config.json", "missing"]) { _ = try locator().resolve(empty.path) }
        #expect(ModelLocator.hubID("HuggingFaceTB/SmolLM2-135M-Instruct")! == ("HuggingFaceTB/SmolLM2-135M-Instruct", "main"))
        #expect(ModelLocator.hubID("a/b@v1.0")! == ("a/b", "v1.0"))
        #expect(ModelLocator.hubID("a/b/c") == nil && ModelLocator.hubID("../x") == nil && ModelLocator.hubID("a b/c") == nil)
    }

    @Test func defaultModelSearchOrder() throws {
        let a = tmp.file("dirA"), models = tmp.file("models")
        for d in [a, models] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        try FileManager.default.copyItem(at: Fixtures.url("quants.gguf"), to: models.appendingPathComponent("SmolLM2-135M-Instruct.Q8_0.gguf"))
        try FileManager.default.copyItem(at: Fixtures.url("quants.gguf"), to: models.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf"))
        // ./models/ is used, preferring Q4_1.
        #expect(try locator().resolve("smollm2").ggufFile?.lastPathComponent == "SmolLM2-135M-Instruct.Q4_1.gguf")
        // MEDREPL_MODEL_DIR comes first.
        try FileManager.default.copyItem(at: Fixtures.url("quants.gguf"), to: a.appendingPathComponent("SmolLM2-135M-Instruct.F16.gguf"))
        #expect(try locator(["MEDREPL_MODEL_DIR": a.path]).resolve("SmolLM2").ggufFile?.deletingLastPathComponent().lastPathComponent == "dirA")
        // Nowhere: the error lists the folders searched and what to do.
        try FileManager.default.removeItem(at: models)
        expectWeightsError(file: "smollm2", ["not found", tmp.file("models").path, "MEDREPL_MODEL_DIR"]) { _ = try locator().resolve("smollm2") }
    }

    @Test func defaultFoldersIncludeTheCheckoutOfABuiltExecutable() {
        let l = ModelLocator(environment: ["HOME": "/home/u", "MEDREPL_MODEL_DIR": "/m"], currentDirectory: URL(fileURLWithPath: "/work"),
                             executable: URL(fileURLWithPath: "/src/medrepl/.build/x86_64-unknown-linux-gnu/release/medrepl"))
        #expect(l.defaultModelFolders.map(\.path) == ["/m", "/work/models", "/src/medrepl/.build/models",
                                                      "/src/medrepl/models", "/home/u/.cache/medrepl/models"])
    }

    @Test func hubCacheLayout() throws {
        let cache = tmp.file("hf/hub")
        let repo = HubDownloader.repoFolder("ORG/NAME", cache: cache)
        #expect(repo.lastPathComponent == "models--ORG--NAME")
        let snapshot = repo.appendingPathComponent("snapshots/abc123")
        try makeSafetensorsFolder(snapshot)
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("refs"), withIntermediateDirectories: true)
        try Data("abc123\n".utf8).write(to: repo.appendingPathComponent("refs/main"))
        #expect(locator(["HF_HOME": tmp.file("hf").path]).hubCache.path == cache.path)
        #expect(locator(["HF_HUB_CACHE": cache.path, "HF_HOME": "/nowhere"]).hubCache.path == cache.path)
        #expect(locator().hubCache.path == tmp.file("home/.cache/huggingface/hub").path)
        // Cached: found even offline, with no server at all.
        let files = try locator(["HF_HOME": tmp.file("hf").path, "HF_HUB_OFFLINE": "1"]).resolve("ORG/NAME")
        #expect(files.directory.standardizedFileURL.path == snapshot.standardizedFileURL.path)
        #expect(files.format == .safetensors)
    }

    @Test func offlineAndUncachedSaysWhatToDo() {
        expectWeightsError(file: "ORG/MISSING", ["HF_HUB_OFFLINE", "not in the Hugging Face cache", "huggingface-cli download ORG/MISSING"]) {
            _ = try locator(["HF_HOME": tmp.file("hf").path, "HF_HUB_OFFLINE": "1"]).resolve("ORG/MISSING")
        }
    }
}
