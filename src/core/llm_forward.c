/* llm_forward.c — the float32 forward pass of a causal LM, batched: the
 * tokens of every sequence form one activation matrix, each weight matrix
 * is decoded (dequantized) once per call into one reusable buffer and
 * applied with one BLAS sgemm; attention runs per sequence and head.
 * Decoding, attention, norms, rotations and activations are split over
 * the threads (par.h), each value computed the same way whatever the
 * split: the logits are bit-identical for any thread count. Memory: the
 * largest weight matrix (the classifier in row chunks) plus activations. */
#include "gguf_names.h"
#include "llm.h"
#include "model.h"
#include "par.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 4096	   /* values decoded per mp_tensor_elems call */
#define VOCAB_ROWS 4096 /* classifier rows per sgemm */
#define PAR_VALUES 65536 /* fewest values a decoding thread takes */
#define PAR_ROWS 16	 /* fewest token rows a thread takes */

/* y = x W^T + b (W [out, in]) or, in_out, y = x W + b (W [in, out], GPT-2's
 * Conv1D). */
struct lin {
	const struct mp_tensor *w, *b;
	int64_t in, out;
	bool in_out;
};

struct layer {
	const struct mp_tensor *n1, *n1b, *n2, *n2b;
	struct lin q, k, v, qkv, o, gate, up, gate_up, down;
};

struct mp_llm {
	const struct mp_model *m;
	struct mp_llm_config c;
	const struct mp_tensor *embed, *pos, *norm, *norm_b, *head;
	struct layer *layers;
	float *wbuf; /* [wmax] the decoded matrix */
	size_t wmax;
	uint8_t scratch[CHUNK * 8];
	double dbl[CHUNK];
	double *inv_freq; /* [rope_dim / 2] */
	double *long_freq; /* [rope_dim / 2] longrope past orig_ctx, or NULL */
	int threads;	  /* mp_par_for's count: 0 all CPUs */
};

const struct mp_llm_config *mp_llm_cfg(const struct mp_llm *llm)
{
	return &llm->c;
}

void mp_llm_set_threads(struct mp_llm *l, int threads)
{
	l->threads = threads > 0 ? threads : 0;
}

/* Decode elements [e0, e0+n) of t to float at dst, with the scratch
 * buffers scratch [CHUNK * 8] and dbl [CHUNK]. */
static void decode_serial(const struct mp_tensor *t, uint64_t e0, uint64_t n,
			  float *dst, uint8_t *scratch, double *dbl)
{
	if (!t->ggml && t->stored == MP_F32 && t->quant.kind == MP_QUANT_NONE) {
		const uint8_t *b = mp_tensor_bytes(t, e0 * 4, n * 4, (uint8_t *)dst);
		if (b != (const uint8_t *)dst)
			memcpy(dst, b, (size_t)n * 4);
		return;
	}
	if (!t->ggml && t->stored == MP_BF16 &&
	    t->quant.kind == MP_QUANT_NONE) {
		/* bfloat16 is the top half of a float32: widen directly. */
		for (uint64_t d = 0; d < n; d += CHUNK) {
			uint64_t k = n - d < CHUNK ? n - d : CHUNK;
			const uint8_t *b =
			    mp_tensor_bytes(t, (e0 + d) * 2, k * 2, scratch);
			for (uint64_t i = 0; i < k; i++) {
				uint32_t u = (uint32_t)b[2 * i] << 16 |
					     (uint32_t)b[2 * i + 1] << 24;
				memcpy(dst + d + i, &u, 4);
			}
		}
		return;
	}
	const struct mp_ggml_type_info *g = t->ggml;
	if (g && e0 % g->block == 0 && n % g->block == 0) {
		/* Whole blocks: decoded straight into dst, CHUNK values (or
		 * at least one block) at a time, as mp_tensor_elems would. */
		uint64_t nb = CHUNK / g->block ? CHUNK / g->block : 1;
		if (nb * g->bytes > CHUNK * 8)
			nb = 1;
		for (uint64_t b0 = e0 / g->block, bend = (e0 + n) / g->block;
		     b0 < bend; b0 += nb) {
			uint64_t k = bend - b0 < nb ? bend - b0 : nb;
			const uint8_t *b = mp_tensor_bytes(t, b0 * g->bytes,
							   k * g->bytes, scratch);
			mp_tensor_decode_blocks(t, b, (size_t)k,
						dst + (b0 * g->block - e0));
		}
		return;
	}
	for (uint64_t d = 0; d < n; d += CHUNK) {
		uint64_t k = n - d < CHUNK ? n - d : CHUNK;
		const uint8_t *b = mp_tensor_elems(t, e0 + d, k, scratch);
		if (t->ggml) { /* ggml blocks come decoded to float32 */
			memcpy(dst + d, b, (size_t)k * 4);
			continue;
		}
		if (t->stored == MP_F16 && t->quant.kind == MP_QUANT_NONE) {
			for (uint64_t i = 0; i < k; i++)
				dst[d + i] = mp_f16_to_f32(
				    (uint16_t)(b[2 * i] | b[2 * i + 1] << 8));
			continue;
		}
		mp_tensor_decode(t, b, (size_t)k, dbl);
		for (uint64_t i = 0; i < k; i++)
			dst[d + i] = (float)dbl[i];
	}
}

struct decode_job {
	const struct mp_tensor *t;
	uint64_t e0;
	float *dst;
};

static void decode_part(void *ctx, size_t i0, size_t i1, int worker)
{
	(void)worker;
	const struct decode_job *j = ctx;
	uint8_t scratch[CHUNK * 8];
	double dbl[CHUNK];
	decode_serial(j->t, j->e0 + i0, i1 - i0, j->dst + i0, scratch, dbl);
}

/* Decode elements [e0, e0+n) of t to float at dst, large ranges split
 * over the threads in parts of whole ggml blocks (each value decodes the
 * same way whatever the split). */
static void decode(struct mp_llm *l, const struct mp_tensor *t, uint64_t e0,
		   uint64_t n, float *dst)
{
	if (n < 2 * PAR_VALUES) {
		decode_serial(t, e0, n, dst, l->scratch, l->dbl);
		return;
	}
	struct decode_job j = {t, e0, dst};
	mp_par_for(l->threads, (size_t)n, CHUNK, PAR_VALUES, decode_part, &j);
}

/* The tensor named prefix + name, NULL when absent. */
static const struct mp_tensor *find(const struct mp_model *m,
				    const char *prefix, const char *name)
{
	char b[256];
	snprintf(b, sizeof b, "%s%s", prefix, name);
	return mp_model_find(m, b);
}

static mp_status need(const struct mp_model *m, const struct mp_tensor *t,
		      const char *name, int64_t d0, int64_t d1,
		      struct mp_error *err)
{
	char want[64], got[64];
	uint64_t w[2] = {(uint64_t)d0, (uint64_t)d1};
	int nd = d1 ? 2 : 1;
	mp_shape_text(nd, w, want, sizeof want);
	if (!t)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: no tensor %s (%s) that the forward pass "
				    "needs",
				    m->path, name, want);
	if (t->ndim != nd || t->shape[0] != w[0] || (nd == 2 && t->shape[1] != w[1]) ||
	    !(t->logical == MP_F32 || t->logical == MP_F16 ||
	      t->logical == MP_BF16 || t->logical == MP_F64)) {
		char nb[MP_NAME_SHOW + 8];
		mp_shape_text(t->ndim, t->shape, got, sizeof got);
		return mp_error_set(err, MP_EFORMAT,
				    "%s: tensor %s is %s %s; the configuration "
				    "implies float %s",
				    m->path, mp_printable(t->name, nb), got,
				    mp_dtype_name(t->logical), want);
	}
	return MP_OK;
}

/* Tensor prefix+name of shape d0 x d1 (d1 0: one axis) into *out;
 * optional tensors may be absent (*out NULL). */
static mp_status get(struct mp_llm *l, const char *prefix, const char *name,
		     int64_t d0, int64_t d1, bool optional,
		     const struct mp_tensor **out, struct mp_error *err)
{
	char b[256];
	snprintf(b, sizeof b, "%s%s", prefix, name);
	*out = mp_model_find(l->m, b);
	if (!*out && optional)
		return MP_OK;
	mp_status s = need(l->m, *out, b, d0, d1, err);
	if (s == MP_OK && d1 && (size_t)(d0 * d1) > l->wmax)
		l->wmax = (size_t)(d0 * d1);
	return s;
}

/* A linear map named prefix+name (".weight", optional ".bias"). */
static mp_status get_lin(struct mp_llm *l, const char *prefix,
			 const char *name, int64_t in, int64_t out, bool in_out,
			 struct lin *ln, struct mp_error *err)
{
	char b[200];
	ln->in = in;
	ln->out = out;
	ln->in_out = in_out;
	snprintf(b, sizeof b, "%s.weight", name);
	mp_status s = get(l, prefix, b, in_out ? in : out, in_out ? out : in,
			  false, &ln->w, err);
	snprintf(b, sizeof b, "%s.bias", name);
	if (s == MP_OK)
		s = get(l, prefix, b, out, 0, true, &ln->b, err);
	return s;
}

static mp_status open_gpt2(struct mp_llm *l, struct mp_error *err)
{
	const struct mp_llm_config *c = &l->c;
	const char *pre = find(l->m, "transformer.", "wte.weight")
			      ? "transformer."
			      : "";
	mp_status s = get(l, pre, "wte.weight", c->vocab, c->dim, false,
			  &l->embed, err);
	/* Hugging Face's Conv1D weights are (in, out); llama.cpp's converter
	 * transposes them to (out, in) for GGUF. */
	bool conv = s == MP_OK && !mp_gguf_names_is_gguf(l->embed->name);
	if (s == MP_OK)
		s = get(l, pre, "wpe.weight", c->ctx, c->dim, false, &l->pos, err);
	if (s == MP_OK)
		s = get(l, pre, "ln_f.weight", c->dim, 0, false, &l->norm, err);
	if (s == MP_OK)
		s = get(l, pre, "ln_f.bias", c->dim, 0, false, &l->norm_b, err);
	for (int64_t i = 0; i < c->layers && s == MP_OK; i++) {
		struct layer *y = &l->layers[i];
		char p[64];
		snprintf(p, sizeof p, "%sh.%lld.", pre, (long long)i);
		s = get(l, p, "ln_1.weight", c->dim, 0, false, &y->n1, err);
		if (s == MP_OK)
			s = get(l, p, "ln_1.bias", c->dim, 0, false, &y->n1b, err);
		if (s == MP_OK)
			s = get(l, p, "ln_2.weight", c->dim, 0, false, &y->n2, err);
		if (s == MP_OK)
			s = get(l, p, "ln_2.bias", c->dim, 0, false, &y->n2b, err);
		if (s == MP_OK)
			s = get_lin(l, p, "attn.c_attn", c->dim, 3 * c->dim, conv,
				    &y->qkv, err);
		if (s == MP_OK)
			s = get_lin(l, p, "attn.c_proj", c->dim, c->dim, conv,
				    &y->o, err);
		if (s == MP_OK)
			s = get_lin(l, p, "mlp.c_fc", c->dim, c->hidden, conv,
				    &y->up, err);
		if (s == MP_OK)
			s = get_lin(l, p, "mlp.c_proj", c->hidden, c->dim, conv,
				    &y->down, err);
	}
	return s;
}

static mp_status open_llama(struct mp_llm *l, struct mp_error *err)
{
	const struct mp_llm_config *c = &l->c;
	int64_t d = c->dim, qd = c->heads * c->head_dim,
		kvd = c->kv_heads * c->head_dim;
	mp_status s = get(l, "model.", "embed_tokens.weight", c->vocab, d, false,
			  &l->embed, err);
	if (s == MP_OK)
		s = get(l, "model.", "norm.weight", d, 0, false, &l->norm, err);
	for (int64_t i = 0; i < c->layers && s == MP_OK; i++) {
		struct layer *y = &l->layers[i];
		char p[64];
		snprintf(p, sizeof p, "model.layers.%lld.", (long long)i);
		s = get(l, p, "input_layernorm.weight", d, 0, false, &y->n1, err);
		if (s == MP_OK)
			s = get(l, p, "post_attention_layernorm.weight", d, 0,
				false, &y->n2, err);
		if (s == MP_OK && c->arch == MP_LLM_PHI3)
			s = get_lin(l, p, "self_attn.qkv_proj", d, qd + 2 * kvd,
				    false, &y->qkv, err);
		else if (s == MP_OK) {
			s = get_lin(l, p, "self_attn.q_proj", d, qd, false, &y->q,
				    err);
			if (s == MP_OK)
				s = get_lin(l, p, "self_attn.k_proj", d, kvd, false,
					    &y->k, err);
			if (s == MP_OK)
				s = get_lin(l, p, "self_attn.v_proj", d, kvd, false,
					    &y->v, err);
		}
		if (s == MP_OK)
			s = get_lin(l, p, "self_attn.o_proj", qd, d, false, &y->o,
				    err);
		if (s == MP_OK && c->arch == MP_LLM_PHI3)
			s = get_lin(l, p, "mlp.gate_up_proj", d, 2 * c->hidden,
				    false, &y->gate_up, err);
		else if (s == MP_OK) {
			s = get_lin(l, p, "mlp.gate_proj", d, c->hidden, false,
				    &y->gate, err);
			if (s == MP_OK)
				s = get_lin(l, p, "mlp.up_proj", d, c->hidden,
					    false, &y->up, err);
		}
		if (s == MP_OK)
			s = get_lin(l, p, "mlp.down_proj", c->hidden, d, false,
				    &y->down, err);
	}
	return s;
}

/* yarn's correction dimension: the frequency index at which the original
 * context holds rot full rotations, as Hugging Face and llama.cpp solve
 * it. */
static double yarn_dim(const struct mp_llm_config *c, double rot)
{
	return (double)c->rope_dim * log(c->orig_ctx / (rot * 2 * M_PI)) /
	       (2 * log(c->theta));
}

/* Rotary frequencies, with the configured scaling. */
static void rope_freqs(struct mp_llm *l)
{
	const struct mp_llm_config *c = &l->c;
	int64_t half = c->rope_dim / 2;
	double lo = 0, hi = 0;
	if (c->scaling == MP_ROPE_YARN) {
		lo = fmax(floor(yarn_dim(c, c->beta_fast)), 0);
		hi = fmin(ceil(yarn_dim(c, c->beta_slow)),
			  (double)c->rope_dim - 1);
		if (hi == lo)
			hi += 0.001;
	}
	for (int64_t i = 0; i < half; i++) {
		double f = 1.0 / pow(c->theta, (double)(2 * i) / (double)c->rope_dim);
		if (c->scaling == MP_ROPE_LINEAR) {
			f /= c->factor;
		} else if (c->scaling == MP_ROPE_LLAMA3) {
			double wl = 2 * M_PI / f;
			double lw = c->orig_ctx / c->low_freq;
			double hw = c->orig_ctx / c->high_freq;
			if (wl > lw) {
				f /= c->factor;
			} else if (wl >= hw) {
				double sm = (c->orig_ctx / wl - c->low_freq) /
					    (c->high_freq - c->low_freq);
				f = (1 - sm) * f / c->factor + sm * f;
			}
		} else if (c->scaling == MP_ROPE_YARN) {
			/* extrapolated (f) below lo, interpolated (f / factor)
			 * above hi, a linear ramp between */
			double ex = 1 - fmin(fmax(((double)i - lo) / (hi - lo), 0), 1);
			f = f / c->factor * (1 - ex) + f * ex;
		} else if (c->scaling == MP_ROPE_LONGROPE) {
			l->long_freq[i] = f / c->long_f[i];
			f /= c->short_f[i];
		}
		l->inv_freq[i] = f;
	}
}

/* GGUF's longrope divisors (rope_factors_short/long.weight, llama.cpp's
 * Phi-3 conversion) into the configuration. */
static mp_status longrope_tensors(struct mp_llm *l, struct mp_error *err)
{
	struct mp_llm_config *c = &l->c;
	const struct mp_tensor *t[2];
	int64_t n = c->rope_dim / 2;
	static const char *const names[2] = {"rope_factors_short.weight",
					     "rope_factors_long.weight"};
	for (int i = 0; i < 2; i++) {
		mp_status s = get(l, "", names[i], n, 0, true, &t[i], err);
		if (s != MP_OK)
			return s;
	}
	/* config.json's factors are read already (and positive) */
	if (!t[0] && !t[1] &&
	    (c->scaling != MP_ROPE_LONGROPE || c->short_f[0] > 0))
		return MP_OK;
	if (!t[0] || !t[1] || n > MP_LLM_ROPE_MAX || !(c->orig_ctx >= 1))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: longrope needs both rope_factors_short"
				    ".weight and rope_factors_long.weight (%lld "
				    "values, at most %d) and "
				    "rope.scaling.original_context_length",
				    l->m->path, (long long)n, MP_LLM_ROPE_MAX);
	c->scaling = MP_ROPE_LONGROPE;
	for (int k = 0; k < 2; k++) {
		double *f = k ? c->long_f : c->short_f;
		decode(l, t[k], 0, (uint64_t)n, l->wbuf);
		for (int64_t i = 0; i < n; i++) {
			f[i] = l->wbuf[i];
			if (!(f[i] > 0 && isfinite(f[i])))
				return mp_error_set(err, MP_EFORMAT,
						    "%s: %s[%lld] is %g, not a "
						    "positive factor",
						    l->m->path, names[k],
						    (long long)i, f[i]);
		}
	}
	return MP_OK;
}

mp_status mp_llm_open(const struct mp_model *m, struct mp_llm **out,
		      struct mp_error *err)
{
	*out = NULL;
	struct mp_llm *l = calloc(1, sizeof *l);
	if (!l)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", m->path);
	l->m = m;
	mp_status s = mp_llm_config_read(m, &l->c, err);
	struct mp_llm_config *c = &l->c;
	if (s == MP_OK) {
		/* The vocabulary is the embedding's row count. */
		const struct mp_tensor *e =
		    mp_model_find(m, c->arch == MP_LLM_GPT2
					 ? (find(m, "transformer.", "wte.weight")
						? "transformer.wte.weight"
						: "wte.weight")
					 : "model.embed_tokens.weight");
		if (!c->vocab && e && e->ndim == 2)
			c->vocab = (int64_t)e->shape[0];
		l->layers = calloc((size_t)c->layers, sizeof *l->layers);
		size_t nf = (size_t)c->rope_dim / 2 + 1;
		l->inv_freq = calloc(nf, sizeof *l->inv_freq);
		l->long_freq = calloc(nf, sizeof *l->long_freq);
		if (!l->layers || !l->inv_freq || !l->long_freq)
			s = mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					 m->path);
	}
	if (s == MP_OK)
		s = c->arch == MP_LLM_GPT2 ? open_gpt2(l, err)
					   : open_llama(l, err);
	if (s == MP_OK) {
		s = get(l, "", "lm_head.weight", c->vocab, c->dim, true, &l->head, err);
		if (!l->head)
			l->head = l->embed;
		size_t vr = (size_t)(c->vocab < VOCAB_ROWS ? c->vocab : VOCAB_ROWS);
		if (vr * (size_t)c->dim > l->wmax)
			l->wmax = vr * (size_t)c->dim;
		if (l->wmax < 2 * (size_t)c->dim)
			l->wmax = 2 * (size_t)c->dim; /* norm weight and bias */
	}
	/* Llama 3.1 GGUF files carry the rope_scaling as frequency divisors. */
	const struct mp_tensor *rf = NULL;
	int64_t nf = c->rope_dim / 2;
	if (s == MP_OK)
		s = get(l, "", "rope_freqs.weight", nf, 0, true, &rf, err);
	if (s == MP_OK && l->wmax < (size_t)c->head_dim)
		l->wmax = (size_t)c->head_dim;
	if (s == MP_OK && !(l->wbuf = malloc(l->wmax * sizeof *l->wbuf)))
		s = mp_error_set(err, MP_ENOMEM,
				 "%s: out of memory for a %zu-value weight "
				 "buffer",
				 m->path, l->wmax);
	if (s == MP_OK)
		s = longrope_tensors(l, err);
	if (s != MP_OK) {
		mp_llm_free(l);
		return s;
	}
	rope_freqs(l);
	if (c->scaling != MP_ROPE_LONGROPE) {
		free(l->long_freq);
		l->long_freq = NULL;
	}
	if (rf) {
		decode(l, rf, 0, (uint64_t)nf, l->wbuf);
		for (int64_t i = 0; i < nf; i++) {
			double f = l->wbuf[i];
			if (!(f > 0 && isfinite(f))) {
				mp_llm_free(l);
				return mp_error_set(err, MP_EFORMAT,
						    "%s: rope_freqs.weight[%lld] "
						    "is %g, not a positive factor",
						    m->path, (long long)i, f);
			}
			l->inv_freq[i] /= l->wbuf[i];
		}
	}
	*out = l;
	return MP_OK;
}

void mp_llm_free(struct mp_llm *l)
{
	if (!l)
		return;
	free(l->layers);
	free(l->wbuf);
	free(l->inv_freq);
	free(l->long_freq);
	free(l);
}

mp_status mp_llm_embedding(struct mp_llm *l, int32_t id, double *out,
			   struct mp_error *err)
{
	if (id < 0 || id >= l->c.vocab)
		return mp_error_set(err, MP_ERANGE,
				    "%s: token id %ld outside the vocabulary "
				    "(%lld)",
				    l->m->path, (long)id, (long long)l->c.vocab);
	float *row = l->wbuf;
	decode(l, l->embed, (uint64_t)id * (uint64_t)l->c.dim,
	       (uint64_t)l->c.dim, row);
	for (int64_t i = 0; i < l->c.dim; i++)
		out[i] = row[i];
	return MP_OK;
}

/* y[T, out] (row stride ldy) = x[T, in] (stride ldx) through ln. */
static void apply(struct mp_llm *l, const struct lin *ln, size_t T,
		  const float *x, size_t ldx, float *y, size_t ldy)
{
	decode(l, ln->w, 0, ln->w->numel, l->wbuf);
	int in = (int)ln->in, out = (int)ln->out;
	if (ln->in_out)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T, out,
			    in, 1.0f, x, (int)ldx, l->wbuf, out, 0.0f, y,
			    (int)ldy);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, out,
			    in, 1.0f, x, (int)ldx, l->wbuf, in, 0.0f, y, (int)ldy);
	if (ln->b) {
		float *b = l->wbuf;
		decode(l, ln->b, 0, (uint64_t)out, b);
		for (size_t t = 0; t < T; t++)
			for (int j = 0; j < out; j++)
				y[t * ldy + (size_t)j] += b[j];
	}
}

struct norm_job {
	const struct mp_llm *l;
	const float *wv, *bv; /* bv NULL: RMSNorm */
	const float *x;
	float *y;
};

static void norm_part(void *ctx, size_t t0, size_t t1, int worker)
{
	(void)worker;
	const struct norm_job *j = ctx;
	size_t d = (size_t)j->l->c.dim;
	const float *wv = j->wv, *bv = j->bv, *x = j->x;
	float *y = j->y;
	bool b = bv != NULL, plus1 = j->l->c.norm_plus_one;
	for (size_t t = t0; t < t1; t++) {
		const float *r = x + t * d;
		double mean = 0, ss = 0;
		if (b) {
			for (size_t i = 0; i < d; i++)
				mean += r[i];
			mean /= (double)d;
		}
		for (size_t i = 0; i < d; i++)
			ss += (r[i] - mean) * (r[i] - mean);
		double inv = 1.0 / sqrt(ss / (double)d + j->l->c.eps);
		for (size_t i = 0; i < d; i++) {
			double g = plus1 ? 1.0 + (double)wv[i] : (double)wv[i];
			y[t * d + i] = (float)((r[i] - mean) * inv * g +
					       (b ? (double)bv[i] : 0.0));
		}
	}
}

/* Normalise rows x[T, d] into y: RMSNorm (w, or 1 + w for Gemma) or, with
 * a bias tensor, LayerNorm. */
static void norm(struct mp_llm *l, const struct mp_tensor *w,
		 const struct mp_tensor *b, size_t T, const float *x, float *y)
{
	size_t d = (size_t)l->c.dim;
	float *wv = l->wbuf, *bv = l->wbuf + d;
	decode(l, w, 0, d, wv);
	if (b)
		decode(l, b, 0, d, bv);
	struct norm_job j = {l, wv, b ? bv : NULL, x, y};
	mp_par_for(l->threads, T, 1, PAR_ROWS, norm_part, &j);
}

/* Rotate the first rope_dim components of head vector v to position pos
 * with frequencies freq, scaled by attn_factor. */
static void rope(const struct mp_llm *l, float *v, size_t pos,
		 const double *freq)
{
	int64_t half = l->c.rope_dim / 2;
	double g = l->c.attn_factor;
	for (int64_t i = 0; i < half; i++) {
		double a = (double)pos * freq[i];
		double cs = cos(a) * g, sn = sin(a) * g;
		int64_t i0 = l->c.rope_interleaved ? 2 * i : i;
		int64_t i1 = l->c.rope_interleaved ? 2 * i + 1 : i + half;
		double x0 = v[i0], x1 = v[i1];
		v[i0] = (float)(x0 * cs - x1 * sn);
		v[i1] = (float)(x1 * cs + x0 * sn);
	}
}

/* Causal attention of head h of one sequence of n tokens: qkv rows [n, ld]
 * hold q (heads x hd), k and v (kv_heads x hd); out [n, heads * hd];
 * sc [n] scratch. */
static void attend(const struct mp_llm *l, const float *qkv, size_t ld,
		   size_t n, size_t h, float *out, double *sc)
{
	const struct mp_llm_config *c = &l->c;
	size_t hd = (size_t)c->head_dim, H = (size_t)c->heads;
	size_t group = H / (size_t)c->kv_heads, qd = H * hd,
	       kvd = (size_t)c->kv_heads * hd;
	double scale = 1.0 / sqrt((double)hd);
	size_t kh = h / group;
	for (size_t i = 0; i < n; i++) {
		const float *q = qkv + i * ld + h * hd;
		double mx = -INFINITY, sum = 0;
		for (size_t j = 0; j <= i; j++) {
			const float *k = qkv + j * ld + qd + kh * hd;
			double dot = 0;
			for (size_t e = 0; e < hd; e++)
				dot += (double)q[e] * k[e];
			sc[j] = dot * scale;
			if (sc[j] > mx)
				mx = sc[j];
		}
		for (size_t j = 0; j <= i; j++)
			sum += sc[j] = exp(sc[j] - mx);
		float *o = out + i * qd + h * hd;
		for (size_t e = 0; e < hd; e++) {
			double acc = 0;
			for (size_t j = 0; j <= i; j++)
				acc += sc[j] * qkv[j * ld + qd + kvd + kh * hd + e];
			o[e] = (float)(acc / sum);
		}
	}
}

/* The work of one block that is split over the threads: rows (tokens) of
 * the rotations and activations, (sequence, head) pairs of attention. */
struct block_job {
	const struct mp_llm *l;
	float *qkv, *att, *gu;
	const size_t *off, *pos;
	size_t nseq, maxn;
	double *sc; /* [threads][maxn] */
};

/* The sequence holding token t: off[s] <= t < off[s + 1]. */
static size_t seq_of(const size_t *off, size_t nseq, size_t t)
{
	size_t lo = 0, hi = nseq; /* off[lo] <= t < off[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (off[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static void rope_part(void *ctx, size_t t0, size_t t1, int worker)
{
	(void)worker;
	const struct block_job *j = ctx;
	const struct mp_llm_config *c = &j->l->c;
	size_t hd = (size_t)c->head_dim;
	size_t ld = (size_t)(c->heads + 2 * c->kv_heads) * hd;
	size_t s = seq_of(j->off, j->nseq, t0);
	for (size_t t = t0; t < t1; t++) {
		while (t >= j->off[s + 1])
			s++;
		/* longrope: the long factors for a sequence beyond the
		 * original context, as Hugging Face chooses them by length */
		const double *f =
		    j->l->long_freq &&
			    (double)(j->off[s + 1] - j->off[s]) > c->orig_ctx
			? j->l->long_freq
			: j->l->inv_freq;
		for (size_t k = 0; k < (size_t)(c->heads + c->kv_heads); k++)
			rope(j->l, j->qkv + t * ld + k * hd, j->pos[t], f);
	}
}

static void attend_part(void *ctx, size_t u0, size_t u1, int worker)
{
	const struct block_job *j = ctx;
	const struct mp_llm_config *c = &j->l->c;
	size_t H = (size_t)c->heads, hd = (size_t)c->head_dim;
	size_t qd = H * hd, ld = (size_t)(c->heads + 2 * c->kv_heads) * hd;
	for (size_t u = u0; u < u1; u++) {
		size_t s = u / H, o = j->off[s];
		attend(j->l, j->qkv + o * ld, ld, j->off[s + 1] - o, u % H,
		       j->att + o * qd, j->sc + (size_t)worker * j->maxn);
	}
}

static double act(enum mp_llm_arch a, double x)
{
	if (a == MP_LLM_GEMMA || a == MP_LLM_GPT2)
		return 0.5 * x *
		       (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
	return x / (1 + exp(-x));
}

/* Rows of gu: GPT-2's act(up) in place [T, hid], else act(gate) * up in
 * the first half of rows [T, 2 hid]. */
static void act_part(void *ctx, size_t t0, size_t t1, int worker)
{
	(void)worker;
	const struct block_job *j = ctx;
	enum mp_llm_arch a = j->l->c.arch;
	size_t hid = (size_t)j->l->c.hidden;
	if (a == MP_LLM_GPT2) {
		for (size_t i = t0 * hid; i < t1 * hid; i++)
			j->gu[i] = (float)act(a, j->gu[i]);
		return;
	}
	for (size_t t = t0; t < t1; t++) {
		float *r = j->gu + t * 2 * hid;
		for (size_t i = 0; i < hid; i++)
			r[i] = (float)(act(a, r[i]) * r[hid + i]);
	}
}

/* One block over the T tokens of every sequence. */
static void block(struct mp_llm *l, const struct layer *y, float *x, size_t T,
		  const size_t *off, size_t nseq, const size_t *pos, size_t maxn,
		  float **buf, double *sc)
{
	const struct mp_llm_config *c = &l->c;
	size_t d = (size_t)c->dim, hd = (size_t)c->head_dim;
	size_t qd = (size_t)c->heads * hd, kvd = (size_t)c->kv_heads * hd;
	size_t ld = qd + 2 * kvd, hid = (size_t)c->hidden;
	float *h = buf[0], *qkv = buf[1], *att = buf[2], *gu = buf[3];
	struct block_job j = {l, qkv, att, gu, off, pos, nseq, maxn, sc};
	norm(l, y->n1, y->n1b, T, x, h);
	if (y->qkv.w) {
		apply(l, &y->qkv, T, h, d, qkv, ld);
	} else {
		apply(l, &y->q, T, h, d, qkv, ld);
		apply(l, &y->k, T, h, d, qkv + qd, ld);
		apply(l, &y->v, T, h, d, qkv + qd + kvd, ld);
	}
	if (c->arch != MP_LLM_GPT2)
		mp_par_for(l->threads, T, 1, PAR_ROWS, rope_part, &j);
	mp_par_for(l->threads, nseq * (size_t)c->heads, 1, 1, attend_part, &j);
	apply(l, &y->o, T, att, qd, h, d);
	for (size_t i = 0; i < T * d; i++)
		x[i] += h[i];
	norm(l, y->n2, y->n2b, T, x, h);
	if (c->arch == MP_LLM_GPT2) {
		apply(l, &y->up, T, h, d, gu, hid);
		mp_par_for(l->threads, T, 1, PAR_ROWS, act_part, &j);
		apply(l, &y->down, T, gu, hid, h, d);
	} else {
		if (y->gate_up.w) {
			apply(l, &y->gate_up, T, h, d, gu, 2 * hid);
		} else {
			apply(l, &y->gate, T, h, d, gu, 2 * hid);
			apply(l, &y->up, T, h, d, gu + hid, 2 * hid);
		}
		mp_par_for(l->threads, T, 1, PAR_ROWS, act_part, &j);
		apply(l, &y->down, T, gu, 2 * hid, h, d);
	}
	for (size_t i = 0; i < T * d; i++)
		x[i] += h[i];
}

/* Logits of the rows xr[R, dim] into out[R, vocab], the classifier in
 * chunks of rows. */
static void classify(struct mp_llm *l, const float *xr, size_t R, float *out)
{
	size_t d = (size_t)l->c.dim, V = (size_t)l->c.vocab;
	for (size_t r0 = 0; r0 < V; r0 += VOCAB_ROWS) {
		size_t nr = V - r0 < VOCAB_ROWS ? V - r0 : VOCAB_ROWS;
		decode(l, l->head, r0 * d, nr * d, l->wbuf);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R,
			    (int)nr, (int)d, 1.0f, xr, (int)d, l->wbuf, (int)d,
			    0.0f, out + r0, (int)V);
	}
}

size_t mp_llm_forward_bytes(const struct mp_llm *l, size_t tokens,
			    size_t rows)
{
	const struct mp_llm_config *c = &l->c;
	size_t d = (size_t)c->dim, hd = (size_t)c->head_dim;
	size_t qd = (size_t)c->heads * hd, kvd = (size_t)c->kv_heads * hd;
	size_t per = d + (d > qd ? d : qd) + qd + 2 * kvd + qd +
		     2 * (size_t)c->hidden;
	return tokens * (per * sizeof(float) + sizeof(size_t) +
			 (size_t)mp_par_threads(l->threads) * sizeof(double)) +
	       rows * d * sizeof(float);
}

mp_status mp_llm_forward(struct mp_llm *l, const int32_t *ids,
			 const size_t *off, size_t nseq, int all, float *out,
			 struct mp_error *err)
{
	const struct mp_llm_config *c = &l->c;
	size_t T = off[nseq], maxn = 0;
	for (size_t s = 0; s < nseq; s++) {
		size_t n = off[s + 1] - off[s];
		if (off[s + 1] <= off[s])
			return mp_error_set(err, MP_EINVAL,
					    "%s: sequence %zu is empty",
					    l->m->path, s + 1);
		if (n > (size_t)c->ctx)
			return mp_error_set(err, MP_EINVAL,
					    "%s: sequence of %zu tokens is "
					    "longer than the context (%lld)",
					    l->m->path, n, (long long)c->ctx);
		if (n > maxn)
			maxn = n;
	}
	for (size_t t = 0; t < T; t++)
		if (ids[t] < 0 || ids[t] >= c->vocab)
			return mp_error_set(err, MP_ERANGE,
					    "%s: token id %ld outside the "
					    "vocabulary (0 to %lld)",
					    l->m->path, (long)ids[t],
					    (long long)c->vocab - 1);
	size_t d = (size_t)c->dim, hd = (size_t)c->head_dim;
	size_t qd = (size_t)c->heads * hd, kvd = (size_t)c->kv_heads * hd;
	size_t hid = (size_t)c->hidden;
	size_t R = all ? T : nseq;
	float *x = malloc(T * d * sizeof *x);
	float *buf[4] = {malloc(T * (d > qd ? d : qd) * sizeof(float)),
			 malloc(T * (qd + 2 * kvd) * sizeof(float)),
			 malloc(T * qd * sizeof(float)),
			 malloc(T * 2 * hid * sizeof(float))};
	float *xr = malloc(R * d * sizeof *xr);
	size_t *pos = malloc(T * sizeof *pos);
	double *sc = malloc((size_t)mp_par_threads(l->threads) * maxn *
			    sizeof *sc);
	mp_status st = MP_OK;
	if (!x || !buf[0] || !buf[1] || !buf[2] || !buf[3] || !xr || !pos || !sc) {
		st = mp_error_set(err, MP_ENOMEM,
				  "%s: out of memory for the activations of %zu "
				  "tokens",
				  l->m->path, T);
		goto done;
	}
	for (size_t s = 0; s < nseq; s++)
		for (size_t t = off[s]; t < off[s + 1]; t++)
			pos[t] = t - off[s];
	float *row = buf[1];
	for (size_t t = 0; t < T; t++) {
		decode(l, l->embed, (uint64_t)ids[t] * d, d, x + t * d);
		if (l->pos) {
			decode(l, l->pos, (uint64_t)pos[t] * d, d, row);
			for (size_t i = 0; i < d; i++)
				x[t * d + i] += row[i];
		}
	}
	if (c->arch == MP_LLM_GEMMA) {
		float g = (float)sqrt((double)d);
		for (size_t i = 0; i < T * d; i++)
			x[i] *= g;
	}
	for (int64_t i = 0; i < c->layers; i++)
		block(l, &l->layers[i], x, T, off, nseq, pos, maxn, buf, sc);
	for (size_t r = 0; r < R; r++) {
		size_t t = all ? r : off[r + 1] - 1;
		memcpy(buf[0] + r * d, x + t * d, d * sizeof *x);
	}
	norm(l, l->norm, l->norm_b, R, buf[0], xr);
	classify(l, xr, R, out);
done:
	free(x);
	for (int i = 0; i < 4; i++)
		free(buf[i]);
	free(xr);
	free(pos);
	free(sc);
	return st;
}

mp_status mp_llm_logits(struct mp_llm *l, const int32_t *ids, size_t n,
			int all, float *out, struct mp_error *err)
{
	size_t off[2] = {0, n};
	return mp_llm_forward(l, ids, off, 1, all, out, err);
}
