/* check_gguf_names.c — the GGUF <-> Hugging Face name mapping of
 * data/gguf_names.json, broken mapping files, and llama.cpp's Q/K row
 * permutation: the row map against numpy's reshape/swapaxes, and its
 * undoing by compare's exact metrics and by lineage on a small matrix
 * permuted by hand. */
#include "check_suites.h"
#include "fingerprint.h"
#include "gguf_names.h"
#include "lineage.h"
#include "metric.h"
#include "model.h"
#include "names.h"
#include "testutil.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define NAMES MP_SRCDATADIR "/gguf_names.json"

static struct mp_gguf_names *load(void)
{
	struct mp_gguf_names *t = NULL;
	struct mp_error err;
	ck_assert_int_eq(mp_gguf_names_load(NAMES, &t, &err), MP_OK);
	return t;
}

/* Whether want is among the aliases of name; *qk its role. */
static bool has_alias(const struct mp_gguf_names *t, const char *name,
		      const char *want, int *qk)
{
	char a[MP_GGUF_ALIAS_MAX][MP_GGUF_NAME_MAX];
	size_t n = mp_gguf_names_alias(t, NULL, name, a, qk);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i], want))
			return true;
	return false;
}

START_TEST(test_map_llama)
{
	struct mp_gguf_names *t = load();
	int qk = -1;
	ck_assert(has_alias(t, "blk.3.attn_q.weight",
			    "model.layers.3.self_attn.q_proj.weight", &qk));
	ck_assert_int_eq(qk, 'q');
	ck_assert(has_alias(t, "model.layers.12.self_attn.k_proj.weight",
			    "blk.12.attn_k.weight", &qk));
	ck_assert_int_eq(qk, 'k');
	ck_assert(has_alias(t, "blk.0.attn_v.weight",
			    "model.layers.0.self_attn.v_proj.weight", &qk));
	ck_assert_int_eq(qk, 0);
	ck_assert(has_alias(t, "token_embd.weight",
			    "model.embed_tokens.weight", &qk));
	ck_assert(has_alias(t, "lm_head.weight", "output.weight", &qk));
	ck_assert(has_alias(t, "output_norm.weight", "model.norm.weight", &qk));
	ck_assert(has_alias(t, "blk.1.ffn_norm.weight",
			    "model.layers.1.post_attention_layernorm.weight",
			    &qk));
	ck_assert(has_alias(t, "model.layers.7.mlp.down_proj.weight",
			    "blk.7.ffn_down.weight", &qk));
	/* as mp_arch_normalise leaves it: without "model." */
	ck_assert(has_alias(t, "layers.7.mlp.gate_proj.weight",
			    "blk.7.ffn_gate.weight", &qk));
	ck_assert(has_alias(t, "blk.7.ffn_up.weight",
			    "layers.7.mlp.up_proj.weight", &qk));
	mp_gguf_names_free(t);
}
END_TEST

/* Which matrices llama.cpp permutes, per architecture of the mapping. */
START_TEST(test_map_permuted)
{
	struct mp_gguf_names *t = load();
	ck_assert_int_eq(mp_gguf_names_permuted(t, "llama", "blk.0.attn_q.weight"),
			 'q');
	ck_assert_int_eq(mp_gguf_names_permuted(t, "llama", "blk.31.attn_k.weight"),
			 'k');
	static const char *const no[][2] = {
	    {"llama", "blk.0.attn_v.weight"},
	    {"llama", "blk.0.attn_q.bias"},
	    {"llama", "blk.0.attn_qkv.weight"},
	    {"llama", "model.layers.0.self_attn.q_proj.weight"},
	    {"llama", "token_embd.weight"},
	    {"qwen2", "blk.0.attn_q.weight"},
	    {"gemma", "blk.0.attn_k.weight"},
	    {"nope", "blk.0.attn_q.weight"},
	};
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		ck_assert_msg(!mp_gguf_names_permuted(t, no[i][0], no[i][1]),
			      "%s %s", no[i][0], no[i][1]);
	ck_assert(!mp_gguf_names_permuted(t, NULL, "blk.0.attn_q.weight"));
	ck_assert(!mp_gguf_names_permuted(NULL, "llama", "blk.0.attn_q.weight"));
	mp_gguf_names_free(t);
}
END_TEST

START_TEST(test_map_gpt2_phi3)
{
	struct mp_gguf_names *t = load();
	int qk = -1;
	ck_assert(has_alias(t, "transformer.h.0.attn.c_attn.bias",
			    "blk.0.attn_qkv.bias", &qk));
	ck_assert_int_eq(qk, 0);
	ck_assert(has_alias(t, "h.11.mlp.c_fc.weight", "blk.11.ffn_up.weight",
			    &qk));
	ck_assert(has_alias(t, "blk.2.attn_norm.weight", "h.2.ln_1.weight",
			    &qk));
	ck_assert(has_alias(t, "blk.2.attn_norm.weight",
			    "transformer.h.2.ln_1.weight", &qk));
	ck_assert(has_alias(t, "wpe.weight", "position_embd.weight", &qk));
	ck_assert(has_alias(t, "model.layers.4.self_attn.qkv_proj.weight",
			    "blk.4.attn_qkv.weight", &qk));
	ck_assert(has_alias(t, "model.layers.4.mlp.gate_up_proj.weight",
			    "blk.4.ffn_up.weight", &qk));
	mp_gguf_names_free(t);
}
END_TEST

START_TEST(test_map_none)
{
	struct mp_gguf_names *t = load();
	char a[MP_GGUF_ALIAS_MAX][MP_GGUF_NAME_MAX];
	int qk = -1;
	const char *none[] = {"blk.x.attn_q.weight", "blk.0.attn_qq.weight",
			      "blk..attn_q.weight", "model.layers.0.self_attn.q_projx",
			      "outputs.weight", "conv1.weight", ""};
	for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
		ck_assert_msg(mp_gguf_names_alias(t, NULL, none[i], a, &qk) == 0,
			      "%s", none[i]);
		ck_assert_int_eq(qk, 0);
	}
	ck_assert_uint_eq(mp_gguf_names_alias(NULL, NULL, "output.weight", a, &qk),
			  0);
	ck_assert(mp_gguf_names_is_gguf("blk.0.attn_q.weight"));
	ck_assert(mp_gguf_names_is_gguf("output.weight"));
	ck_assert(!mp_gguf_names_is_gguf("output_normx.weight"));
	ck_assert(!mp_gguf_names_is_gguf("blk.x.attn_q.weight"));
	ck_assert(mp_gguf_names_default() != NULL);
	mp_gguf_names_free(t);
}
END_TEST

START_TEST(test_map_broken)
{
	static const char *bad[] = {
	    "[1]", "{\"architectures\": 3}",
	    "{\"architectures\": {\"x\": {\"names\": 1}}}",
	    "{\"architectures\": {\"x\": {\"permute_qk\": 1, \"names\": {}}}}",
	    "{\"architectures\": {\"x\": {\"names\": {\"blk.{M}.a\": \"b.{M}\"}}}}",
	    "{\"architectures\": {\"x\": {\"names\": {\"blk.{N}.a\": \"b\"}}}}",
	    "{\"architectures\": {\"x\": {\"names\": {\"a\": 2}}}}",
	    "{\"architectures\": {\"x\": {\"names\": {\"\": \"b\"}}}}",
	    "{\"architectures\": {\"x\": {\"norm_offset\": \"1\", "
	    "\"names\": {}}}}",
	    "{\"architectures\": {\"x\": {\"transposed\": 3, "
	    "\"names\": {}}}}",
	    "{\"architectures\": {\"x\": {\"transposed\": [\"a\"], "
	    "\"names\": {\"b\": \"c\"}}}}",
	};
	char *dir = tu_tmpdir(), *p = tu_path(dir, "names.json");
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct mp_gguf_names *t = (void *)1;
		struct mp_error err;
		tu_write_str(p, bad[i]);
		ck_assert_msg(mp_gguf_names_load(p, &t, &err) != MP_OK, "%s",
			      bad[i]);
		ck_assert(t == NULL);
		ck_assert_msg(strstr(err.msg, p) != NULL, "%s", err.msg);
	}
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* dir's a.safetensors and b.safetensors, opened. */
static void open_pair(const char *dir, struct mp_model **a,
		      struct mp_model **b)
{
	char *pa = tu_path(dir, "a.safetensors"), *pb = tu_path(dir, "b.safetensors");
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(pa, a, &err), MP_OK);
	ck_assert_int_eq(mp_model_open(pb, b, &err), MP_OK);
	free(pa);
	free(pb);
}

/* mp_metric_exact of x against y, whose one tensor pair it returns. */
static struct mp_exact_pair exact_one(const struct mp_model *x,
				      const struct mp_model *y)
{
	struct mp_exact_pair *p, one;
	size_t n;
	struct mp_score c, r;
	struct mp_error err;
	ck_assert_int_eq(mp_metric_exact(x, y, &p, &n, &c, &r, &err), MP_OK);
	ck_assert_uint_eq(n, 1);
	one = p[0];
	free(p);
	return one;
}

/* Gemma's norms: the converter stores 1 + w (GemmaModel.modify_tensors),
 * the mapping says so for the norms' weights of that architecture only. */
START_TEST(test_norm_offset)
{
	struct mp_gguf_names *t = load();
	static const char *const shifted[] = {"blk.0.attn_norm.weight",
					      "blk.17.ffn_norm.weight",
					      "output_norm.weight"};
	for (size_t i = 0; i < 3; i++)
		ck_assert_msg(mp_gguf_names_offset(t, "gemma", shifted[i]) == 1,
			      "%s", shifted[i]);
	static const char *const plain[] = {
	    "blk.0.attn_norm.bias", "blk.0.attn_q.weight", "token_embd.weight",
	    "model.norm.weight", "model.layers.0.input_layernorm.weight"};
	for (size_t i = 0; i < 5; i++)
		ck_assert_msg(mp_gguf_names_offset(t, "gemma", plain[i]) == 0,
			      "%s", plain[i]);
	ck_assert(mp_gguf_names_offset(t, "llama", "output_norm.weight") == 0);
	ck_assert(mp_gguf_names_offset(t, NULL, "output_norm.weight") == 0);
	ck_assert(mp_gguf_names_offset(NULL, "gemma", "output_norm.weight") == 0);
	ck_assert(mp_gguf_names_knows(t, "gemma"));
	ck_assert(mp_gguf_names_knows(t, "qwen2"));
	ck_assert(!mp_gguf_names_knows(t, "mamba"));
	ck_assert(!mp_gguf_names_knows(t, NULL));
	mp_gguf_names_free(t);
}
END_TEST

/* Names read under an architecture: Gemma 2's ffn_norm is the
 * pre-feedforward norm, LLaMA's the post-attention one; a name the
 * architecture lacks falls back to every architecture's. And the
 * architecture a set of names is read under. */
struct nm {
	const char *name;
};

static const char *arch_of(const struct mp_gguf_names *t, const char *decl,
			   const struct nm *v, size_t n)
{
	struct mp_names r = {v, n, sizeof *v, offsetof(struct nm, name)};
	return mp_gguf_names_arch_of(t, decl, &r);
}

START_TEST(test_arch_names)
{
	struct mp_gguf_names *t = load();
	char a[MP_GGUF_ALIAS_MAX][MP_GGUF_NAME_MAX];
	ck_assert_uint_ge(mp_gguf_names_alias(t, "gemma2", "blk.2.ffn_norm.weight",
					      a, NULL),
			  1);
	ck_assert_str_eq(a[0], "model.layers.2.pre_feedforward_layernorm.weight");
	ck_assert_uint_ge(mp_gguf_names_alias(t, "llama", "blk.2.ffn_norm.weight",
					      a, NULL),
			  1);
	ck_assert_str_eq(a[0], "model.layers.2.post_attention_layernorm.weight");
	ck_assert_uint_eq(mp_gguf_names_alias(t, "gemma2",
					      "model.layers.0.post_attention_layernorm.weight",
					      a, NULL),
			  1);
	ck_assert_str_eq(a[0], "blk.0.post_attention_norm.weight");
	/* Gemma 2 has no lm_head: every architecture's mapping */
	ck_assert(mp_gguf_names_alias(t, "gemma2", "output.weight", a, NULL) > 0);
	ck_assert_str_eq(a[0], "lm_head.weight");

	static const struct nm g2[] = {
	    {"model.embed_tokens.weight"},
	    {"model.layers.0.input_layernorm.weight"},
	    {"model.layers.0.post_attention_layernorm.weight"},
	    {"model.layers.0.pre_feedforward_layernorm.weight"},
	    {"model.layers.0.post_feedforward_layernorm.weight"},
	    {"model.layers.0.mlp.down_proj.weight"}};
	static const struct nm g3[] = {
	    {"model.layers.0.self_attn.q_norm.weight"},
	    {"model.layers.0.pre_feedforward_layernorm.weight"},
	    {"model.layers.0.post_feedforward_layernorm.weight"}};
	static const struct nm q3[] = {
	    {"model.layers.0.self_attn.q_norm.weight"},
	    {"model.layers.0.post_attention_layernorm.weight"},
	    {"lm_head.weight"}};
	static const struct nm ll[] = {{"model.layers.0.self_attn.q_proj.weight"},
				       {"lm_head.weight"}};
	static const struct nm gg[] = {{"blk.0.attn_q.weight"}};
	static const struct nm none[] = {{"conv1.weight"}};
	ck_assert_str_eq(arch_of(t, NULL, g2, 6), "gemma2");
	ck_assert_str_eq(arch_of(t, NULL, g3, 3), "gemma3");
	ck_assert_str_eq(arch_of(t, NULL, q3, 3), "qwen3");
	ck_assert_str_eq(arch_of(t, NULL, ll, 2), "llama");
	ck_assert_str_eq(arch_of(t, "gemma3", gg, 1), "gemma3");
	ck_assert_str_eq(arch_of(t, "not-an-arch", g2, 6), "gemma2");
	ck_assert(arch_of(t, NULL, none, 1) == NULL);
	ck_assert(arch_of(t, NULL, none, 0) == NULL);
	mp_gguf_names_free(t);
}
END_TEST

/* GPT-2's Conv1D weights: stored transposed by the converter, for the
 * weights of that architecture only; the offset map against a 2 x 3
 * matrix and its 3 x 2 transpose worked out by hand. */
START_TEST(test_transposed)
{
	struct mp_gguf_names *t = load();
	static const char *const yes[] = {
	    "blk.0.attn_qkv.weight", "blk.11.attn_output.weight",
	    "blk.3.ffn_up.weight", "blk.3.ffn_down.weight"};
	for (size_t i = 0; i < 4; i++)
		ck_assert_msg(mp_gguf_names_transposed(t, "gpt2", yes[i]), "%s",
			      yes[i]);
	ck_assert(!mp_gguf_names_transposed(t, "gpt2", "blk.0.attn_qkv.bias"));
	ck_assert(!mp_gguf_names_transposed(t, "gpt2", "token_embd.weight"));
	ck_assert(!mp_gguf_names_transposed(t, "gpt2", "h.0.attn.c_attn.weight"));
	ck_assert(!mp_gguf_names_transposed(t, "llama", "blk.0.attn_output.weight"));
	ck_assert(!mp_gguf_names_transposed(t, NULL, "blk.0.attn_qkv.weight"));
	mp_gguf_names_free(t);
	/* [[0 1 2] [3 4 5]] and its transpose [[0 3] [1 4] [2 5]] */
	static const uint64_t want[6] = {0, 2, 4, 1, 3, 5};
	for (uint64_t off = 0; off < 6; off++) {
		ck_assert_uint_eq(mp_gguf_transposed_off(off, 2, 3), want[off]);
		ck_assert_uint_eq(mp_gguf_transposed_off(want[off], 3, 2), off);
	}
	/* fingerprints pair by shape with the transposed one reversed */
	uint64_t s23[2] = {2, 3}, s32[2] = {3, 2};
	struct mp_tensor_fp a = {.ndim = 2, .numel = 6, .shape = s32},
			    b = {.ndim = 2, .numel = 6, .shape = s23};
	ck_assert(!mp_fp_shapes_match(&a, &b));
	a.transposed = true;
	ck_assert(mp_fp_shapes_match(&a, &b));
	b.transposed = true;
	ck_assert(!mp_fp_shapes_match(&a, &b));
	b.shape = s32;
	ck_assert(mp_fp_shapes_match(&a, &b));
}
END_TEST

/* A Gemma norm w and its GGUF form, float32(1 + w): exact metrics see
 * cosine 1 (1 + w against 1 + w) and lineage an exact copy of the values
 * only when the GGUF says gemma; a llama file holds no such offset. */
START_TEST(test_norm_offset_files)
{
	char *dir = tu_tmpdir();
	float w[64], g[64];
	uint64_t sd = 11;
	for (int i = 0; i < 64; i++) {
		w[i] = (float)(0.3 * tu_rand_normal(&sd));
		g[i] = w[i] + 1.0f;
	}
	char *pa = tu_path(dir, "a.safetensors"), *pb = tu_path(dir, "b.safetensors");
	struct tu_tensor ta = {"model.norm.weight", "F32", 1, {64}, w, sizeof w};
	struct tu_tensor tb = {"output_norm.weight", "F32", 1, {64}, g, sizeof g};
	tu_write_safetensors(pa, &ta, 1, NULL);
	for (int gemma = 0; gemma < 2; gemma++) {
		tu_write_safetensors(pb, &tb, 1,
				     gemma ? "\"general.architecture\":\"gemma\""
					   : "\"general.architecture\":\"llama\"");
		struct mp_model *a, *b;
		struct mp_error err;
		open_pair(dir, &a, &b);
		struct mp_exact_pair p = exact_one(b, a);
		ck_assert(!p.identical_bytes);
		/* Pearson ignores a constant; the cosine of w + 1 against w
		 * does not */
		ck_assert_double_eq_tol(p.r.pearson, 1, 1e-12);
		if (gemma)
			ck_assert_double_eq_tol(p.r.cosine, 1, 1e-12);
		else
			ck_assert(p.r.cosine < 0.99);
		struct mp_lineage l;
		ck_assert_int_eq(mp_lineage_pair(b, a, &l, &err), MP_OK);
		ck_assert_int_eq(l.kind, gemma ? MP_LIN_COPY : MP_LIN_FINETUNE);
		ck_assert_uint_eq(l.offset_norms, gemma ? 1 : 0);
		mp_model_free(a);
		mp_model_free(b);
	}
	free(pa);
	free(pb);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* llama.cpp's permute(W, 3) of 18 rows: numpy's
 * np.arange(18).reshape(3, 2, 3).swapaxes(1, 2).reshape(18), i.e. row g of
 * the converted matrix is row P[g] of the original. */
static const uint64_t P18[18] = {0,  3,  1,  4,  2,  5,  6,  9,  7,
				 10, 8,  11, 12, 15, 13, 16, 14, 17};

START_TEST(test_qk_row)
{
	for (uint64_t g = 0; g < 18; g++)
		ck_assert_uint_eq(mp_gguf_qk_row(P18[g], 18, 3), g);
	/* 2 heads of 4 rows: [0 2 1 3 4 6 5 7], its own inverse */
	static const uint64_t p8[8] = {0, 2, 1, 3, 4, 6, 5, 7};
	for (uint64_t r = 0; r < 8; r++)
		ck_assert_uint_eq(mp_gguf_qk_row(r, 8, 2), p8[r]);
	/* one head of 2 rows: nothing moves */
	ck_assert_uint_eq(mp_gguf_qk_row(1, 2, 1), 1);
	/* original row 3 is row 1 of the converted matrix (P18[1] == 3) */
	ck_assert_uint_eq(mp_gguf_qk_off(3 * 4 + 2, 18, 4, 3), 1 * 4 + 2);
}
END_TEST

/* An 18x4 Q matrix in HF naming (a) and in GGUF naming permuted by hand
 * with 3 heads (b), in dir; metadata of b, or NULL. */
static void write_pair(const char *dir, const char *meta)
{
	float w[18 * 4], g[18 * 4];
	uint64_t s = 7;
	for (int i = 0; i < 18 * 4; i++)
		w[i] = (float)tu_rand_normal(&s);
	for (int r = 0; r < 18; r++)
		memcpy(&g[r * 4], &w[P18[r] * 4], 4 * sizeof *w);
	char *pa = tu_path(dir, "a.safetensors"), *pb = tu_path(dir, "b.safetensors");
	struct tu_tensor ta = {"model.layers.0.self_attn.q_proj.weight", "F32",
			       2, {18, 4}, w, sizeof w};
	struct tu_tensor tb = {"blk.0.attn_q.weight", "F32", 2, {18, 4}, g,
			       sizeof g};
	tu_write_safetensors(pa, &ta, 1, NULL);
	tu_write_safetensors(pb, &tb, 1, meta);
	free(pa);
	free(pb);
}

static void exact(const char *dir, uint64_t heads, bool inferred)
{
	struct mp_model *a, *b;
	struct mp_error err;
	open_pair(dir, &a, &b);
	for (int swap = 0; swap < 2; swap++) {
		struct mp_exact_pair p = exact_one(swap ? b : a, swap ? a : b);
		ck_assert(p.identical_bytes); /* every value, exactly */
		ck_assert(p.r.cosine == 1);
		ck_assert_uint_eq(p.unpermuted_heads, heads);
		ck_assert(p.heads_inferred == inferred);
	}
	struct mp_lineage l;
	ck_assert_int_eq(mp_lineage_pair(b, a, &l, &err), MP_OK);
	ck_assert_int_eq(l.kind, MP_LIN_COPY);
	ck_assert_uint_eq(l.unpermuted_qk, 1);
	mp_model_free(a);
	mp_model_free(b);
}

START_TEST(test_unpermute_inferred)
{
	char *dir = tu_tmpdir();
	write_pair(dir, NULL);
	exact(dir, 3, true);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_unpermute_meta)
{
	char *dir = tu_tmpdir();
	write_pair(dir, "\"general.architecture\":\"llama\","
			"\"llama.attention.head_count\":\"3\"");
	exact(dir, 3, false);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* mp_metric_exact of dir's a.safetensors and b.safetensors (b first
 * when b_first) finds their one matrix compared as stored: no
 * permutation undone, and the permuted rows uncorrelated. */
static void exact_as_stored(const char *dir, bool b_first)
{
	struct mp_model *a, *b;
	open_pair(dir, &a, &b);
	struct mp_exact_pair p = exact_one(b_first ? b : a, b_first ? a : b);
	ck_assert_uint_eq(p.unpermuted_heads, 0);
	ck_assert(p.r.cosine < 0.9);
	mp_model_free(a);
	mp_model_free(b);
}

/* An architecture the mapping knows without permute_qk (Qwen2's converter
 * leaves the rows alone): the rows compared as stored, no permutation
 * tried, even where one would fit. */
START_TEST(test_unpermute_not_for_qwen2)
{
	char *dir = tu_tmpdir();
	write_pair(dir, "\"general.architecture\":\"qwen2\","
			"\"qwen2.attention.head_count\":\"3\"");
	exact_as_stored(dir, true);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_unpermute_config)
{
	char *dir = tu_tmpdir();
	write_pair(dir, NULL);
	char *c = tu_path(dir, "config.json");
	tu_write_str(c, "{\"num_attention_heads\": 3, "
			"\"num_key_value_heads\": 1}");
	exact(dir, 3, false);
	/* a wrong count from the config: the rows compared as stored */
	tu_write_str(c, "{\"num_attention_heads\": 9}");
	exact_as_stored(dir, false);
	free(c);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

Suite *suite_gguf_names(void)
{
	Suite *s = suite_create("gguf_names");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_map_llama);
	tcase_add_test(tc, test_map_permuted);
	tcase_add_test(tc, test_map_gpt2_phi3);
	tcase_add_test(tc, test_map_none);
	tcase_add_test(tc, test_map_broken);
	tcase_add_test(tc, test_qk_row);
	tcase_add_test(tc, test_unpermute_inferred);
	tcase_add_test(tc, test_unpermute_meta);
	tcase_add_test(tc, test_unpermute_config);
	tcase_add_test(tc, test_unpermute_not_for_qwen2);
	tcase_add_test(tc, test_norm_offset);
	tcase_add_test(tc, test_norm_offset_files);
	tcase_add_test(tc, test_transposed);
	tcase_add_test(tc, test_arch_names);
	suite_add_tcase(s, tc);
	return s;
}
