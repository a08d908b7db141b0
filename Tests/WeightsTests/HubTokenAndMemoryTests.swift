import Foundation
import Testing
import Weights
import Kernels

@Suite struct HubTokenTests {
    let tmp = TempDir()

    @Test func environmentFirstThenStoredFile() throws {
        let env = ["HOME": tmp.file("home").path]
        #expect(HubToken.resolve(environment: env) == nil)
        let url = try HubToken.store("hf_storedtoken123", environment: env)
        #expect(url.path == tmp.file("home/.cache/huggingface/token").path)
        #expect(HubToken.resolve(environment: env)?.value == "hf_storedtoken123")
        #expect(HubToken.resolve(environment: env.merging(["HF_TOKEN": "hf_fromenv"]) { $1 })?.value == "hf_fromenv")
        // HF_HOME moves the stored token.
        let hfHome = ["HOME": tmp.file("home").path, "HF_HOME": tmp.file("hf").path]
        #expect(HubToken.resolve(environment: hfHome) == nil)
        try HubToken.store("hf_other", environment: hfHome)
        #expect(HubToken.resolve(environment: hfHome)?.value == "hf_other")
        #expect(FileManager.default.fileExists(atPath: tmp.file("hf/token").path))
    }

    @Test func storedWithMode0600AndNeverPrinted() throws {
        let env = ["HOME": tmp.file("home").path]
        let secret = "hf_XyZzYSECRETsecret"
        let url = try HubToken.store(secret, environment: env)
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as! NSNumber
        #expect(mode.intValue & 0o777 == 0o600)
        let token = HubToken.resolve(environment: env)!
        var dumped = ""
        dump(token, to: &dumped)
        for text in ["\(token)", String(describing: token), String(reflecting: token), token.redacted, "\([token])", dumped] {
            #expect(!text.contains("SECRET") && !text.contains("XyZ") && !text.contains("secret"), "\(text)")
        }
        #expect(token.description.contains("\(secret.count) characters"))
        #expect(throws: WeightsError.self) { try HubToken.store("has space", environment: env) }
        #expect(throws: WeightsError.self) { try HubToken.store("  ", environment: env) }
    }
}

@Suite struct WeightMemoryTests {
    let meminfo = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    2000000 kB\n"

    @Test func estimatesAndChecks() throws {
        #expect(WeightMemory.bytes(parameters: 1_100_048_384, storage: .f32) == 4_400_193_536)
        #expect(WeightMemory.bytes(parameters: 1_100_048_384, storage: .bf16) == 2_200_096_768)
        #expect(try WeightMemory.check(parameters: 134_515_008, storage: .f32, what: "SmolLM2", meminfo: meminfo) == 538_060_032)
        expectWeightsError(file: "TinyLlama", ["memory", "1,100,048,384 parameters in f32", "dtype=bf16", "available"]) {
            try WeightMemory.check(parameters: 1_100_048_384, storage: .f32, what: "TinyLlama", meminfo: meminfo)
        }
        expectWeightsError(file: "TinyLlama", ["working memory"]) {
            try WeightMemory.check(parameters: 1_100_048_384, storage: .bf16, extraBytes: 1 << 30, what: "TinyLlama", meminfo: meminfo)
        }
    }
}
