// A C interface over libsentencepiece, so no Swift target needs C++ interoperability.
#ifndef MEDREPL_SENTENCEPIECE_SHIM_H
#define MEDREPL_SENTENCEPIECE_SHIM_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct spm_processor spm_processor;

/// Loads a SentencePiece model file. Returns NULL on failure and writes a message into `error`.
spm_processor *spm_load(const char *path, char *error, size_t error_capacity);
/// Loads a model from serialized protobuf bytes.
spm_processor *spm_load_from_bytes(const void *bytes, size_t count, char *error, size_t error_capacity);
void spm_free(spm_processor *processor);

int32_t spm_vocab_size(const spm_processor *processor);
int32_t spm_bos_id(const spm_processor *processor);
int32_t spm_eos_id(const spm_processor *processor);
int32_t spm_unk_id(const spm_processor *processor);
int32_t spm_pad_id(const spm_processor *processor);

/// Encodes UTF-8 text into ids. Returns the number of ids, which may exceed `capacity`
/// (then call again with a larger buffer); -1 on error.
int32_t spm_encode(const spm_processor *processor, const char *text, size_t length,
                   int32_t *ids, int32_t capacity);
/// Decodes ids into UTF-8 text. Returns the byte count needed (without NUL), which may exceed
/// `capacity`; -1 on error. The output is NUL-terminated when it fits.
int32_t spm_decode(const spm_processor *processor, const int32_t *ids, int32_t count,
                   char *text, size_t capacity);
/// The piece of an id, copied into `piece` (NUL-terminated). Returns its byte length, or -1.
int32_t spm_id_to_piece(const spm_processor *processor, int32_t id, char *piece, size_t capacity);
/// The id of a piece, or the unknown id when absent.
int32_t spm_piece_to_id(const spm_processor *processor, const char *piece);
float spm_score(const spm_processor *processor, int32_t id);
/// 1 for control, 2 for unknown, 3 for byte, 4 for unused, 0 for normal pieces.
int32_t spm_piece_kind(const spm_processor *processor, int32_t id);

#ifdef __cplusplus
}
#endif
#endif
