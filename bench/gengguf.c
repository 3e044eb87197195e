/* gengguf.c — write a LLaMA-shaped GGUF (v3) of random weights in a
 * Q4_K_M-style mix for bench/gguf.sh: gengguf OUT.gguf LAYERS [llama1b].
 * Shapes of LLaMA-7B (hidden 4096, intermediate 11008, vocab 32000), or
 * with llama1b those of bench/io.sh's model (hidden 2048, intermediate 5632,
 * 32 heads and 8 key/value heads of 64, with the llama.* hyper-parameters
 * the forward pass reads, and scales 2^-14..2^-13 so weights are of the
 * order of 0.02): the
 * embedding and the attention and gate/up matrices Q4_K, ffn_down and the
 * output head Q6_K, the norms F32. Blocks are valid: finite fp16 scales
 * d and dmin (about 2^-11..2^-10), random scales and codes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { VOCAB = 32000, ALIGN = 32 };
static uint64_t HIDDEN = 4096, INTER = 11008, KV = 4096;
static uint16_t SCALE_EXP = 0x1000; /* fp16 exponent field of the scales */
enum { T_F32 = 0, T_Q4_K = 12, T_Q6_K = 14 };
enum { Q4_K_BYTES = 144, Q6_K_BYTES = 210, QK_K = 256 };

struct spec {
	char name[64];
	uint64_t ne0, ne1; /* ne1 == 0 for vectors */
	uint32_t type;
	uint64_t off, bytes;
};

static uint64_t rng = 0x13198a2e03707344ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void put_u32(FILE *f, uint32_t v)
{
	fwrite(&v, 4, 1, f); /* the benchmark machines are little-endian */
}

static void put_u64(FILE *f, uint64_t v)
{
	fwrite(&v, 8, 1, f);
}

static void put_str(FILE *f, const char *s)
{
	put_u64(f, strlen(s));
	fwrite(s, 1, strlen(s), f);
}

/* A finite positive fp16 in [2^-11, 2^-10). */
static uint16_t scale16(uint64_t r)
{
	return (uint16_t)(SCALE_EXP | (r & 0x3ff));
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t r = next();
		memcpy(p + i, &r, n - i < 8 ? n - i : 8);
	}
}

static void write_blocks(FILE *f, const struct spec *s, uint8_t *buf,
			 size_t cap)
{
	uint64_t numel = s->ne0 * (s->ne1 ? s->ne1 : 1);
	if (s->type == T_F32) {
		for (uint64_t k = 0; k < numel; k++) {
			float v = 1.0f +
				  (float)(next() & 0xffff) / 65536.0f * 0.1f -
				  0.05f;
			fwrite(&v, 4, 1, f);
		}
		return;
	}
	size_t bb = s->type == T_Q4_K ? Q4_K_BYTES : Q6_K_BYTES;
	uint64_t nb = numel / QK_K, per = cap / bb;
	for (uint64_t b0 = 0; b0 < nb; b0 += per) {
		uint64_t n = nb - b0 < per ? nb - b0 : per;
		fill_random(buf, (size_t)(n * bb));
		for (uint64_t i = 0; i < n; i++) {
			uint8_t *b = buf + i * bb;
			uint64_t r = next();
			uint16_t d = scale16(r), dmin = scale16(r >> 16);
			if (s->type == T_Q4_K) {
				memcpy(b, &d, 2);
				memcpy(b + 2, &dmin, 2);
			} else {
				memcpy(b + 208, &d, 2);
			}
		}
		fwrite(buf, bb, (size_t)n, f);
	}
}

static size_t add(struct spec *s, size_t n, const char *name, uint64_t ne0,
		  uint64_t ne1, uint32_t type)
{
	snprintf(s[n].name, sizeof s[n].name, "%s", name);
	s[n].ne0 = ne0, s[n].ne1 = ne1, s[n].type = type;
	uint64_t numel = ne0 * (ne1 ? ne1 : 1);
	s[n].bytes = type == T_F32    ? numel * 4
		     : type == T_Q4_K ? numel / QK_K * Q4_K_BYTES
				      : numel / QK_K * Q6_K_BYTES;
	return n + 1;
}

int main(int argc, char **argv)
{
	if ((argc != 3 && argc != 4) || atoi(argv[2]) < 1 ||
	    (argc == 4 && strcmp(argv[3], "llama1b") != 0)) {
		fprintf(stderr, "usage: gengguf OUT.gguf LAYERS [llama1b]\n");
		return 2;
	}
	int small = argc == 4;
	if (small)
		HIDDEN = 2048, INTER = 5632, KV = 512, SCALE_EXP = 0x0400;
	int layers = atoi(argv[2]);
	size_t n = 0;
	struct spec *s = calloc(4 + (size_t)layers * 9, sizeof *s);
	uint8_t *buf = malloc(1u << 20);
	if (!s || !buf)
		return 1;
	char nm[64];
	n = add(s, n, "token_embd.weight", HIDDEN, VOCAB, T_Q4_K);
	static const char *attn[] = {"attn_q", "attn_k", "attn_v",
				     "attn_output"};
	for (int l = 0; l < layers; l++) {
		snprintf(nm, sizeof nm, "blk.%d.attn_norm.weight", l);
		n = add(s, n, nm, HIDDEN, 0, T_F32);
		for (int a = 0; a < 4; a++) {
			snprintf(nm, sizeof nm, "blk.%d.%s.weight", l, attn[a]);
			n = add(s, n, nm, HIDDEN,
				a == 1 || a == 2 ? KV : HIDDEN, T_Q4_K);
		}
		snprintf(nm, sizeof nm, "blk.%d.ffn_norm.weight", l);
		n = add(s, n, nm, HIDDEN, 0, T_F32);
		snprintf(nm, sizeof nm, "blk.%d.ffn_gate.weight", l);
		n = add(s, n, nm, HIDDEN, INTER, T_Q4_K);
		snprintf(nm, sizeof nm, "blk.%d.ffn_up.weight", l);
		n = add(s, n, nm, HIDDEN, INTER, T_Q4_K);
		snprintf(nm, sizeof nm, "blk.%d.ffn_down.weight", l);
		n = add(s, n, nm, INTER, HIDDEN, T_Q6_K);
	}
	n = add(s, n, "output_norm.weight", HIDDEN, 0, T_F32);
	n = add(s, n, "output.weight", HIDDEN, VOCAB, T_Q6_K);
	uint64_t off = 0;
	for (size_t i = 0; i < n; i++) {
		s[i].off = off;
		off = (off + s[i].bytes + ALIGN - 1) / ALIGN * ALIGN;
	}
	FILE *f = fopen(argv[1], "wb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	fwrite("GGUF", 1, 4, f);
	put_u32(f, 3);
	put_u64(f, n);
	static const struct {
		const char *key;
		uint32_t v;
	} hp[] = {{"llama.embedding_length", 2048},
		  {"llama.feed_forward_length", 5632},
		  {"llama.attention.head_count", 32},
		  {"llama.attention.head_count_kv", 8},
		  {"llama.context_length", 2048},
		  {"llama.block_count", 0}};
	size_t nhp = small ? sizeof hp / sizeof hp[0] : 0;
	put_u64(f, 3 + nhp);
	for (size_t i = 0; i < nhp; i++) {
		put_str(f, hp[i].key);
		put_u32(f, 4); /* uint32 */
		put_u32(f, hp[i].v ? hp[i].v : (uint32_t)layers);
	}
	put_str(f, "general.architecture");
	put_u32(f, 8);
	put_str(f, "llama");
	put_str(f, "general.name");
	put_u32(f, 8);
	put_str(f, "modelprint benchmark llama");
	put_str(f, "general.alignment");
	put_u32(f, 4);
	put_u32(f, ALIGN);
	for (size_t i = 0; i < n; i++) {
		put_str(f, s[i].name);
		put_u32(f, s[i].ne1 ? 2 : 1);
		put_u64(f, s[i].ne0);
		if (s[i].ne1)
			put_u64(f, s[i].ne1);
		put_u32(f, s[i].type);
		put_u64(f, s[i].off);
	}
	long pos = ftell(f);
	static const uint8_t zero[ALIGN];
	fwrite(zero, 1, (size_t)((ALIGN - pos % ALIGN) % ALIGN), f);
	for (size_t i = 0; i < n; i++) {
		write_blocks(f, &s[i], buf, 1u << 20);
		uint64_t pad = (ALIGN - s[i].bytes % ALIGN) % ALIGN;
		if (i + 1 < n)
			fwrite(zero, 1, (size_t)pad, f);
	}
	if (fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	free(buf);
	free(s);
	return 0;
}
