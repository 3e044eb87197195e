/* gguf_names.h — tensor names across conventions: llama.cpp's GGUF names
 * ("blk.0.attn_q.weight") and the Hugging Face names they were converted
 * from ("model.layers.0.self_attn.q_proj.weight"), from data/gguf_names.json;
 * and llama.cpp's row permutation of the Q and K matrices (rotary
 * embeddings), which comparison undoes. */
#ifndef MP_GGUF_NAMES_H
#define MP_GGUF_NAMES_H

#include "mp.h"

#define MP_GGUF_NAME_MAX 256 /* longest name an alias is written for */
#define MP_GGUF_ALIAS_MAX 8  /* most aliases of one name */

struct mp_gguf_names;

/* Load a mapping file (JSON, at most 1 MiB). Errors name the file, the
 * architecture and the problem. */
mp_status mp_gguf_names_load(const char *path, struct mp_gguf_names **out,
			     struct mp_error *err);
void mp_gguf_names_free(struct mp_gguf_names *t);

/* The installed gguf_names.json (the data directory, else the source
 * tree's data/), loaded once per process and kept; NULL when neither
 * exists or it does not load. Thread-safe. */
const struct mp_gguf_names *mp_gguf_names_default(void);

/* The names name has in the other convention (GGUF -> Hugging Face, or
 * Hugging Face -> GGUF), suffix (.weight, .bias) kept, without repeats,
 * up to MP_GGUF_ALIAS_MAX of them written to out; returns how many. Under
 * architecture arch's names when the mapping knows arch and has some
 * for name (Gemma 2's ffn_norm is pre_feedforward_layernorm, LLaMA's
 * post_attention_layernorm), else under every architecture's. *qk
 * (may be NULL) is 'q' or 'k' when name is a Q or K projection of an
 * architecture whose converter permutes them, else 0. */
size_t mp_gguf_names_alias(const struct mp_gguf_names *t, const char *arch,
			   const char *name, char out[][MP_GGUF_NAME_MAX],
			   int *qk);

/* 'q' or 'k' when name (GGUF form, ".weight") is a Q or K projection
 * matrix that llama.cpp's converter permutes for GGUF architecture arch
 * (general.architecture), else 0 (also when t, arch or name is NULL). */
int mp_gguf_names_permuted(const struct mp_gguf_names *t, const char *arch,
			   const char *name);

/* Whether the mapping has names for GGUF architecture arch (false when t
 * or arch is NULL). */
bool mp_gguf_names_knows(const struct mp_gguf_names *t, const char *arch);

/* What llama.cpp's converter added to the values of tensor name (GGUF
 * form, ".weight") for GGUF architecture arch: the architecture's
 * "norm_offset" for a norm (a GGUF name ending "_norm"; Gemma's norms
 * are stored as 1 + w), else 0 (also when t, arch or name is NULL). */
double mp_gguf_names_offset(const struct mp_gguf_names *t, const char *arch,
			    const char *name);

/* Whether tensor name (GGUF form, ".weight") of GGUF architecture arch
 * is stored as the transpose of its Hugging Face original (the
 * architecture's "transposed" list: GPT-2's Conv1D weights, which the
 * Hugging Face checkpoint holds input-first); false when t, arch or name
 * is NULL. */
bool mp_gguf_names_transposed(const struct mp_gguf_names *t,
			      const char *arch, const char *name);

/* The offset in the transpose (cols x rows) of element off of a rows x
 * cols matrix: element (i, j) of the one is (j, i) of the other. */
uint64_t mp_gguf_transposed_off(uint64_t off, uint64_t rows, uint64_t cols);

/* find(ctx, alias) for each alias of name under the default mapping
 * (architecture arch, as mp_gguf_names_alias), in order: the first
 * result >= 0, else -1 (the lookup of a name across the two conventions,
 * for the indexes of models and fingerprints; arch the searched one's,
 * mp_gguf_names_arch_of). */
long mp_gguf_names_find(const char *name, const char *arch,
			long (*find)(const void *ctx, const char *name),
			const void *ctx);

struct mp_names;
/* The architecture whose names a model or fingerprint with tensor names
 * `names` and general.architecture `declared` (may be NULL) is read
 * under: declared when the mapping knows it; else, by its names (in
 * Hugging Face form, or in GGUF form without a declaration; those of no
 * layer and of layer 0, which the other layers repeat), the
 * architecture whose templates cover most of them, then leave fewest of
 * its own templates unused, then comes first in the file; NULL when
 * none covers any (the mapping's copy of the name: static). */
const char *mp_gguf_names_arch_of(const struct mp_gguf_names *t,
				  const char *declared,
				  const struct mp_names *names);

/* True when name is in GGUF form (starts "blk.N." or is a GGUF global:
 * token_embd, output, output_norm, position_embd). */
bool mp_gguf_names_is_gguf(const char *name);

/* Row of the converted (permuted) matrix holding row r of the original,
 * for llama.cpp's permute(W, heads): rows viewed as (heads, 2, rows/heads/2)
 * with the last two axes swapped. rows % (2 * heads) == 0. */
uint64_t mp_gguf_qk_row(uint64_t r, uint64_t rows, uint64_t heads);

/* Element of the converted matrix (rows x cols) holding element off of
 * the original under permute(W, heads): mp_gguf_qk_row of its row. */
uint64_t mp_gguf_qk_off(uint64_t off, uint64_t rows, uint64_t cols,
			uint64_t heads);

struct mp_model;
struct mp_meta;
struct mp_tensor;
/* Whether tensor ta of model a and tb of b pair by shape, as compare,
 * identify and lineage pair them: the same shape (mp_metric_shapes_match),
 * or one in GGUF naming whose model's architecture (general.architecture)
 * stores it as the transpose of its Hugging Face original
 * (mp_gguf_names_transposed) and the other in Hugging Face naming with
 * the reversed shape; *transposed (may be NULL) says it is the latter. */
bool mp_gguf_shapes_pair(const struct mp_model *a, const struct mp_tensor *ta,
			 const struct mp_model *b, const struct mp_tensor *tb,
			 bool *transposed);

/* The attention head counts that metadata meta[0..n) gives
 * (<general.architecture>.attention.head_count and .head_count_kv, as GGUF
 * files give them); *kv = *q when only *q is known. False (both 0) when
 * it does not say. */
bool mp_gguf_meta_heads(const struct mp_meta *meta, size_t n, uint64_t *q,
			uint64_t *kv);

/* The attention head counts of model m: from its metadata
 * (<general.architecture>.attention.head_count and .head_count_kv, as GGUF
 * files give them), else from config.json in its directory
 * (num_attention_heads, num_key_value_heads); *kv = *q when only *q is
 * known. False (both 0) when neither says. */
bool mp_gguf_heads(const struct mp_model *m, uint64_t *q, uint64_t *kv);

#endif
