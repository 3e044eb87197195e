/* llm.h — the forward pass of a causal language model in float32: its
 * configuration (config.json beside a Hugging Face model, GGUF metadata,
 * or a llama2.c header) and its logits for token id sequences. Families:
 * LLaMA (and Mistral, TinyLlama, SmolLM), Qwen2, Gemma, Phi-3, GPT-2.
 * A struct mp_llm borrows its model, which must outlive it. */
#ifndef MP_LLM_H
#define MP_LLM_H

#include "mp.h"

#include <stddef.h>
#include <stdint.h>

struct mp_model;

enum mp_llm_arch {
	MP_LLM_LLAMA,
	MP_LLM_QWEN2,
	MP_LLM_GEMMA,
	MP_LLM_PHI3,
	MP_LLM_GPT2,
};

enum mp_llm_rope_scaling {
	MP_ROPE_NONE,
	MP_ROPE_LINEAR,	  /* positions divided by factor */
	MP_ROPE_LLAMA3,	  /* Llama 3.1's per-frequency smooth scaling */
	MP_ROPE_YARN,	  /* YaRN: interpolation ramped by beta_fast/slow */
	MP_ROPE_LONGROPE, /* Phi-3: per-frequency divisors, short or long */
};

#define MP_LLM_ROPE_MAX 256 /* most rotary frequencies (rope_dim / 2) */

struct mp_llm_config {
	enum mp_llm_arch arch;
	int64_t dim, hidden, layers, heads, kv_heads, head_dim, vocab, ctx;
	/* Components of each head the rotary embedding turns (the first
	 * rope_dim; 0 until read: head_dim). */
	int64_t rope_dim;
	double eps;   /* RMSNorm / LayerNorm epsilon */
	double theta; /* rotary base */
	enum mp_llm_rope_scaling scaling;
	double factor, low_freq, high_freq, orig_ctx; /* rope_scaling */
	double beta_fast, beta_slow; /* yarn's ramp, in rotations */
	/* Scale of the rotated q and k (yarn's mscale, longrope's attention
	 * factor; 1 without scaling). */
	double attn_factor;
	/* longrope's frequency divisors [rope_dim / 2]: short for sequences
	 * of at most orig_ctx tokens, long beyond (config.json; GGUF files
	 * carry them as the rope_factors_short/long.weight tensors, which
	 * mp_llm_open reads into them). */
	double short_f[MP_LLM_ROPE_MAX], long_f[MP_LLM_ROPE_MAX];
	/* Rotary rotates adjacent pairs (2i, 2i+1) (llama2.c, and GGUF LLaMA
	 * whose Q/K rows llama.cpp permuted) rather than HF's halves (i,
	 * i + head_dim/2). */
	bool rope_interleaved;
	/* Gemma's RMSNorm scales by 1 + w (Hugging Face weights; llama.cpp
	 * adds the 1 to the stored weights when converting). */
	bool norm_plus_one;
};

/* The configuration of model m: GGUF-style metadata (<arch>.* keys, as
 * GGUF and llama2.c files give them) when present, else config.json in the
 * model's directory. Errors: not a causal LM of a supported family
 * (MP_ENOTAPPLIC: no such metadata nor config.json, or another
 * architecture), a missing or invalid hyper-parameter, an unsupported
 * rope_scaling. */
mp_status mp_llm_config_read(const struct mp_model *m, struct mp_llm_config *c,
			     struct mp_error *err);

struct mp_llm;

/* Prepare model m for the forward pass: reads its configuration and
 * checks every weight the pass needs is present with the shape the
 * configuration implies (errors name the model, the tensor and both
 * shapes). */
mp_status mp_llm_open(const struct mp_model *m, struct mp_llm **out,
		      struct mp_error *err);

/* The configuration llm was opened with (borrowed). */
const struct mp_llm_config *mp_llm_cfg(const struct mp_llm *llm);

/* Logits of nseq sequences at once (weights are decoded once per call):
 * sequence s is ids[off[s] .. off[s+1]) (off[0] = 0, each at least one
 * token, all ids < vocab). With all false out is [nseq][vocab], the logits
 * at each sequence's last position; with all true [off[nseq]][vocab], at
 * every position. Errors: an id out of range, an empty sequence, a
 * sequence longer than the context, out of memory. */
mp_status mp_llm_forward(struct mp_llm *llm, const int32_t *ids,
			 const size_t *off, size_t nseq, int all, float *out,
			 struct mp_error *err);

/* Threads the forward pass of llm uses for decoding weights, attention,
 * norms and activations (0, the default: all online CPUs; the BLAS keeps
 * its own count). The logits are bit-identical for any count. */
void mp_llm_set_threads(struct mp_llm *llm, int threads);

/* The bytes mp_llm_forward allocates (at most) for its activations on
 * tokens tokens in all with rows rows of logits (out not included). */
size_t mp_llm_forward_bytes(const struct mp_llm *llm, size_t tokens,
			    size_t rows);

/* mp_llm_forward of one sequence ids[0..n). */
mp_status mp_llm_logits(struct mp_llm *llm, const int32_t *ids, size_t n,
			int all, float *out, struct mp_error *err);

/* Row id of the input embedding matrix as double [dim] (the stored row,
 * without Gemma's sqrt(dim) scaling). */
mp_status mp_llm_embedding(struct mp_llm *llm, int32_t id, double *out,
			   struct mp_error *err);

void mp_llm_free(struct mp_llm *llm);

#endif
