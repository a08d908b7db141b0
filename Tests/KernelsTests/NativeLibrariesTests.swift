import CEditLine
import CSentencePiece
import Foundation
import Kernels
import TestSupport
import Testing

/// The three native libraries are reachable from Swift and behave.
@Suite struct NativeLibrariesTests {
    @Test func cblasMultipliesKnownMatrices() {
        // [2, 3] · [3, 2] = [[58, 64], [139, 154]]
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let b: [Float] = [7, 8, 9, 10, 11, 12]
        var c = [Float](repeating: -1, count: 4)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(m: 2, n: 2, k: 3, a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                }
            }
        }
        #expect(c == [58, 64, 139, 154])
        // Transposed B, as nn.Linear stores its weight: [n, k].
        let bt: [Float] = [7, 9, 11, 8, 10, 12]
        a.withUnsafeBufferPointer { pa in
            bt.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(transB: true, m: 2, n: 2, k: 3, a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                }
            }
        }
        #expect(c == [58, 64, 139, 154])
        #expect(!BLAS.coreName.isEmpty)
        #expect(BLAS.configuration.contains("OpenBLAS"))
    }

    @Test(.enabled(if: Repository.sharedIsPresent, "../shared is absent"))
    func sentencePieceRoundTrip() throws {
        let path = Repository.sharedFolder.appendingPathComponent("tokenizers/llama2-tokenizer.model").path
        var error = [CChar](repeating: 0, count: 512)
        let processor = try #require(spm_load(path, &error, error.count))
        defer { spm_free(processor) }
        #expect(spm_vocab_size(processor) == 32000)
        #expect(spm_bos_id(processor) == 1)
        #expect(spm_eos_id(processor) == 2)
        let text = "The patient was given 5 mg of warfarin."
        var ids = [Int32](repeating: 0, count: 128)
        let n = Int(spm_encode(processor, text, text.utf8.count, &ids, Int32(ids.count)))
        #expect(n > 5 && n < 40)
        var out = [CChar](repeating: 0, count: 512)
        let bytes = spm_decode(processor, ids, Int32(n), &out, out.count)
        #expect(Int(bytes) == text.utf8.count)
        #expect(String(cString: out) == text)
        var piece = [CChar](repeating: 0, count: 64)
        #expect(spm_id_to_piece(processor, 1, &piece, piece.count) == 3)
        #expect(String(cString: piece) == "<s>")
        #expect(spm_piece_to_id(processor, "<s>") == 1)
        #expect(spm_piece_kind(processor, 1) == 1)   // control
    }

    @Test func sentencePieceReportsAMissingFile() {
        var error = [CChar](repeating: 0, count: 512)
        let processor = spm_load("/nonexistent/tokenizer.model", &error, error.count)
        #expect(processor == nil)
        #expect(!String(cString: error).isEmpty)
    }

    @Test func libeditHistoryAPI() throws {
        using_history()
        clear_history()
        add_history("load model smollm2")
        add_history("train")
        #expect(history_length == 2)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-history-\(getpid())").path
        defer { unlink(file) }
        #expect(write_history(file) == 0)
        clear_history()
        #expect(history_length == 0)
        #expect(read_history(file) == 0)
        #expect(history_length == 2)
        let contents = try String(contentsOfFile: file, encoding: .utf8)
        #expect(contents.contains("train"))
    }
}
