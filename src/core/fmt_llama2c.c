/* fmt_llama2c.c — llama2.c checkpoints (Karpathy's run.c format). No magic:
 * seven little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len; a negative vocab_size means the classifier is stored
 * after the weights instead of being shared with the embedding), then
 * float32 arrays: embedding [vocab, dim], attention RMSNorm [layers, dim],
 * wq [layers, dim, dim], wk and wv [layers, kv_dim, dim], wo [layers, dim,
 * dim], FFN RMSNorm [layers, dim], w1 [layers, hidden, dim], w2 [layers,
 * dim, hidden], w3 [layers, hidden, dim], final RMSNorm [dim], the legacy
 * RoPE cos and sin tables (seq_len * head_size / 2 floats each, skipped),
 * then the classifier [vocab, dim] when not shared. A file is taken only
 * when its size is exactly what its header implies. Tensors get Hugging
 * Face LLaMA names and shapes; the hyper-parameters go to the meta under
 * GGUF's llama.* keys (llama2.c rotates adjacent pairs: the Q/K rows are
 * in Meta's interleaved order, as in a GGUF file, which
 * llama2c.rope_interleaved records). */
#include "model.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HDR_BYTES 28
#define DIM_LIMIT (1LL << 24)

struct hdr {
	int64_t dim, hidden, layers, heads, kv_heads, vocab, seq_len;
	bool shared;
};

static void parse(const uint8_t *b, struct hdr *h)
{
	int32_t v[7];
	for (int i = 0; i < 7; i++)
		v[i] = (int32_t)((uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
				 (uint32_t)b[4 * i + 2] << 16 |
				 (uint32_t)b[4 * i + 3] << 24);
	h->dim = v[0];
	h->hidden = v[1];
	h->layers = v[2];
	h->heads = v[3];
	h->kv_heads = v[4];
	h->shared = v[5] > 0;
	h->vocab = v[5] < 0 ? -(int64_t)v[5] : v[5];
	h->seq_len = v[6];
}

/* The file size the header implies (0 when a field is out of range). The
 * head size is dim / heads rounded down, as run.c computes it. */
static uint64_t implied_size(const struct hdr *h)
{
	const int64_t *f[] = {&h->dim, &h->hidden, &h->layers, &h->heads,
			      &h->kv_heads, &h->vocab, &h->seq_len};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (*f[i] <= 0 || *f[i] > DIM_LIMIT)
			return 0;
	uint64_t d = (uint64_t)h->dim, L = (uint64_t)h->layers;
	uint64_t hs = d / (uint64_t)h->heads;
	uint64_t kv = hs * (uint64_t)h->kv_heads;
	/* Fields are at most 2^24: products of two fit, of three are checked. */
	uint64_t t[10], n = 0, p;
	t[0] = (uint64_t)h->vocab * d;
	t[1] = 2 * L * d; /* both norms */
	if (!mp_mul_u64(L, d * d, &t[2]) || !mp_mul_u64(t[2], 2, &t[2]))
		return 0; /* wq, wo */
	if (!mp_mul_u64(kv, d, &t[3]) || !mp_mul_u64(L, t[3], &t[3]) ||
	    !mp_mul_u64(t[3], 2, &t[3]))
		return 0; /* wk, wv */
	if (!mp_mul_u64(L, (uint64_t)h->hidden * d, &t[4]) ||
	    !mp_mul_u64(t[4], 3, &t[4]))
		return 0; /* w1, w2, w3 */
	t[5] = d;
	t[6] = (uint64_t)h->seq_len * (hs / 2) * 2;
	t[7] = h->shared ? 0 : t[0];
	for (int i = 0; i < 8; i++)
		if (!mp_add_u64(n, t[i], &n))
			return 0;
	if (!mp_mul_u64(n, 4, &p) || !mp_add_u64(p, HDR_BYTES, &p))
		return 0;
	return p;
}

static bool probe(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < HDR_BYTES)
		return false;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return false;
	uint8_t b[HDR_BYTES];
	bool ok = fread(b, 1, HDR_BYTES, fp) == HDR_BYTES;
	fclose(fp);
	if (!ok)
		return false;
	struct hdr h;
	parse(b, &h);
	return implied_size(&h) == (uint64_t)st.st_size;
}

struct put {
	struct mp_model *m;
	const struct mp_file *f;
	int fi;
	uint64_t off;
	struct mp_error *err;
};

/* Add tensor name of shape rows x cols (cols 0: one dimension) at the
 * cursor, which advances past it. */
static mp_status put(struct put *p, const char *name, uint64_t rows,
		     uint64_t cols)
{
	struct mp_tensor *t;
	mp_status s = mp_model_add_tensor(p->m, name, &t, p->err);
	if (s != MP_OK)
		return s;
	t->stored = t->logical = MP_F32;
	uint64_t shape[2] = {rows, cols};
	s = mp_tensor_set_shape(t, cols ? 2 : 1, shape, p->f->path, p->err);
	if (s != MP_OK)
		return s;
	const uint8_t *d;
	s = mp_file_range(p->f, p->off, t->nbytes, &d, p->err);
	if (s != MP_OK)
		return s;
	struct mp_seg seg = {d, t->nbytes};
	s = mp_tensor_set_segs(t, &seg, 1, p->f->path, p->err);
	t->file_index = p->fi;
	t->offset = p->off;
	p->off += t->nbytes;
	return s;
}

/* The per-layer array kind (HF name suffix) of rows x cols for each of
 * the L layers, stored one after another. */
static mp_status put_layers(struct put *p, uint64_t L, const char *suffix,
			    uint64_t rows, uint64_t cols)
{
	char name[128];
	mp_status s = MP_OK;
	for (uint64_t l = 0; l < L && s == MP_OK; l++) {
		snprintf(name, sizeof name, "model.layers.%llu.%s",
			 (unsigned long long)l, suffix);
		s = put(p, name, rows, cols);
	}
	return s;
}

static mp_status meta_int(struct mp_model *m, const char *key, int64_t v,
			  struct mp_error *err)
{
	char b[32];
	snprintf(b, sizeof b, "%lld", (long long)v);
	return mp_model_add_meta(m, key, b, err);
}

static mp_status open_model(struct mp_model *m, const char *path,
			    struct mp_error *err)
{
	int fi;
	mp_status s = mp_model_add_file(m, path, &fi, err);
	if (s != MP_OK)
		return s;
	const struct mp_file *f = &m->files[fi];
	struct hdr h;
	if (f->size < HDR_BYTES)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: shorter than a llama2.c header", path);
	parse(f->data, &h);
	if (implied_size(&h) != f->size)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: llama2.c header implies %llu bytes, the "
				    "file has %llu",
				    path, (unsigned long long)implied_size(&h),
				    (unsigned long long)f->size);
	if (h.dim % h.heads)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: llama2.c header: dim %lld is not a "
				    "multiple of n_heads %lld",
				    path, (long long)h.dim, (long long)h.heads);
	if (h.kv_heads > h.heads || h.heads % h.kv_heads)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: llama2.c header: n_heads %lld is not a "
				    "multiple of n_kv_heads %lld",
				    path, (long long)h.heads,
				    (long long)h.kv_heads);
	uint64_t d = (uint64_t)h.dim, L = (uint64_t)h.layers;
	uint64_t hs = d / (uint64_t)h.heads, kv = hs * (uint64_t)h.kv_heads;
	uint64_t hid = (uint64_t)h.hidden, V = (uint64_t)h.vocab;
	if (hs % 2)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: llama2.c header: head size %llu is odd "
				    "(rotary embeddings need pairs)",
				    path, (unsigned long long)hs);
	struct put p = {m, f, fi, HDR_BYTES, err};
	s = put(&p, "model.embed_tokens.weight", V, d);
	if (s == MP_OK)
		s = put_layers(&p, L, "input_layernorm.weight", d, 0);
	if (s == MP_OK)
		s = put_layers(&p, L, "self_attn.q_proj.weight", d, d);
	if (s == MP_OK)
		s = put_layers(&p, L, "self_attn.k_proj.weight", kv, d);
	if (s == MP_OK)
		s = put_layers(&p, L, "self_attn.v_proj.weight", kv, d);
	if (s == MP_OK)
		s = put_layers(&p, L, "self_attn.o_proj.weight", d, d);
	if (s == MP_OK)
		s = put_layers(&p, L, "post_attention_layernorm.weight", d, 0);
	if (s == MP_OK)
		s = put_layers(&p, L, "mlp.gate_proj.weight", hid, d);
	if (s == MP_OK)
		s = put_layers(&p, L, "mlp.down_proj.weight", d, hid);
	if (s == MP_OK)
		s = put_layers(&p, L, "mlp.up_proj.weight", hid, d);
	if (s == MP_OK)
		s = put(&p, "model.norm.weight", d, 0);
	p.off += (uint64_t)h.seq_len * (hs / 2) * 2 * 4;
	if (s == MP_OK && !h.shared)
		s = put(&p, "lm_head.weight", V, d);
	static const struct {
		const char *key;
		size_t field;
	} ints[] = {
	    {"llama.embedding_length", offsetof(struct hdr, dim)},
	    {"llama.feed_forward_length", offsetof(struct hdr, hidden)},
	    {"llama.block_count", offsetof(struct hdr, layers)},
	    {"llama.attention.head_count", offsetof(struct hdr, heads)},
	    {"llama.attention.head_count_kv", offsetof(struct hdr, kv_heads)},
	    {"llama.vocab_size", offsetof(struct hdr, vocab)},
	    {"llama.context_length", offsetof(struct hdr, seq_len)},
	};
	if (s == MP_OK)
		s = mp_model_add_meta(m, "general.architecture", "llama", err);
	for (size_t i = 0; i < sizeof ints / sizeof ints[0] && s == MP_OK; i++)
		s = meta_int(m, ints[i].key,
			     *(const int64_t *)((const char *)&h + ints[i].field),
			     err);
	if (s == MP_OK)
		s = mp_model_add_meta(m, "llama.attention.layer_norm_rms_epsilon",
				      "1e-05", err);
	if (s == MP_OK)
		s = mp_model_add_meta(m, "llama.rope.freq_base", "10000", err);
	if (s == MP_OK)
		s = mp_model_add_meta(m, "llama2c.rope_interleaved", "true", err);
	if (s == MP_OK)
		s = mp_model_add_meta(m, "llama2c.shared_classifier",
				      h.shared ? "true" : "false", err);
	return s;
}

const struct mp_format_ops mp_fmt_llama2c = {"llama2c", probe, open_model};
