#include "sentencepiece_shim.h"
#include <sentencepiece_processor.h>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

struct spm_processor {
    sentencepiece::SentencePieceProcessor impl;
};

static void copy_message(const std::string &message, char *error, size_t capacity) {
    if (!error || capacity == 0) return;
    size_t n = message.size() < capacity - 1 ? message.size() : capacity - 1;
    std::memcpy(error, message.data(), n);
    error[n] = 0;
}

// libsentencepiece reports most bad models through its status, but some through C++ exceptions (its
// double-array trie throws on an empty piece, found by tools/fuzz's sentencepiece target): no exception may
// cross into Swift, where it would end the process, so every entry point catches them and fails instead.
#define SPM_CATCH(fail) catch (...) { fail; }

/// Loads with `load` (a status-returning call on a fresh processor); nullptr and a message on failure.
template <typename Load>
static spm_processor *load_processor(Load load, char *error, size_t error_capacity) {
    try {
        auto p = std::make_unique<spm_processor>();
        auto status = load(p->impl);
        if (!status.ok()) {
            copy_message(status.ToString(), error, error_capacity);
            return nullptr;
        }
        return p.release();
    } catch (const std::exception &e) {
        // "./third_party/darts_clone/darts.h:1143: exception: failed to insert key: zero-length key": keep what
        // went wrong, not where in the library.
        std::string what = e.what();
        auto at = what.rfind("exception: ");
        if (at != std::string::npos) what = what.substr(at + 11);
        if (what.find("zero-length key") != std::string::npos) what = "a piece is empty (each piece needs at least one character)";
        copy_message("the library stopped reading it: " + what, error, error_capacity);
    } catch (...) {
        copy_message("the library stopped reading it", error, error_capacity);
    }
    return nullptr;
}

extern "C" spm_processor *spm_load(const char *path, char *error, size_t error_capacity) {
    return load_processor([&](sentencepiece::SentencePieceProcessor &impl) { return impl.Load(path); }, error, error_capacity);
}

extern "C" spm_processor *spm_load_from_bytes(const void *bytes, size_t count, char *error, size_t error_capacity) {
    return load_processor([&](sentencepiece::SentencePieceProcessor &impl) {
        return impl.LoadFromSerializedProto(std::string(static_cast<const char *>(bytes), count));
    }, error, error_capacity);
}

extern "C" void spm_free(spm_processor *p) { delete p; }
extern "C" int32_t spm_vocab_size(const spm_processor *p) { return p->impl.GetPieceSize(); }
extern "C" int32_t spm_bos_id(const spm_processor *p) { return p->impl.bos_id(); }
extern "C" int32_t spm_eos_id(const spm_processor *p) { return p->impl.eos_id(); }
extern "C" int32_t spm_unk_id(const spm_processor *p) { return p->impl.unk_id(); }
extern "C" int32_t spm_pad_id(const spm_processor *p) { return p->impl.pad_id(); }

extern "C" int32_t spm_encode(const spm_processor *p, const char *text, size_t length, int32_t *ids, int32_t capacity) {
    std::vector<int> out;
    try {
        if (!p->impl.Encode(std::string(text, length), &out).ok()) return -1;
    } SPM_CATCH(return -1)
    int32_t n = static_cast<int32_t>(out.size());
    for (int32_t i = 0; i < n && i < capacity; i++) ids[i] = out[i];
    return n;
}

extern "C" int32_t spm_decode(const spm_processor *p, const int32_t *ids, int32_t count, char *text, size_t capacity) {
    std::vector<int> in(ids, ids + count);
    std::string out;
    try {
        if (!p->impl.Decode(in, &out).ok()) return -1;
    } SPM_CATCH(return -1)
    if (text && capacity > 0) {
        size_t n = out.size() < capacity - 1 ? out.size() : capacity - 1;
        std::memcpy(text, out.data(), n);
        text[n] = 0;
    }
    return static_cast<int32_t>(out.size());
}

extern "C" int32_t spm_id_to_piece(const spm_processor *p, int32_t id, char *piece, size_t capacity) {
    if (id < 0 || id >= p->impl.GetPieceSize()) return -1;
    const std::string &s = p->impl.IdToPiece(id);
    if (piece && capacity > 0) {
        size_t n = s.size() < capacity - 1 ? s.size() : capacity - 1;
        std::memcpy(piece, s.data(), n);
        piece[n] = 0;
    }
    return static_cast<int32_t>(s.size());
}

extern "C" int32_t spm_piece_to_id(const spm_processor *p, const char *piece) { return p->impl.PieceToId(piece); }
extern "C" float spm_score(const spm_processor *p, int32_t id) {
    return id < 0 || id >= p->impl.GetPieceSize() ? 0 : p->impl.GetScore(id);
}
extern "C" int32_t spm_piece_kind(const spm_processor *p, int32_t id) {
    if (id < 0 || id >= p->impl.GetPieceSize()) return 0;
    if (p->impl.IsControl(id)) return 1;
    if (p->impl.IsUnknown(id)) return 2;
    if (p->impl.IsByte(id)) return 3;
    if (p->impl.IsUnused(id)) return 4;
    return 0;
}
