/* tokenizer.h — a language model's tokenizer: SentencePiece-style BPE
 * ("llama": "▁" for spaces, merges by score or rank, <0xXX> byte
 * fallback) and byte-level BPE ("gpt2": GPT-2's byte-to-unicode map,
 * merges by rank, the pre-tokenization of GPT-2, LLaMA-3 or Qwen2), read
 * from GGUF tokenizer.ggml.* metadata or a Hugging Face tokenizer.json.
 * Core: never prints; errors name the file and the problem. */
#ifndef MP_TOKENIZER_H
#define MP_TOKENIZER_H

#include "model.h"
#include "mp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mp_tokenizer;

/* From the model: GGUF tokenizer.ggml.* metadata, else tokenizer.json in
 * the model's directory (Hugging Face). Error (MP_ENOENT) when it has
 * neither. */
mp_status mp_tokenizer_open(const struct mp_model *m, struct mp_tokenizer **out,
			    struct mp_error *err);
/* From a file: a tokenizer.json or a GGUF (a vocabulary-only one too). */
mp_status mp_tokenizer_open_file(const char *path, struct mp_tokenizer **out,
				 struct mp_error *err);
/* Encode UTF-8 text[0..len) without special tokens (BOS first only if
 * bos); *ids (malloc'd, the caller frees it; NULL when *n is 0). Bytes
 * that are not valid UTF-8 are encoded as single bytes (byte fallback
 * tokens, or the byte-level map), never refused. */
mp_status mp_tokenizer_encode(const struct mp_tokenizer *t, const char *text,
			      size_t len, bool bos, int32_t **ids, size_t *n,
			      struct mp_error *err);
/* The text of token id as stored in the vocabulary ("▁the", "Ġthe",
 * "<0x0A>"); NULL outside the vocabulary. */
const char *mp_tokenizer_piece(const struct mp_tokenizer *t, int32_t id);
/* "llama" or "gpt2", plus the pre-tokenizer for gpt2: "gpt2/gpt-2",
 * "gpt2/llama-bpe", "gpt2/qwen2". Static or owned by t. */
const char *mp_tokenizer_kind(const struct mp_tokenizer *t);
size_t mp_tokenizer_vocab_size(const struct mp_tokenizer *t);
/* NULL allowed. */
void mp_tokenizer_free(struct mp_tokenizer *t);

#endif
