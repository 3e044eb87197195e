/* llm_config.c — the hyper-parameters of a causal LM: from GGUF-style
 * metadata (GGUF files, llama2.c headers) or config.json (Hugging Face). */
#include "json.h"
#include "llm.h"
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *meta_get(const struct mp_model *m, const char *key)
{
	for (size_t i = 0; i < m->nmeta; i++)
		if (strcmp(m->meta[i].key, key) == 0)
			return m->meta[i].value;
	return NULL;
}

static const struct {
	const char *name; /* GGUF general.architecture / HF model_type */
	enum mp_llm_arch arch;
} archs[] = {
    {"llama", MP_LLM_LLAMA}, {"mistral", MP_LLM_LLAMA},
    {"qwen2", MP_LLM_QWEN2}, {"gemma", MP_LLM_GEMMA},
    {"phi3", MP_LLM_PHI3},   {"gpt2", MP_LLM_GPT2},
};

static bool arch_of(const char *name, enum mp_llm_arch *a)
{
	for (size_t i = 0; name && i < sizeof archs / sizeof archs[0]; i++)
		if (strcmp(name, archs[i].name) == 0) {
			*a = archs[i].arch;
			return true;
		}
	return false;
}

/* A positive integer hyper-parameter (at most 2^31). */
static bool pos_int(double v, int64_t *out)
{
	if (!(v >= 1 && v <= 2147483648.0) || v != floor(v))
		return false;
	*out = (int64_t)v;
	return true;
}

static double meta_num(const struct mp_model *m, const char *arch,
		       const char *key)
{
	char k[160];
	snprintf(k, sizeof k, "%s.%s", arch, key);
	const char *v = meta_get(m, k);
	if (!v)
		return NAN;
	char *end;
	double d = strtod(v, &end);
	return *end ? NAN : d;
}

static void defaults(struct mp_llm_config *c)
{
	memset(c, 0, sizeof *c);
	c->eps = 1e-5;
	c->theta = 10000;
	c->ctx = 2048;
	c->attn_factor = 1;
}

/* yarn's attention scale for a context extended by factor s (0.1 m ln s + 1,
 * 1 when s <= 1), as Hugging Face's and llama.cpp's get_mscale. */
static double mscale(double s, double m)
{
	return s <= 1 ? 1.0 : 0.1 * m * log(s) + 1.0;
}

static mp_status meta_rope(const struct mp_model *m, const char *an,
			   struct mp_llm_config *c, struct mp_error *err);

static mp_status from_meta(const struct mp_model *m, const char *an,
			   struct mp_llm_config *c, struct mp_error *err)
{
	defaults(c);
	if (!arch_of(an, &c->arch))
		return mp_error_set(err, MP_ENOTAPPLIC,
				    "%s: architecture '%s' is not a causal LM "
				    "the forward pass supports (llama, mistral, "
				    "qwen2, gemma, phi3, gpt2)",
				    m->path, an);
	static const struct {
		const char *key;
		size_t off;
	} need[] = {
	    {"embedding_length", offsetof(struct mp_llm_config, dim)},
	    {"feed_forward_length", offsetof(struct mp_llm_config, hidden)},
	    {"block_count", offsetof(struct mp_llm_config, layers)},
	    {"attention.head_count", offsetof(struct mp_llm_config, heads)},
	};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (!pos_int(meta_num(m, an, need[i].key),
			     (int64_t *)((char *)c + need[i].off)))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: metadata %s.%s is missing or "
					    "not a positive integer",
					    m->path, an, need[i].key);
	if (!pos_int(meta_num(m, an, "attention.head_count_kv"), &c->kv_heads))
		c->kv_heads = c->heads;
	int64_t v;
	if (pos_int(meta_num(m, an, "context_length"), &v))
		c->ctx = v;
	if (pos_int(meta_num(m, an, "attention.key_length"), &v))
		c->head_dim = v;
	double d = meta_num(m, an, c->arch == MP_LLM_GPT2
				       ? "attention.layer_norm_epsilon"
				       : "attention.layer_norm_rms_epsilon");
	if (d > 0 && d < 1)
		c->eps = d;
	d = meta_num(m, an, "rope.freq_base");
	if (d > 0)
		c->theta = d;
	/* llama.cpp permutes LLaMA's Q/K rows for its adjacent-pair rotary;
	 * llama2.c checkpoints are in that order already. */
	c->rope_interleaved = c->arch == MP_LLM_LLAMA;
	if (pos_int(meta_num(m, an, "rope.dimension_count"), &v))
		c->rope_dim = v;
	return meta_rope(m, an, c, err);
}

/* GGUF's rope scaling (<arch>.rope.scaling.*) as llama.cpp reads it; the
 * longrope and llama3 factors are tensors, which mp_llm_open reads. */
static mp_status meta_rope(const struct mp_model *m, const char *an,
			   struct mp_llm_config *c, struct mp_error *err)
{
	char k[160], nb[MP_NAME_SHOW + 8];
	double d = meta_num(m, an, "rope.scaling.attn_factor");
	if (d > 0 && isfinite(d))
		c->attn_factor = d;
	d = meta_num(m, an, "rope.scaling.original_context_length");
	if (d >= 1 && isfinite(d))
		c->orig_ctx = d;
	snprintf(k, sizeof k, "%s.rope.scaling.type", an);
	const char *st = meta_get(m, k);
	if (!st || strcmp(st, "none") == 0)
		return MP_OK;
	if (strcmp(st, "longrope") == 0) {
		c->scaling = MP_ROPE_LONGROPE; /* the factors are tensors */
		return MP_OK;
	}
	bool yarn = strcmp(st, "yarn") == 0;
	if (!yarn && strcmp(st, "linear") != 0)
		return mp_error_set(err, MP_EINVAL,
				    "%s: %s '%s' is not supported (none, "
				    "linear, yarn, longrope)",
				    m->path, k, mp_printable(st, nb));
	c->scaling = yarn ? MP_ROPE_YARN : MP_ROPE_LINEAR;
	c->factor = meta_num(m, an, "rope.scaling.factor");
	if (!(c->factor > 0 && isfinite(c->factor)))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: %s.rope.scaling.factor is missing or "
				    "not positive",
				    m->path, an);
	if (!yarn)
		return MP_OK;
	if (!c->orig_ctx)
		c->orig_ctx = (double)c->ctx;
	c->beta_fast = meta_num(m, an, "rope.scaling.yarn_beta_fast");
	c->beta_slow = meta_num(m, an, "rope.scaling.yarn_beta_slow");
	if (isnan(c->beta_fast))
		c->beta_fast = 32;
	if (isnan(c->beta_slow))
		c->beta_slow = 1;
	d = meta_num(m, an, "rope.scaling.yarn_ext_factor");
	if (!isnan(d) && d != 1)
		return mp_error_set(err, MP_EINVAL,
				    "%s: %s.rope.scaling.yarn_ext_factor %g is "
				    "not supported (1 only)",
				    m->path, an, d);
	/* The scale of q and k: the converter's yarn_attn_factor (Hugging
	 * Face's attention_factor) when written, else as llama.cpp computes
	 * it: mscale(factor), divided by mscale(factor, yarn_log_multiplier)
	 * when there is one (DeepSeek's mscale_all_dim); times
	 * rope.scaling.attn_factor either way. */
	double af = meta_num(m, an, "rope.scaling.yarn_attn_factor");
	d = meta_num(m, an, "rope.scaling.yarn_log_multiplier");
	if (af > 0 && isfinite(af))
		c->attn_factor *= af;
	else
		c->attn_factor *= mscale(c->factor, 1) /
				  (d > 0 && isfinite(d) ? mscale(c->factor, d)
							: 1.0);
	return MP_OK;
}

static double jnum(const mp_json *j, const char *key)
{
	const mp_json *v = mp_json_get(j, key);
	return v ? mp_json_num(v) : NAN;
}

/* The longrope divisors rs.key into f[rope_dim / 2]. */
static mp_status factors(const char *path, const mp_json *rs, const char *key,
			 const struct mp_llm_config *c, double *f,
			 struct mp_error *err)
{
	const mp_json *a = mp_json_get(rs, key);
	size_t n = (size_t)(c->rope_dim / 2);
	if (!a || !mp_json_is_array(a) || mp_json_size(a) != n ||
	    n > MP_LLM_ROPE_MAX)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: rope_scaling.%s is not a list of %zu "
				    "numbers (half the rotary dimension %lld)",
				    path, key, n, (long long)c->rope_dim);
	for (size_t i = 0; i < n; i++) {
		f[i] = mp_json_num(mp_json_at(a, i));
		if (!(f[i] > 0 && isfinite(f[i])))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: rope_scaling.%s[%zu] is not a "
					    "positive number",
					    path, key, i);
	}
	return MP_OK;
}

/* Phi-3's longrope (Hugging Face's "longrope", formerly "su"). */
static mp_status longrope(const char *path, const mp_json *j,
			  const mp_json *rs, struct mp_llm_config *c,
			  struct mp_error *err)
{
	c->scaling = MP_ROPE_LONGROPE;
	double mx = (double)c->ctx, orig = jnum(j, "original_max_position_embeddings");
	double f = c->factor > 0 ? c->factor : 1;
	if (orig >= 1)
		f = mx / orig;
	else
		orig = mx;
	c->orig_ctx = orig;
	double af = jnum(rs, "attention_factor");
	c->attn_factor = af > 0 ? af
		       : f <= 1 ? 1.0
				: sqrt(1 + log(f) / log(orig));
	mp_status s = factors(path, rs, "short_factor", c, c->short_f, err);
	return s ? s : factors(path, rs, "long_factor", c, c->long_f, err);
}

/* YaRN as Hugging Face computes it (Qwen2, DeepSeek configurations). */
static mp_status yarn(const char *path, const mp_json *rs,
		      struct mp_llm_config *c, struct mp_error *err)
{
	c->scaling = MP_ROPE_YARN;
	const mp_json *tr = mp_json_get(rs, "truncate");
	if (tr && !mp_json_true(tr))
		return mp_error_set(err, MP_EINVAL,
				    "%s: rope_scaling yarn with truncate false "
				    "is not supported",
				    path);
	double o = jnum(rs, "original_max_position_embeddings");
	c->orig_ctx = o >= 1 ? o : (double)c->ctx;
	double bf = jnum(rs, "beta_fast"), bs = jnum(rs, "beta_slow");
	c->beta_fast = bf > 0 ? bf : 32;
	c->beta_slow = bs > 0 ? bs : 1;
	double af = jnum(rs, "attention_factor"), ms = jnum(rs, "mscale"),
	       ma = jnum(rs, "mscale_all_dim");
	c->attn_factor = af > 0			? af
			 : ms > 0 && ma > 0 ? mscale(c->factor, ms) /
						  mscale(c->factor, ma)
					    : mscale(c->factor, 1);
	return MP_OK;
}

static mp_status rope_scaling(const char *path, const mp_json *j,
			      const mp_json *rs, struct mp_llm_config *c,
			      struct mp_error *err)
{
	if (!rs || mp_json_is_null(rs))
		return MP_OK;
	const mp_json *t = mp_json_get(rs, "rope_type");
	if (!t)
		t = mp_json_get(rs, "type");
	const char *ty = t ? mp_json_str(t) : NULL;
	char nb[MP_NAME_SHOW + 8];
	c->factor = jnum(rs, "factor");
	if (ty && strcmp(ty, "default") == 0)
		return MP_OK;
	if (ty && (strcmp(ty, "longrope") == 0 || strcmp(ty, "su") == 0))
		return longrope(path, j, rs, c, err);
	if (!(c->factor > 0))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: rope_scaling.factor is missing or not "
				    "positive",
				    path);
	if (ty && strcmp(ty, "linear") == 0) {
		c->scaling = MP_ROPE_LINEAR;
		return MP_OK;
	}
	if (ty && strcmp(ty, "yarn") == 0)
		return yarn(path, rs, c, err);
	if (ty && strcmp(ty, "llama3") == 0) {
		c->scaling = MP_ROPE_LLAMA3;
		c->low_freq = jnum(rs, "low_freq_factor");
		c->high_freq = jnum(rs, "high_freq_factor");
		c->orig_ctx = jnum(rs, "original_max_position_embeddings");
		if (!(c->low_freq > 0 && c->high_freq > c->low_freq &&
		      c->orig_ctx > 0))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: rope_scaling llama3 needs "
					    "low_freq_factor < high_freq_factor "
					    "and original_max_position_embeddings",
					    path);
		return MP_OK;
	}
	return mp_error_set(err, MP_EINVAL,
			    "%s: rope_scaling type '%s' is not supported "
			    "(linear, llama3, yarn, longrope)",
			    path, ty ? mp_printable(ty, nb) : "(none)");
}

static mp_status from_json(const char *path, const mp_json *j,
			   struct mp_llm_config *c, struct mp_error *err)
{
	defaults(c);
	const mp_json *mt = mp_json_get(j, "model_type");
	const char *an = mt ? mp_json_str(mt) : NULL;
	char nb[MP_NAME_SHOW + 8];
	if (!arch_of(an, &c->arch))
		return mp_error_set(err, MP_ENOTAPPLIC,
				    "%s: model_type '%s' is not a causal LM the "
				    "forward pass supports (llama, mistral, "
				    "qwen2, gemma, phi3, gpt2)",
				    path, an ? mp_printable(an, nb) : "(none)");
	bool gpt2 = c->arch == MP_LLM_GPT2;
	c->norm_plus_one = c->arch == MP_LLM_GEMMA;
	static const char *const keys[2][4] = {
	    {"hidden_size", "num_hidden_layers", "num_attention_heads",
	     "vocab_size"},
	    {"n_embd", "n_layer", "n_head", "vocab_size"}};
	int64_t *dst[4] = {&c->dim, &c->layers, &c->heads, &c->vocab};
	for (int i = 0; i < 4; i++)
		if (!pos_int(jnum(j, keys[gpt2][i]), dst[i]))
			return mp_error_set(err, MP_EFORMAT,
					    "%s: %s is missing or not a "
					    "positive integer",
					    path, keys[gpt2][i]);
	if (gpt2) {
		if (!pos_int(jnum(j, "n_inner"), &c->hidden))
			c->hidden = 4 * c->dim;
		int64_t v;
		if (pos_int(jnum(j, "n_positions"), &v))
			c->ctx = v;
		double e = jnum(j, "layer_norm_epsilon");
		if (e > 0 && e < 1)
			c->eps = e;
		c->kv_heads = c->heads;
		return MP_OK;
	}
	if (!pos_int(jnum(j, "intermediate_size"), &c->hidden))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: intermediate_size is missing or not a "
				    "positive integer",
				    path);
	if (!pos_int(jnum(j, "num_key_value_heads"), &c->kv_heads))
		c->kv_heads = c->heads;
	int64_t v;
	if (pos_int(jnum(j, "head_dim"), &v))
		c->head_dim = v;
	if (pos_int(jnum(j, "max_position_embeddings"), &v))
		c->ctx = v;
	double e = jnum(j, "rms_norm_eps");
	if (e > 0 && e < 1)
		c->eps = e;
	double th = jnum(j, "rope_theta");
	if (th > 0)
		c->theta = th;
	if (!c->head_dim)
		c->head_dim = c->dim / c->heads;
	double pr = jnum(j, "partial_rotary_factor");
	if (pr > 0 && pr <= 1)
		c->rope_dim = (int64_t)((double)c->head_dim * pr);
	else
		c->rope_dim = c->head_dim;
	return rope_scaling(path, j, mp_json_get(j, "rope_scaling"), c, err);
}

mp_status mp_llm_config_read(const struct mp_model *m, struct mp_llm_config *c,
			     struct mp_error *err)
{
	mp_status s;
	const char *an = meta_get(m, "general.architecture");
	if (an) {
		s = from_meta(m, an, c, err);
	} else {
		char *path = m->dir ? mp_path_join(m->dir, "config.json") : NULL;
		struct stat st;
		if (!path || stat(path, &st) != 0) {
			free(path);
			return mp_error_set(err, MP_ENOTAPPLIC,
					    "%s: not a causal language model "
					    "(no GGUF/llama2.c metadata and no "
					    "config.json beside it)",
					    m->path);
		}
		mp_json *j = NULL;
		s = mp_json_load(path, 1 << 20, &j, err);
		if (s == MP_OK)
			s = from_json(path, j, c, err);
		mp_json_free(j);
		free(path);
	}
	if (s != MP_OK)
		return s;
	if (!c->head_dim)
		c->head_dim = c->dim / c->heads;
	if (c->arch == MP_LLM_GPT2 && c->dim % c->heads)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: n_embd %lld is not a multiple of n_head "
				    "%lld",
				    m->path, (long long)c->dim,
				    (long long)c->heads);
	if (!c->rope_dim)
		c->rope_dim = c->head_dim;
	if (c->kv_heads > c->heads || c->heads % c->kv_heads || c->head_dim % 2 ||
	    c->head_dim < 2)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: %lld attention heads with %lld key/value "
				    "heads of size %lld: not a valid grouping",
				    m->path, (long long)c->heads,
				    (long long)c->kv_heads,
				    (long long)c->head_dim);
	if (c->rope_dim % 2 || c->rope_dim > c->head_dim)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: a rotary dimension of %lld does not "
				    "fit heads of size %lld",
				    m->path, (long long)c->rope_dim,
				    (long long)c->head_dim);
	return MP_OK;
}
