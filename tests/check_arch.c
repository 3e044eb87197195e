/* check_arch.c — architecture signatures: every listed architecture from
 * tensor lists with the shapes of its published config, prefixes and
 * wrappers, partial and unknown models, broken signature files. */
#include "arch.h"
#include "check_suites.h"
#include "fingerprint.h"
#include "identify.h"
#include "model.h"
#include "testutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIGS MP_SRCDATADIR "/architectures.json"

/* A growing list of (name, shape). */
struct tl {
	struct mp_arch_item *v;
	char **names;
	uint64_t (*shapes)[MP_MAX_DIMS];
	size_t n, cap;
};

static void tl_add(struct tl *l, int ndim, const uint64_t *shape,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void tl_add(struct tl *l, int ndim, const uint64_t *shape,
		   const char *fmt, ...)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		l->names = realloc(l->names, l->cap * sizeof *l->names);
		l->shapes = realloc(l->shapes, l->cap * sizeof *l->shapes);
		ck_assert(l->v && l->names && l->shapes);
	}
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	l->names[l->n] = strdup(buf);
	memcpy(l->shapes[l->n], shape, (size_t)ndim * sizeof *shape);
	l->v[l->n] = (struct mp_arch_item){0};
	l->v[l->n].ndim = ndim;
	l->n++;
}

/* Shapes as arguments: S1(a), S2(a, b), S4(a, b, c, d). */
#define S1(a)                                                                  \
	1, (const uint64_t[])                                                  \
	{                                                                      \
		a                                                              \
	}
#define S2(a, b)                                                               \
	2, (const uint64_t[])                                                  \
	{                                                                      \
		a, b                                                           \
	}
#define S3(a, b, c)                                                            \
	3, (const uint64_t[])                                                  \
	{                                                                      \
		a, b, c                                                        \
	}
#define S4(a, b, c, d)                                                         \
	4, (const uint64_t[])                                                  \
	{                                                                      \
		a, b, c, d                                                     \
	}

/* Point the items at the names and shapes (after the last add). */
static const struct mp_arch_item *tl_items(struct tl *l)
{
	for (size_t i = 0; i < l->n; i++) {
		l->v[i].name = l->names[i];
		l->v[i].shape = l->shapes[i];
	}
	return l->v;
}

static void tl_free(struct tl *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->shapes);
	free(l->v);
	*l = (struct tl){0};
}

/* --- generators (shapes from the published configs) ---------------------- */

/* LLaMA-style decoder: HF names under "model.". */
struct dec {
	uint64_t vocab, h, q, kv, ffn, layers, experts;
	bool bias, lm_head;
};

static void gen_decoder(struct tl *l, const struct dec *d)
{
	tl_add(l, S2(d->vocab, d->h), "model.embed_tokens.weight");
	for (uint64_t i = 0; i < d->layers; i++) {
		const char *a = "model.layers.%llu.self_attn.";
		unsigned long long li = (unsigned long long)i;
		char f[128];
		snprintf(f, sizeof f, "%sq_proj.weight", a);
		tl_add(l, S2(d->q, d->h), f, li);
		snprintf(f, sizeof f, "%sk_proj.weight", a);
		tl_add(l, S2(d->kv, d->h), f, li);
		snprintf(f, sizeof f, "%sv_proj.weight", a);
		tl_add(l, S2(d->kv, d->h), f, li);
		snprintf(f, sizeof f, "%so_proj.weight", a);
		tl_add(l, S2(d->h, d->q), f, li);
		if (d->bias) {
			tl_add(l, S1(d->q),
			       "model.layers.%llu.self_attn.q_proj.bias", li);
			tl_add(l, S1(d->kv),
			       "model.layers.%llu.self_attn.k_proj.bias", li);
			tl_add(l, S1(d->kv),
			       "model.layers.%llu.self_attn.v_proj.bias", li);
		}
		if (d->experts) {
			tl_add(l, S2(d->experts, d->h),
			       "model.layers.%llu.block_sparse_moe.gate.weight",
			       li);
			for (uint64_t e = 0; e < d->experts; e++) {
				unsigned long long x = (unsigned long long)e;
				const char *m =
				    "model.layers.%llu."
				    "block_sparse_moe.experts.%llu.";
				snprintf(f, sizeof f, "%sw1.weight", m);
				tl_add(l, S2(d->ffn, d->h), f, li, x);
				snprintf(f, sizeof f, "%sw2.weight", m);
				tl_add(l, S2(d->h, d->ffn), f, li, x);
				snprintf(f, sizeof f, "%sw3.weight", m);
				tl_add(l, S2(d->ffn, d->h), f, li, x);
			}
		} else {
			tl_add(l, S2(d->ffn, d->h),
			       "model.layers.%llu.mlp.gate_proj.weight", li);
			tl_add(l, S2(d->ffn, d->h),
			       "model.layers.%llu.mlp.up_proj.weight", li);
			tl_add(l, S2(d->h, d->ffn),
			       "model.layers.%llu.mlp.down_proj.weight", li);
		}
		tl_add(l, S1(d->h), "model.layers.%llu.input_layernorm.weight",
		       li);
		tl_add(l, S1(d->h),
		       "model.layers.%llu.post_attention_layernorm.weight", li);
	}
	tl_add(l, S1(d->h), "model.norm.weight");
	if (d->lm_head)
		tl_add(l, S2(d->vocab, d->h), "lm_head.weight");
}

static void gen_phi3(struct tl *l)
{
	tl_add(l, S2(32064, 3072), "model.embed_tokens.weight");
	for (unsigned i = 0; i < 32; i++) {
		tl_add(l, S2(9216, 3072),
		       "model.layers.%u.self_attn.qkv_proj.weight", i);
		tl_add(l, S2(3072, 3072),
		       "model.layers.%u.self_attn.o_proj.weight", i);
		tl_add(l, S2(16384, 3072),
		       "model.layers.%u.mlp.gate_up_proj.weight", i);
		tl_add(l, S2(3072, 8192),
		       "model.layers.%u.mlp.down_proj.weight", i);
		tl_add(l, S1(3072), "model.layers.%u.input_layernorm.weight",
		       i);
		tl_add(l, S1(3072),
		       "model.layers.%u.post_attention_layernorm.weight", i);
	}
	tl_add(l, S1(3072), "model.norm.weight");
	tl_add(l, S2(32064, 3072), "lm_head.weight");
}

/* The LDM UNet of SD 1.x/2.x (ctx 768/1024, ch 320), under
 * model.diffusion_model., with the VAE and text encoder alongside as a
 * full checkpoint has them. */
static void gen_sd(struct tl *l, uint64_t ctx)
{
	const char *p = "model.diffusion_model.";
	tl_add(l, S2(1280, 320), "%stime_embed.0.weight", p);
	tl_add(l, S2(1280, 1280), "%stime_embed.2.weight", p);
	tl_add(l, S4(320, 4, 3, 3), "%sinput_blocks.0.0.weight", p);
	static const unsigned in_b[] = {1, 2, 4, 5, 7, 8};
	static const uint64_t in_c[] = {320, 320, 640, 640, 1280, 1280};
	for (int k = 0; k < 6; k++) {
		tl_add(l, S2(in_c[k], ctx),
		       "%sinput_blocks.%u.1.transformer_blocks.0.attn2.to_k."
		       "weight",
		       p, in_b[k]);
		tl_add(l, S2(in_c[k], in_c[k]),
		       "%sinput_blocks.%u.1.transformer_blocks.0.attn2.to_q."
		       "weight",
		       p, in_b[k]);
	}
	tl_add(l, S4(1280, 1280, 3, 3), "%smiddle_block.0.in_layers.2.weight",
	       p);
	tl_add(l, S2(1280, ctx),
	       "%smiddle_block.1.transformer_blocks.0.attn2.to_k.weight", p);
	static const uint64_t out_c[] = {1280, 1280, 1280, 640, 640,
					 640,  320,  320,  320};
	for (unsigned k = 0; k < 9; k++)
		tl_add(l, S2(out_c[k], ctx),
		       "%soutput_blocks.%u.1.transformer_blocks.0.attn2.to_k."
		       "weight",
		       p, k + 3);
	tl_add(l, S4(4, 320, 3, 3), "%sout.2.weight", p);
	tl_add(l, S4(128, 3, 3, 3), "first_stage_model.encoder.conv_in.weight");
	tl_add(l, S2(49408, ctx == 768 ? 768 : 1024),
	       "cond_stage_model.transformer.text_model.embeddings."
	       "token_embedding.weight");
}

/* SDXL base (ch 320, adm 2816, ctx 2048) or refiner (384, 2560, 1280). */
static void gen_sdxl(struct tl *l, bool refiner)
{
	uint64_t ch = refiner ? 384 : 320, ctx = refiner ? 1280 : 2048;
	uint64_t adm = refiner ? 2560 : 2816, t = 4 * ch;
	tl_add(l, S2(t, ch), "time_embed.0.weight");
	tl_add(l, S2(t, adm), "label_emb.0.0.weight");
	tl_add(l, S4(ch, 4, 3, 3), "input_blocks.0.0.weight");
	unsigned depth = refiner ? 4 : 10;
	for (unsigned b = 4; b <= 8; b += b == 5 ? 2 : 1) {
		uint64_t c = b < 7 ? 2 * ch : 4 * ch;
		unsigned nb = b < 7 ? 2 : depth;
		for (unsigned j = 0; j < nb; j++)
			tl_add(l, S2(c, ctx),
			       "input_blocks.%u.1.transformer_blocks.%u.attn2."
			       "to_k.weight",
			       b, j);
	}
	for (unsigned j = 0; j < depth; j++)
		tl_add(l, S2(4 * ch, ctx),
		       "middle_block.1.transformer_blocks.%u.attn2.to_k.weight",
		       j);
	for (unsigned b = 0; b < 6; b++)
		tl_add(l, S2(b < 3 ? 4 * ch : 2 * ch, ctx),
		       "output_blocks.%u.1.transformer_blocks.0.attn2.to_k."
		       "weight",
		       b);
	tl_add(l, S4(4, ch, 3, 3), "out.2.weight");
}

static void gen_sd3(struct tl *l)
{
	const uint64_t h = 1536;
	tl_add(l, S4(h, 16, 2, 2),
	       "model.diffusion_model.x_embedder.proj."
	       "weight");
	tl_add(l, S3(1, 36864, h), "model.diffusion_model.pos_embed");
	tl_add(l, S2(h, 4096), "model.diffusion_model.context_embedder.weight");
	tl_add(l, S2(h, 256), "model.diffusion_model.t_embedder.mlp.0.weight");
	tl_add(l, S2(h, 2048), "model.diffusion_model.y_embedder.mlp.0.weight");
	for (unsigned i = 0; i < 24; i++) {
		const char *p = "model.diffusion_model.joint_blocks";
		tl_add(l, S2(3 * h, h), "%s.%u.x_block.attn.qkv.weight", p, i);
		tl_add(l, S2(h, h), "%s.%u.x_block.attn.proj.weight", p, i);
		tl_add(l, S2(4 * h, h), "%s.%u.x_block.mlp.fc1.weight", p, i);
		tl_add(l, S2(3 * h, h), "%s.%u.context_block.attn.qkv.weight",
		       p, i);
		if (i < 23) /* the last context block is pre-only */
			tl_add(l, S2(4 * h, h),
			       "%s.%u.context_block.mlp.fc1.weight", p, i);
	}
	tl_add(l, S2(64, h), "model.diffusion_model.final_layer.linear.weight");
}

static void gen_flux(struct tl *l)
{
	const uint64_t h = 3072;
	tl_add(l, S2(h, 64), "img_in.weight");
	tl_add(l, S2(h, 4096), "txt_in.weight");
	tl_add(l, S2(h, 256), "time_in.in_layer.weight");
	tl_add(l, S2(h, 768), "vector_in.in_layer.weight");
	tl_add(l, S2(h, 256), "guidance_in.in_layer.weight");
	for (unsigned i = 0; i < 19; i++) {
		tl_add(l, S2(3 * h, h), "double_blocks.%u.img_attn.qkv.weight",
		       i);
		tl_add(l, S2(3 * h, h), "double_blocks.%u.txt_attn.qkv.weight",
		       i);
		tl_add(l, S2(4 * h, h), "double_blocks.%u.img_mlp.0.weight", i);
	}
	for (unsigned i = 0; i < 38; i++)
		tl_add(l, S2(21504, h), "single_blocks.%u.linear1.weight", i);
	tl_add(l, S2(64, h), "final_layer.linear.weight");
}

static void gen_vae(struct tl *l)
{
	tl_add(l, S4(128, 3, 3, 3), "encoder.conv_in.weight");
	static const uint64_t ch[] = {128, 128, 256, 512};
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = 0; j < 2; j++)
			tl_add(l, S4(ch[i], i && !j ? ch[i - 1] : ch[i], 3, 3),
			       "encoder.down.%u.block.%u.conv1.weight", i, j);
	tl_add(l, S4(512, 512, 1, 1), "encoder.mid.attn_1.q.weight");
	tl_add(l, S4(8, 512, 3, 3), "encoder.conv_out.weight");
	tl_add(l, S4(8, 8, 1, 1), "quant_conv.weight");
	tl_add(l, S4(4, 4, 1, 1), "post_quant_conv.weight");
	tl_add(l, S4(512, 4, 3, 3), "decoder.conv_in.weight");
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = 0; j < 3; j++)
			tl_add(l, S4(ch[i], ch[i], 3, 3),
			       "decoder.up.%u.block.%u.conv1.weight", i, j);
	tl_add(l, S4(3, 128, 3, 3), "decoder.conv_out.weight");
}

/* CLIP text encoder, transformers layout (CLIP-L: 768, 12 layers). */
static void gen_clip_hf(struct tl *l, uint64_t h, unsigned layers)
{
	const char *e = "text_model.encoder.layers";
	tl_add(l, S2(49408, h), "text_model.embeddings.token_embedding.weight");
	tl_add(l, S2(77, h), "text_model.embeddings.position_embedding.weight");
	for (unsigned i = 0; i < layers; i++) {
		tl_add(l, S2(h, h), "%s.%u.self_attn.q_proj.weight", e, i);
		tl_add(l, S2(h, h), "%s.%u.self_attn.k_proj.weight", e, i);
		tl_add(l, S2(h, h), "%s.%u.self_attn.v_proj.weight", e, i);
		tl_add(l, S2(h, h), "%s.%u.self_attn.out_proj.weight", e, i);
		tl_add(l, S2(4 * h, h), "%s.%u.mlp.fc1.weight", e, i);
		tl_add(l, S2(h, 4 * h), "%s.%u.mlp.fc2.weight", e, i);
		tl_add(l, S1(h), "%s.%u.layer_norm1.weight", e, i);
	}
	tl_add(l, S1(h), "text_model.final_layer_norm.weight");
}

/* OpenCLIP ViT-bigG/14 text tower (1280 wide, 32 layers). */
static void gen_clip_g(struct tl *l)
{
	const uint64_t h = 1280;
	tl_add(l, S2(49408, h), "token_embedding.weight");
	tl_add(l, S2(77, h), "positional_embedding");
	for (unsigned i = 0; i < 32; i++) {
		const char *r = "transformer.resblocks";
		tl_add(l, S2(3 * h, h), "%s.%u.attn.in_proj_weight", r, i);
		tl_add(l, S2(h, h), "%s.%u.attn.out_proj.weight", r, i);
		tl_add(l, S2(4 * h, h), "%s.%u.mlp.c_fc.weight", r, i);
		tl_add(l, S2(h, 4 * h), "%s.%u.mlp.c_proj.weight", r, i);
		tl_add(l, S1(h), "%s.%u.ln_1.weight", r, i);
	}
	tl_add(l, S1(h), "ln_final.weight");
	tl_add(l, S2(h, h), "text_projection");
}

/* T5: encoder only (v1.1 gated FFN) or encoder-decoder (original). */
static void gen_t5(struct tl *l, uint64_t h, uint64_t inner, uint64_t ffn,
		   unsigned layers, bool decoder)
{
	tl_add(l, S2(32128, h), "shared.weight");
	for (unsigned i = 0; i < layers; i++) {
		const char *b = "encoder.block";
		tl_add(l, S2(inner, h), "%s.%u.layer.0.SelfAttention.q.weight",
		       b, i);
		tl_add(l, S2(inner, h), "%s.%u.layer.0.SelfAttention.k.weight",
		       b, i);
		tl_add(l, S2(inner, h), "%s.%u.layer.0.SelfAttention.v.weight",
		       b, i);
		tl_add(l, S2(h, inner), "%s.%u.layer.0.SelfAttention.o.weight",
		       b, i);
		if (!i)
			tl_add(l, S2(32, inner / 64),
			       "%s.0.layer.0.SelfAttention.relative_attention_"
			       "bias.weight",
			       b);
		tl_add(l, S1(h), "%s.%u.layer.0.layer_norm.weight", b, i);
		if (decoder) {
			tl_add(l, S2(ffn, h),
			       "%s.%u.layer.1.DenseReluDense.wi.weight", b, i);
		} else {
			tl_add(l, S2(ffn, h),
			       "%s.%u.layer.1.DenseReluDense.wi_0.weight", b,
			       i);
			tl_add(l, S2(ffn, h),
			       "%s.%u.layer.1.DenseReluDense.wi_1.weight", b,
			       i);
		}
		tl_add(l, S2(h, ffn), "%s.%u.layer.1.DenseReluDense.wo.weight",
		       b, i);
		if (!decoder)
			continue;
		const char *d = "decoder.block";
		tl_add(l, S2(inner, h), "%s.%u.layer.0.SelfAttention.q.weight",
		       d, i);
		tl_add(l, S2(inner, h),
		       "%s.%u.layer.1.EncDecAttention.q.weight", d, i);
		tl_add(l, S2(h, inner),
		       "%s.%u.layer.1.EncDecAttention.o.weight", d, i);
		tl_add(l, S2(h, ffn), "%s.%u.layer.2.DenseReluDense.wo.weight",
		       d, i);
	}
	tl_add(l, S1(h), "encoder.final_layer_norm.weight");
	if (decoder)
		tl_add(l, S1(h), "decoder.final_layer_norm.weight");
}

static void gen_gpt2(struct tl *l)
{
	tl_add(l, S2(50257, 768), "wte.weight");
	tl_add(l, S2(1024, 768), "wpe.weight");
	for (unsigned i = 0; i < 12; i++) {
		tl_add(l, S1(768), "h.%u.ln_1.weight", i);
		tl_add(l, S1(768), "h.%u.ln_1.bias", i);
		tl_add(l, S2(768, 2304), "h.%u.attn.c_attn.weight", i);
		tl_add(l, S1(2304), "h.%u.attn.c_attn.bias", i);
		tl_add(l, S2(768, 768), "h.%u.attn.c_proj.weight", i);
		tl_add(l, S1(768), "h.%u.ln_2.weight", i);
		tl_add(l, S2(768, 3072), "h.%u.mlp.c_fc.weight", i);
		tl_add(l, S2(3072, 768), "h.%u.mlp.c_proj.weight", i);
	}
	tl_add(l, S1(768), "ln_f.weight");
	tl_add(l, S1(768), "ln_f.bias");
}

/* BERT-base (bert.) or ViT-B/16 (vit.): 768 wide, 12 layers. */
static void gen_encoder(struct tl *l, bool vit)
{
	const char *p = vit ? "vit." : "bert.";
	if (vit) {
		tl_add(l, S3(1, 1, 768), "%sembeddings.cls_token", p);
		tl_add(l, S3(1, 197, 768), "%sembeddings.position_embeddings",
		       p);
		tl_add(l, S4(768, 3, 16, 16),
		       "%sembeddings.patch_embeddings.projection.weight", p);
	} else {
		tl_add(l, S2(30522, 768), "%sembeddings.word_embeddings.weight",
		       p);
		tl_add(l, S2(512, 768),
		       "%sembeddings.position_embeddings.weight", p);
		tl_add(l, S2(2, 768),
		       "%sembeddings.token_type_embeddings.weight", p);
	}
	const char *a = vit ? "attention.attention" : "attention.self";
	for (unsigned i = 0; i < 12; i++) {
		const char *e = "encoder.layer";
		tl_add(l, S2(768, 768), "%s%s.%u.%s.query.weight", p, e, i, a);
		tl_add(l, S2(768, 768), "%s%s.%u.%s.key.weight", p, e, i, a);
		tl_add(l, S2(768, 768), "%s%s.%u.%s.value.weight", p, e, i, a);
		tl_add(l, S2(768, 768), "%s%s.%u.attention.output.dense.weight",
		       p, e, i);
		tl_add(l, S2(3072, 768), "%s%s.%u.intermediate.dense.weight", p,
		       e, i);
		tl_add(l, S2(768, 3072), "%s%s.%u.output.dense.weight", p, e,
		       i);
	}
	if (vit)
		tl_add(l, S1(768), "%slayernorm.weight", p);
	else
		tl_add(l, S2(768, 768), "%spooler.dense.weight", p);
}

/* --- tests --------------------------------------------------------------- */

static struct mp_arch_set *load(void)
{
	struct mp_arch_set *s;
	struct mp_error err;
	ck_assert_msg(mp_arch_load(SIGS, &s, &err) == MP_OK, "%s", err.msg);
	return s;
}

static struct mp_arch_result *match(const struct mp_arch_set *s, struct tl *l)
{
	struct mp_arch_result *r;
	struct mp_error err;
	ck_assert(mp_arch_match(s, tl_items(l), l->n, NULL, &r, &err) == MP_OK);
	return r;
}

/* Expected reading of one architecture (from its published config). */
struct want {
	const char *name;
	uint64_t hidden, layers, heads, kv_heads;
};

static void check_want(const struct mp_arch_result *r, const struct want *w)
{
	const struct mp_arch_match *b = &r->m[0];
	ck_assert_msg(r->known, "%s: unknown (best %s %.3f %s)", w->name,
		      b->name, b->coverage, b->conflict ? b->conflict : "");
	ck_assert_str_eq(b->name, w->name);
	ck_assert_msg(b->coverage == 1.0, "%s: coverage %.4f, missing %s",
		      w->name, b->coverage,
		      b->nmissing ? b->missing[0].pattern : "-");
	ck_assert_uint_eq(b->hidden, w->hidden);
	ck_assert_uint_eq(b->layers, w->layers);
	ck_assert_uint_eq(b->heads, w->heads);
	ck_assert_uint_eq(b->kv_heads, w->kv_heads);
	ck_assert(!b->rejected);
}

/* l matches w exactly (coverage 1); frees l. */
static void expect(const struct mp_arch_set *s, struct tl *l, struct want w)
{
	struct mp_arch_result *r = match(s, l);
	check_want(r, &w);
	mp_arch_result_free(r);
	tl_free(l);
}

START_TEST(test_decoders)
{
	struct mp_arch_set *s = load();
	static const struct {
		struct dec d;
		struct want w;
	} c[] = {
	    /* LLaMA-2 7B (LLaMA-1 7B has the same shapes) */
	    {{32000, 4096, 4096, 4096, 11008, 32, 0, false, true},
	     {"LLaMA-1/LLaMA-2", 4096, 32, 32, 32}},
	    /* LLaMA-2 70B: GQA, 8 kv heads */
	    {{32000, 8192, 8192, 1024, 28672, 80, 0, false, true},
	     {"LLaMA-2 70B", 8192, 80, 64, 8}},
	    /* LLaMA-3 8B */
	    {{128256, 4096, 4096, 1024, 14336, 32, 0, false, true},
	     {"LLaMA-3", 4096, 32, 32, 8}},
	    /* LLaMA-3.2 1B: tied embeddings, no lm_head, heads of 64 */
	    {{128256, 2048, 2048, 512, 8192, 16, 0, false, false},
	     {"LLaMA-3", 2048, 16, 32, 8}},
	    /* Mistral 7B v0.1 */
	    {{32000, 4096, 4096, 1024, 14336, 32, 0, false, true},
	     {"Mistral", 4096, 32, 32, 8}},
	    /* Mixtral 8x7B */
	    {{32000, 4096, 4096, 1024, 14336, 32, 8, false, true},
	     {"Mixtral", 4096, 32, 32, 8}},
	    /* Qwen2 7B */
	    {{152064, 3584, 3584, 512, 18944, 28, 0, true, true},
	     {"Qwen2", 3584, 28, 28, 4}},
	    /* Qwen2 0.5B (tied, heads of 64) */
	    {{151936, 896, 896, 128, 4864, 24, 0, true, false},
	     {"Qwen2", 896, 24, 14, 2}},
	    /* Gemma 7B: 16 heads of 256, q rows 4096 > hidden 3072 */
	    {{256000, 3072, 4096, 4096, 24576, 28, 0, false, false},
	     {"Gemma", 3072, 28, 16, 16}},
	    /* Gemma 2B: multi-query, one kv head */
	    {{256000, 2048, 2048, 256, 16384, 18, 0, false, false},
	     {"Gemma", 2048, 18, 8, 1}},
	    /* TinyLlama 1.1B: LLaMA-2's vocabulary with GQA at hidden 2048,
	     * no named signature: the fallback, heads unreadable */
	    {{32000, 2048, 2048, 256, 5632, 22, 0, false, true},
	     {"LLaMA-style decoder", 2048, 22, 0, 0}},
	    /* SmolLM 135M: vocabulary 49152, tied embeddings */
	    {{49152, 576, 576, 192, 1536, 30, 0, false, false},
	     {"LLaMA-style decoder", 576, 30, 0, 0}},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct tl l = {0};
		gen_decoder(&l, &c[i].d);
		struct mp_arch_result *r = match(s, &l);
		check_want(r, &c[i].w);
		ck_assert_uint_eq(r->m[0].nextra, 0);
		mp_arch_result_free(r);
		tl_free(&l);
	}
	struct tl l = {0};
	gen_phi3(&l);
	struct mp_arch_result *r = match(s, &l);
	check_want(r, &(struct want){"Phi-3", 3072, 32, 32, 0});
	mp_arch_result_free(r);
	tl_free(&l);
	mp_arch_free(s);
}
END_TEST

START_TEST(test_diffusion)
{
	struct mp_arch_set *s = load();
	struct tl l = {0};
	struct mp_arch_result *r;

	gen_sd(&l, 768);
	r = match(s, &l);
	check_want(r, &(struct want){"SD 1.x", 320, 0, 0, 0});
	/* the VAE and the text encoder of a full checkpoint are extra */
	ck_assert_uint_eq(r->m[0].nextra, 2);
	ck_assert_str_eq(r->m[0].extra[0].pattern,
			 "cond_stage_model.transformer.text_model.embeddings."
			 "token_embedding.weight");
	/* SD 2.x is ruled out by the context width 768 */
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->m[i].name, "SD 2.x")) {
			ck_assert(r->m[i].rejected);
			ck_assert_ptr_nonnull(
			    strstr(r->m[i].conflict, "wants [*, 1024]"));
		}
	mp_arch_result_free(r);
	tl_free(&l);

	gen_sd(&l, 1024);
	expect(s, &l, (struct want){"SD 2.x", 320, 0, 0, 0});

	gen_sdxl(&l, false);
	expect(s, &l, (struct want){"SDXL base", 320, 0, 0, 0});

	gen_sdxl(&l, true);
	expect(s, &l, (struct want){"SDXL refiner", 384, 0, 0, 0});

	gen_sd3(&l);
	expect(s, &l, (struct want){"SD3", 1536, 24, 24, 24});

	gen_flux(&l);
	expect(s, &l, (struct want){"Flux", 3072, 19, 24, 24});

	gen_vae(&l);
	expect(s, &l, (struct want){"SD VAE", 128, 0, 0, 0});
	mp_arch_free(s);
}
END_TEST

START_TEST(test_encoders)
{
	struct mp_arch_set *s = load();
	struct tl l = {0};

	gen_clip_hf(&l, 768, 12);
	expect(s, &l, (struct want){"CLIP-L", 768, 12, 12, 12});

	gen_clip_g(&l);
	expect(s, &l, (struct want){"CLIP-G", 1280, 32, 20, 20});

	gen_clip_hf(&l, 1280, 32);
	expect(s, &l,
	       (struct want){"CLIP-G (transformers layout)", 1280, 32, 20, 20});

	/* T5-XXL v1.1 encoder (the SD3/Flux text encoder) */
	gen_t5(&l, 4096, 4096, 10240, 24, false);
	expect(s, &l, (struct want){"T5 encoder", 4096, 24, 64, 64});

	/* t5-base, encoder and decoder */
	gen_t5(&l, 768, 768, 3072, 12, true);
	expect(s, &l, (struct want){"T5", 768, 12, 12, 12});

	gen_gpt2(&l);
	expect(s, &l, (struct want){"GPT-2", 768, 12, 12, 12});

	gen_encoder(&l, false);
	expect(s, &l, (struct want){"BERT", 768, 12, 12, 12});

	gen_encoder(&l, true);
	expect(s, &l, (struct want){"ViT", 768, 12, 12, 12});
	mp_arch_free(s);
}
END_TEST

START_TEST(test_normalise)
{
	struct mp_arch_set *s = load();
	ck_assert_str_eq(mp_arch_normalise(s, "model.layers.0.x"),
			 "layers.0.x");
	ck_assert_str_eq(mp_arch_normalise(s, "state_dict.module.model."
					      "diffusion_model.out.2.weight"),
			 "out.2.weight");
	ck_assert_str_eq(
	    mp_arch_normalise(s, "ema.transformer.h.0.ln_1.weight"),
	    "h.0.ln_1.weight");
	/* a prefix is never the whole name */
	ck_assert_str_eq(mp_arch_normalise(s, "model."), "model.");
	ck_assert_str_eq(mp_arch_normalise(s, "lm_head.weight"),
			 "lm_head.weight");
	mp_arch_free(s);
}
END_TEST

/* A scaled-down LLaMA-3 (vocabulary 128256 as published, hidden 8, two
 * layers) written as safetensors under a "state_dict.model." wrapper, read
 * from the model and from its fingerprint. */
START_TEST(test_model_file)
{
	struct mp_arch_set *s = load();
	struct tl l = {0};
	gen_decoder(&l, &(struct dec){128256, 8, 8, 4, 16, 2, 0, false, false});
	struct tu_tensor *t = calloc(l.n, sizeof *t);
	static uint16_t zeros[128256 * 8];
	char(*names)[128] = calloc(l.n, sizeof *names);
	for (size_t i = 0; i < l.n; i++) {
		snprintf(names[i], sizeof names[i], "state_dict.%s",
			 l.names[i]);
		uint64_t numel = 1;
		t[i].name = names[i];
		t[i].dtype = "F16";
		t[i].ndim = l.v[i].ndim;
		for (int d = 0; d < t[i].ndim; d++) {
			t[i].shape[d] = l.shapes[i][d];
			numel *= l.shapes[i][d];
		}
		t[i].data = zeros;
		t[i].nbytes = numel * 2;
	}
	char *dir = tu_tmpdir(), *path = tu_path(dir, "llama3.safetensors");
	tu_write_safetensors(path, t, (int)l.n, NULL);
	struct mp_model *m;
	struct mp_error err;
	ck_assert_msg(mp_model_open(path, &m, &err) == MP_OK, "%s", err.msg);
	struct mp_arch_result *r;
	ck_assert(mp_arch_match_model(s, m, &r, &err) == MP_OK);
	/* 8 / 128 is no whole number of heads: heads stay unknown */
	check_want(r, &(struct want){"LLaMA-3", 8, 2, 0, 0});
	mp_arch_result_free(r);
	struct mp_fingerprint *fp;
	ck_assert(mp_fp_compute(m, "tensors", NULL, 1, NULL, &fp, &err) ==
		  MP_OK);
	ck_assert(mp_arch_match_fp(s, fp, &r, &err) == MP_OK);
	check_want(r, &(struct want){"LLaMA-3", 8, 2, 0, 0});
	mp_json *j = mp_arch_result_json(r);
	ck_assert_str_eq(mp_json_str(mp_json_get(j, "name")), "LLaMA-3");
	ck_assert(mp_json_num(mp_json_get(j, "coverage")) == 1.0);
	ck_assert(mp_json_num(mp_json_get(j, "layers")) == 2);
	ck_assert(mp_json_is_null(mp_json_get(j, "heads")));
	mp_json_free(j);
	mp_arch_result_free(r);
	mp_fp_free(fp);
	mp_model_free(m);
	tu_rmtree(dir);
	free(path);
	free(dir);
	free(names);
	free(t);
	tl_free(&l);
	mp_arch_free(s);
}
END_TEST

/* LLaMA-2 7B without the gate projections of its last two layers and with
 * four adapter tensors: 9 patterns per layer and 3 others, coverage
 * (32*9 + 3 - 2) / (32*9 + 3). */
START_TEST(test_partial)
{
	struct mp_arch_set *s = load();
	struct tl l = {0}, k = {0};
	gen_decoder(&l, &(struct dec){32000, 4096, 4096, 4096, 11008, 32, 0,
				      false, true});
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.names[i],
			   "model.layers.30.mlp.gate_proj.weight") &&
		    strcmp(l.names[i], "model.layers.31.mlp.gate_proj.weight"))
			tl_add(&k, l.v[i].ndim, l.shapes[i], "%s", l.names[i]);
	for (unsigned a = 0; a < 4; a++)
		tl_add(&k, S2(16, 4096), "adapter.%u.down.weight", a);
	struct mp_arch_result *r = match(s, &k);
	const struct mp_arch_match *b = &r->m[0];
	ck_assert(r->known);
	ck_assert_str_eq(b->name, "LLaMA-1/LLaMA-2");
	ck_assert_uint_eq(b->expected, 291);
	ck_assert_uint_eq(b->present, 289);
	ck_assert_double_eq_tol(b->coverage, 289.0 / 291.0, 1e-12);
	ck_assert_uint_eq(b->nmissing, 1);
	ck_assert_str_eq(b->missing[0].pattern,
			 "layers.{30..31}.mlp.gate_proj.weight");
	ck_assert_uint_eq(b->missing[0].count, 2);
	ck_assert_uint_eq(b->nextra, 1);
	ck_assert_str_eq(b->extra[0].pattern, "adapter.{0..3}.down.weight");
	ck_assert_uint_eq(b->extra[0].count, 4);
	mp_arch_result_free(r);
	tl_free(&l);

	/* three tensors of the 291 left: below 50% */
	tl_free(&k);
	tl_add(&k, S2(32000, 4096), "model.embed_tokens.weight");
	tl_add(&k, S2(4096, 4096), "model.layers.0.self_attn.q_proj.weight");
	tl_add(&k, S2(4096, 4096), "model.layers.31.self_attn.q_proj.weight");
	r = match(s, &k);
	ck_assert(!r->known);
	ck_assert_str_eq(r->m[0].name, "LLaMA-1/LLaMA-2");
	ck_assert_double_eq_tol(r->m[0].coverage, 3.0 / 291.0, 1e-12);
	mp_arch_result_free(r);
	tl_free(&k);
	mp_arch_free(s);
}
END_TEST

START_TEST(test_unknown)
{
	struct mp_arch_set *s = load();
	struct tl l = {0};
	tl_add(&l, S4(32, 3, 3, 3), "conv1.weight");
	tl_add(&l, S2(10, 512), "fc.weight");
	struct mp_arch_result *r = match(s, &l);
	ck_assert(!r->known);
	mp_json *j = mp_arch_result_json(r);
	ck_assert_str_eq(mp_json_str(mp_json_get(j, "name")), "unknown");
	ck_assert(!mp_json_true(mp_json_get(j, "known")));
	mp_json_free(j);
	mp_arch_result_free(r);
	tl_free(&l);

	/* LLaMA names with q/k/v biases and a vocabulary Qwen2 does not
	 * have: every candidate ruled out, the named ones first */
	gen_decoder(&l,
		    &(struct dec){50000, 64, 64, 64, 128, 2, 0, true, true});
	r = match(s, &l);
	ck_assert(!r->known);
	ck_assert(r->m[0].rejected);
	ck_assert(!r->m[0].fallback);
	ck_assert_str_eq(r->m[0].name, "Qwen2");
	ck_assert_ptr_nonnull(strstr(r->m[0].conflict, "[50000, 64]"));
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->m[i].name, "LLaMA-style decoder")) {
			ck_assert(r->m[i].rejected);
			ck_assert_ptr_nonnull(
			    strstr(r->m[i].conflict, "q_proj.bias"));
		}
	mp_arch_result_free(r);
	tl_free(&l);

	/* no tensors at all */
	ck_assert(mp_arch_match(s, NULL, 0, NULL, &r, &(struct mp_error){0}) ==
		  MP_OK);
	ck_assert(!r->known);
	mp_arch_result_free(r);
	mp_arch_free(s);
}
END_TEST

/* Which architectures may be related: named signatures only to the same
 * name; a fallback (an added token makes a LLaMA-2 7B or a Mistral 7B a
 * LLaMA-style decoder) and an unknown to anything. */
START_TEST(test_compatible)
{
	struct mp_arch_set *s = load();
	static const struct dec d[] = {
	    {32000, 4096, 4096, 4096, 11008, 2, 0, false, true}, /* LLaMA-2 */
	    {32000, 4096, 4096, 1024, 14336, 2, 0, false, true}, /* Mistral */
	    {32001, 4096, 4096, 4096, 11008, 2, 0, false, true}, /* fallback */
	    {32001, 4096, 4096, 1024, 14336, 2, 0, false, true}, /* fallback */
	    {50000, 64, 64, 64, 128, 2, 0, true, true},		 /* unknown */
	};
	static const char *const name[] = {"LLaMA-1/LLaMA-2", "Mistral",
					   "LLaMA-style decoder",
					   "LLaMA-style decoder", "unknown"};
	struct mp_arch_result *r[5];
	for (size_t i = 0; i < 5; i++) {
		struct tl l = {0};
		gen_decoder(&l, &d[i]);
		r[i] = match(s, &l);
		ck_assert_str_eq(r[i]->known ? r[i]->m[0].name : "unknown",
				 name[i]);
		tl_free(&l);
	}
	for (size_t i = 0; i < 5; i++)
		for (size_t k = 0; k < 5; k++)
			ck_assert_msg(mp_arch_compatible(r[i], r[k]) ==
					  (i == k || i >= 2 || k >= 2),
				      "%zu %zu", i, k);
	for (size_t i = 0; i < 5; i++)
		mp_arch_result_free(r[i]);
	mp_arch_free(s);
}
END_TEST

START_TEST(test_broken_signatures)
{
	static const struct {
		const char *text, *msg;
	} c[] = {
	    {"{\"format\": \"modelprint-architectures\", ", "bad.json"},
	    {"[]", "not an architecture file"},
	    {"{\"format\": \"x\", \"architectures\": []}",
	     "not an architecture file"},
	    {"{\"format\": \"modelprint-architectures\", \"architectures\": "
	     "[]}",
	     "\"architectures\" must be a non-empty array"},
	    {"{\"format\": \"modelprint-architectures\", \"architectures\": "
	     "[{\"name\": \"A\", \"family\": \"a\", \"require\": "
	     "[\"layers.{i.x\"]}]}",
	     "architecture 0 (A): require[0] has a '{' not closed"},
	    {"{\"format\": \"modelprint-architectures\", \"architectures\": "
	     "[{\"name\": \"A\", \"family\": \"a\", \"require\": "
	     "[\"x.{i}.{i}.y\"]}]}",
	     "require[0] has {i} twice"},
	    {"{\"format\": \"modelprint-architectures\", \"architectures\": "
	     "[{\"name\": \"A\", \"family\": \"a\", \"fallback\": 1, "
	     "\"require\": [\"x\"]}]}",
	     "architecture 0 (A): fallback needs true or false"},
	    {"{\"format\": \"modelprint-architectures\", \"architectures\": "
	     "[{\"name\": \"A\", \"family\": \"a\", \"require\": "
	     "[[\"x\", -1]]}]}",
	     "require[0] has a dimension that is neither"},
	    {"{\"format\": \"modelprint-architectures\", \"architectures\": "
	     "[{\"name\": \"A\", \"family\": \"a\", \"require\": "
	     "[[\"x\", \"h\"]], \"vars\": {\"k\": {\"in\": [1]}}}]}",
	     "vars[0] names a dimension no shape uses"},
	    {"{\"format\": \"modelprint-architectures\", \"architectures\": "
	     "[{\"name\": \"A\", \"family\": \"a\", \"require\": "
	     "[[\"x\", \"h\"]], \"variant\": {\"hidden\": \"w\"}}]}",
	     "variant[0] names a dimension no shape uses"},
	    {"{\"format\": \"modelprint-architectures\", \"architectures\": "
	     "[{\"name\": \"A\", \"family\": \"a\", \"require\": "
	     "[[\"x\", \"h\"]], \"variant\": {\"head_dim_by_hidden\": "
	     "{\"08\": 1}}}]}",
	     "head_dim_by_hidden maps"},
	    {"{\"format\": \"modelprint-architectures\", \"architectures\": "
	     "[{\"name\": \"A\", \"family\": \"a\", \"require\": []}]}",
	     "require"},
	    {"{\"format\": \"modelprint-architectures\", \"version\": 2, "
	     "\"architectures\": [{\"name\": \"A\", \"family\": \"a\", "
	     "\"require\": [\"x\"]}]}",
	     "version must be 1"},
	    {"{\"format\": \"modelprint-architectures\", \"min_coverage\": 2, "
	     "\"architectures\": [{\"name\": \"A\", \"family\": \"a\", "
	     "\"require\": [\"x\"]}]}",
	     "min_coverage must be"},
	    {"{\"format\": \"modelprint-architectures\", \"architectures\": "
	     "[{\"name\": \"A\", \"family\": \"a\", \"require\": [\"x\"], "
	     "\"requires\": []}]}",
	     "has a key other than"},
	};
	char *dir = tu_tmpdir(), *path = tu_path(dir, "bad.json");
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		tu_write_str(path, c[i].text);
		struct mp_arch_set *s = (struct mp_arch_set *)1;
		struct mp_error err;
		ck_assert(mp_arch_load(path, &s, &err) != MP_OK);
		ck_assert_ptr_null(s);
		ck_assert_msg(strstr(err.msg, c[i].msg) &&
				  strstr(err.msg, "bad.json"),
			      "case %zu: %s", i, err.msg);
	}
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* A `tensors` fingerprint of the items of l without files: 64 sketch
 * values per tensor (base's plus noise, or fresh ones), statistics of the
 * sketch, a distinct SHA-256 unless a copy; tensors named skip left out. */
static struct mp_fingerprint *fp_of_items(struct tl *l, uint64_t seed,
					  const struct mp_fingerprint *base,
					  double noise, const char *skip)
{
	struct mp_fingerprint *fp = calloc(1, sizeof *fp);
	struct mp_error err;
	ck_assert(fp && (fp->method = strdup("tensors")));
	fp->tensors = calloc(l->n, sizeof *fp->tensors);
	const struct mp_arch_item *it = tl_items(l);
	for (size_t i = 0; i < l->n; i++) {
		if (skip && !strcmp(it[i].name, skip))
			continue;
		struct mp_tensor_fp *t = &fp->tensors[fp->ntensors++];
		ck_assert(mp_tensor_fp_init(t, it[i].name, it[i].ndim,
					    it[i].shape) == MP_OK);
		t->ndim = it[i].ndim;
		t->numel = 1;
		for (int d = 0; d < it[i].ndim; d++)
			t->numel *= it[i].shape[d];
		t->dtype = t->stored = MP_F32;
		t->nsketch = 64;
		t->sketch = malloc(64 * sizeof *t->sketch);
		t->stats = malloc(sizeof *t->stats);
		const struct mp_tensor_fp *b = base ? mp_fp_find(base, it[i].name)
						    : NULL;
		double v[64];
		for (int k = 0; k < 64; k++) {
			v[k] = (b ? b->sketch[k] : 0.1 * tu_rand_normal(&seed)) +
			       noise * tu_rand_normal(&seed);
			t->sketch[k] = (float)v[k];
			v[k] = t->sketch[k];
		}
		ck_assert(mp_tstats_of_doubles(v, 64, t->stats) == MP_OK);
		if (b && noise == 0)
			memcpy(t->sha256, b->sha256, sizeof t->sha256);
		else
			snprintf(t->sha256, sizeof t->sha256, "%064llx",
				 (unsigned long long)tu_rand_u64(&seed));
	}
	ck_assert(mp_fp_index(fp, &err) == MP_OK);
	return fp;
}

/* identify on an SD 1.x skeleton: the architecture's seed weights are the
 * key tensors; an unknown without the text encoder loses its 0.025 of
 * coverage; the fine-tune's parent is found among SD 1.x checkpoints. */
START_TEST(test_identify_seed_weights)
{
	struct mp_arch_set *s = load();
	struct tl l = {0};
	gen_sd(&l, 768);
	const char *p = "model.diffusion_model.";
	char buf[128];
	snprintf(buf, sizeof buf, "%smiddle_block.0.in_layers.0.weight", p);
	tl_add(&l, S1(1280), "%s", buf);
	tl_add(&l, S4(1280, 1280, 3, 3), "%smiddle_block.0.out_layers.3.weight",
	       p);
	tl_add(&l, S1(1280), "%smiddle_block.1.transformer_blocks.0.norm1.weight",
	       p);
	struct mp_fingerprint *ref[3], *u;
	ref[0] = fp_of_items(&l, 1, NULL, 0, NULL);
	ref[1] = fp_of_items(&l, 2, NULL, 0, NULL);
	ref[2] = fp_of_items(&l, 3, ref[0], 0.05, NULL);
	u = fp_of_items(&l, 4, ref[0], 0.01,
			"cond_stage_model.transformer.text_model.embeddings."
			"token_embedding.weight");
	struct mp_ident_ref refs[3] = {{"base", "base", NULL, ref[0]},
				       {"other", "other", NULL, ref[1]},
				       {"tuned", "tuned", NULL, ref[2]}};
	struct mp_ident_opts o = {.arch = s};
	struct mp_ident_result *r;
	struct mp_error err;
	ck_assert_msg(mp_identify(u, refs, 3, &o, &r, &err) == MP_OK, "%s",
		      err.msg);
	ck_assert(r->arch->known);
	ck_assert_str_eq(r->arch->m[0].name, "SD 1.x");
	ck_assert_int_eq(r->selection, MP_SEL_SEED);
	ck_assert_uint_eq(r->nkeys, 11);
	ck_assert_str_eq(r->keys[0].name, "middle_block.0.in_layers.0.weight");
	ck_assert_double_eq_tol(r->keys[0].weight, 0.25, 1e-12);
	ck_assert_uint_eq(r->ncompatible, 3);
	ck_assert(r->match);
	ck_assert_str_eq(refs[r->relation.parent].id, "base");
	ck_assert_int_eq(r->relation.kind, MP_ID_FINETUNE);
	/* keys in either: time_embed 0.03 + 0.02, input_blocks.0.0 0.15, the
	 * text encoder 0.025, the middle block 0.25 + 0.20 + 0.15 = 0.825;
	 * in both: 0.80 */
	ck_assert_double_eq_tol(r->scores[0].coverage, 0.80 / 0.825, 1e-12);
	ck_assert_double_eq_tol(r->scores[0].shape, 6.0 / 7.0, 1e-12);
	ck_assert_double_eq_tol(r->scores[0].final,
				r->scores[0].raw_final * 0.80 / 0.825, 1e-12);
	mp_ident_result_free(r);
	for (int i = 0; i < 3; i++)
		mp_fp_free(ref[i]);
	mp_fp_free(u);
	tl_free(&l);
	mp_arch_free(s);
}
END_TEST

Suite *suite_arch(void)
{
	Suite *s = suite_create("arch");
	TCase *tc = tcase_create("arch");
	tcase_add_test(tc, test_decoders);
	tcase_add_test(tc, test_diffusion);
	tcase_add_test(tc, test_encoders);
	tcase_add_test(tc, test_normalise);
	tcase_add_test(tc, test_model_file);
	tcase_add_test(tc, test_partial);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_compatible);
	tcase_add_test(tc, test_broken_signatures);
	tcase_add_test(tc, test_identify_seed_weights);
	suite_add_tcase(s, tc);
	return s;
}
