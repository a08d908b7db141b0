import Foundation
import Testing
import Weights

/// Downloads from a loopback server with the hub's `/{repo}/resolve/{revision}/{file}` layout.
@Suite(.serialized) struct HubDownloadTests {
    let tmp = TempDir()
    let server: LoopbackHTTPServer
    let weights: Data

    init() throws {
        server = try LoopbackHTTPServer()
        var w = SafetensorsWriter(metadata: ["format": "pt"])
        // Just over 1 MiB, so that the progress bar is drawn for it.
        try w.add("model.embed_tokens.weight", shape: [64, 4200], floats: (0..<268_800).map { Float($0) / 7 })
        weights = w.serialized()
    }

    func locator(_ env: [String: String] = [:]) -> ModelLocator {
        let base = ["HOME": tmp.file("home").path, "HF_HOME": tmp.file("hf").path, "HF_ENDPOINT": server.baseURL]
        var l = ModelLocator(environment: base.merging(env) { $1 }, currentDirectory: tmp.url, executable: nil)
        l.showProgress = false
        return l
    }

    func publish(_ repo: String, sharded: Bool = false) throws {
        let root = "/\(repo)/resolve/main/"
        server.serve(root + "config.json", Data(#"{"architectures": ["LlamaForCausalLM"], "hidden_size": 100}"#.utf8))
        server.serve(root + "tokenizer.json", Data(#"{"model": {"type": "BPE"}}"#.utf8))
        if sharded {
            var a = SafetensorsWriter(), b = SafetensorsWriter()
            try a.add("model.norm.weight", shape: [2], floats: [1, 2])
            try b.add("lm_head.weight", shape: [1, 2], floats: [3, 4])
            server.serve(root + "model-1.safetensors", a.serialized())
            server.serve(root + "model-2.safetensors", b.serialized())
            server.serve(root + "model.safetensors.index.json", Data(#"{"weight_map": {"model.norm.weight": "model-1.safetensors", "lm_head.weight": "model-2.safetensors"}}"#.utf8))
        } else {
            server.serve(root + "model.safetensors", weights)
        }
    }

    @Test func downloadsIntoTheCacheLayoutAndThenUsesTheCache() throws {
        try publish("ORG/NAME")
        let files = try locator().resolve("ORG/NAME")
        #expect(files.format == .safetensors)
        let snapshot = tmp.file("hf/hub/models--ORG--NAME/snapshots/\(server.commit)")
        #expect(files.directory.standardizedFileURL.path == snapshot.standardizedFileURL.path)
        #expect(try String(contentsOf: tmp.file("hf/hub/models--ORG--NAME/refs/main"), encoding: .utf8) == server.commit)
        #expect(try Data(contentsOf: snapshot.appendingPathComponent("model.safetensors")) == weights)
        #expect(files.tokenizerFiles["tokenizer.json"] != nil)
        #expect(try files.tensorSource().shape(of: "model.embed_tokens.weight") == [64, 4200])
        // No token was configured, so none was sent; optional files that 404 were simply skipped.
        #expect(server.requests.allSatisfy { $0.headers["authorization"] == nil })
        #expect(server.requests.contains { $0.path.hasSuffix("/generation_config.json") })
        #expect(!FileManager.default.fileExists(atPath: snapshot.appendingPathComponent("generation_config.json").path))

        // Second time: from the cache, no request at all (even offline).
        let before = server.requests.count
        _ = try locator(["HF_HUB_OFFLINE": "1"]).resolve("ORG/NAME")
        #expect(server.requests.count == before)
    }

    @Test func shardedCheckpoint() throws {
        try publish("ORG/SHARDED", sharded: true)
        let files = try locator().resolve("ORG/SHARDED")
        #expect(files.safetensorsIndex != nil)
        let source = try files.tensorSource()
        #expect(source.tensorNames() == ["lm_head.weight", "model.norm.weight"])
        #expect(try source.floats("lm_head.weight") == [3, 4])
    }

    @Test func resumesATruncatedPartialWithARangeRequest() throws {
        try publish("ORG/RESUME")
        let path = "/ORG/RESUME/resolve/main/model.safetensors"
        // First attempt: the connection drops after 10,000 bytes; the partial is kept and the error says so.
        server.cutNextResponse(path, after: 10_000)
        expectWeightsError(file: path, ["resume"]) { _ = try locator().resolve("ORG/RESUME") }
        let partial = tmp.file("hf/hub/models--ORG--RESUME/snapshots/.download-main/model.safetensors.incomplete")
        let kept = try Data(contentsOf: partial)
        #expect(kept.count == 10_000 && kept == weights.prefix(10_000))

        // Second attempt asks only for the rest, and the assembled file is exact (with a progress bar on
        // standard error, so that path runs too).
        var withBar = locator()
        withBar.showProgress = true
        let files = try withBar.resolve("ORG/RESUME")
        let ranges = server.requests.filter { $0.path == path }.map { $0.headers["range"] }
        #expect(ranges == [nil, "bytes=10000-"])
        #expect(try Data(contentsOf: files.weightFiles[0]) == weights)
        #expect(!FileManager.default.fileExists(atPath: partial.path))
        #expect(try files.tensorSource().floats("model.embed_tokens.weight")[268_799] == Float(268_799) / 7)
    }

    @Test func aPartialLongerThanTheFileStartsOver() throws {
        try publish("ORG/STALE")
        let staging = tmp.file("hf/hub/models--ORG--STALE/snapshots/.download-main")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        try Data(count: weights.count + 10).write(to: staging.appendingPathComponent("model.safetensors.incomplete"))
        let files = try locator().resolve("ORG/STALE")
        #expect(try Data(contentsOf: files.weightFiles[0]) == weights)
    }

    @Test func tokenIsSentAndNeverShown() throws {
        try publish("ORG/GATED")
        let secret = "hf_abcdefghijklmnopqrstuvwxyz0123456789"
        server.requiredToken = secret
        // Without a token: 401 with advice.
        do {
            _ = try locator().resolve("ORG/GATED")
            Issue.record("expected a 401 error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("401") && text.contains("HF_TOKEN") && text.contains("login"), "\(text)")
        }
        // A wrong token: 401, and the message does not contain it.
        do {
            _ = try locator(["HF_TOKEN": "hf_wrongwrongwrong"]).resolve("ORG/GATED")
            Issue.record("expected a 401 error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("401") && !text.contains("hf_wrong"), "\(text)")
        }
        let files = try locator(["HF_TOKEN": secret]).resolve("ORG/GATED")
        #expect(files.format == .safetensors)
        #expect(server.requests.last?.headers["authorization"] == "Bearer \(secret)")
    }

    @Test func missingRepositoryIs404WithAClearMessage() throws {
        expectWeightsError(file: "ORG/NOPE@main", ["config.json", "not found", "repository name"]) {
            _ = try locator().resolve("ORG/NOPE")
        }
        // Config but no safetensors weights.
        server.serve("/ORG/BIN/resolve/main/config.json", Data("{}".utf8))
        expectWeightsError(file: "ORG/BIN@main", ["model.safetensors", "neither"]) { _ = try locator().resolve("ORG/BIN") }
    }

    @Test func unreachableNetworkIsAClearMessage() {
        // Port 1 on the loopback: nothing listens, the connection is refused at once.
        expectWeightsError(file: "http://127.0.0.1:1/ORG/NAME/resolve/main/config.json", ["cannot reach", "HF_HUB_OFFLINE"]) {
            _ = try locator(["HF_ENDPOINT": "http://127.0.0.1:1"]).resolve("ORG/NAME")
        }
    }
}
