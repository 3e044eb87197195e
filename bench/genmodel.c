/* genmodel.c — write a llama-shaped safetensors model of random weights for
 * the benchmarks: genmodel OUT.safetensors DTYPE(BF16|F32) LAYERS [SHAPES].
 * SHAPES "small" (the default): hidden 1024, intermediate 2816, vocab 32000,
 * k/v as q; "tinyllama": TinyLlama-1.1B's hidden 2048, intermediate 5632,
 * vocab 32000, k/v 256 rows; "llama1b": the same with k/v 512 rows (8 key/value
 * heads of 64, for bench/io.sh) (embedding, per layer q/k/v/o projections,
 * gate/up/down MLP, two norms, final norm, lm_head).
 * genmodel OUT DTYPE 0 BYTES: small shapes, as many layers as fit in a file
 * of BYTES bytes, and a vector model.extra.weight filling it to (about)
 * BYTES. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { VOCAB = 32000 };
static uint64_t HIDDEN = 1024, INTER = 2816, KV = 1024;

struct spec {
	char name[96];
	uint64_t rows, cols; /* cols == 0 for vectors */
};

static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Roughly normal(0, 0.02): sum of four uniforms. */
static float sample(void)
{
	uint32_t a = next(), b = next();
	float s = (float)(a & 0xffff) + (float)(a >> 16) + (float)(b & 0xffff) +
		  (float)(b >> 16);
	return (s / 65536.0f - 2.0f) * 0.035f;
}

static void put(FILE *f, float v, int width)
{
	uint32_t u;
	memcpy(&u, &v, 4);
	if (width == 4) {
		fwrite(&u, 4, 1, f);
	} else if (width == 2) {
		uint16_t h = (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
		fwrite(&h, 2, 1, f);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: genmodel OUT DTYPE(BF16|F32) LAYERS "
				"[small|tinyllama|llama1b|BYTES]\n");
		return 2;
	}
	bool by_size = argc == 5 && argv[4][0] >= '0' && argv[4][0] <= '9';
	if (argc == 5 && strcmp(argv[4], "tinyllama") == 0) {
		HIDDEN = 2048, INTER = 5632, KV = 256;
	} else if (argc == 5 && strcmp(argv[4], "llama1b") == 0) {
		HIDDEN = 2048, INTER = 5632, KV = 512;
	} else if (argc == 5 && !by_size && strcmp(argv[4], "small") != 0) {
		fprintf(stderr,
			"genmodel: shapes must be small, tinyllama, llama1b "
			"or a byte count\n");
		return 2;
	}
	const char *dtype = argv[2];
	int width = strcmp(dtype, "F32") == 0 ? 4 : 2;
	if (width == 2 && strcmp(dtype, "BF16") != 0) {
		fprintf(stderr, "genmodel: dtype must be BF16 or F32\n");
		return 2;
	}
	int layers = atoi(argv[3]);
	uint64_t target = by_size ? strtoull(argv[4], NULL, 10) : 0;
	if (target) { /* fixed tensors, then layers, with 1 MB to spare */
		uint64_t fixed = (2ULL * VOCAB * HIDDEN + HIDDEN) * width;
		uint64_t layer = (2ULL * HIDDEN * HIDDEN + 2ULL * KV * HIDDEN +
				  3ULL * HIDDEN * INTER + 2 * HIDDEN) *
				 width;
		layers = target > fixed + (1 << 20)
			     ? (int)((target - fixed - (1 << 20)) / layer)
			     : 0;
	}
	size_t n = 0, cap = 17 + (size_t)layers * 9;
	struct spec *s = calloc(cap, sizeof *s);
	if (!s)
		return 1;
	static const char *proj[] = {"q_proj", "k_proj", "v_proj", "o_proj"};
	snprintf(s[n].name, 96, "model.embed_tokens.weight");
	s[n].rows = VOCAB, s[n++].cols = HIDDEN;
	for (int l = 0; l < layers; l++) {
		for (int p = 0; p < 4; p++) {
			snprintf(s[n].name, 96,
				 "model.layers.%d.self_attn.%s.weight", l,
				 proj[p]);
			s[n].rows = p == 1 || p == 2 ? KV : HIDDEN;
			s[n++].cols = HIDDEN;
		}
		snprintf(s[n].name, 96, "model.layers.%d.mlp.gate_proj.weight",
			 l);
		s[n].rows = INTER, s[n++].cols = HIDDEN;
		snprintf(s[n].name, 96, "model.layers.%d.mlp.up_proj.weight",
			 l);
		s[n].rows = INTER, s[n++].cols = HIDDEN;
		snprintf(s[n].name, 96, "model.layers.%d.mlp.down_proj.weight",
			 l);
		s[n].rows = HIDDEN, s[n++].cols = INTER;
		snprintf(s[n].name, 96,
			 "model.layers.%d.input_layernorm.weight", l);
		s[n].rows = HIDDEN, s[n++].cols = 0;
		snprintf(s[n].name, 96,
			 "model.layers.%d.post_attention_layernorm.weight", l);
		s[n].rows = HIDDEN, s[n++].cols = 0;
	}
	snprintf(s[n].name, 96, "model.norm.weight");
	s[n].rows = HIDDEN, s[n++].cols = 0;
	snprintf(s[n].name, 96, "lm_head.weight");
	s[n].rows = VOCAB, s[n++].cols = HIDDEN;
	if (target) {
		snprintf(s[n].name, 96, "model.extra.weight");
		s[n].rows = 1, s[n++].cols = 0;
	}

	size_t hcap = n * 160 + 64, hl = 0;
	char *h = malloc(hcap);
	if (!h)
		return 1;
	uint64_t off = 0;
	for (int round = 0; round < (target ? 3 : 1); round++) {
		off = 0, hl = 0;
		hl += (size_t)snprintf(h + hl, hcap - hl, "{");
		for (size_t i = 0; i < n; i++) {
			uint64_t numel =
			    s[i].rows * (s[i].cols ? s[i].cols : 1);
			uint64_t bytes = numel * (uint64_t)width;
			if (s[i].cols)
				hl += (size_t)snprintf(
				    h + hl, hcap - hl,
				    "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%"
				    "llu,%llu],\"data_offsets\":[%llu,%llu]}",
				    i ? "," : "", s[i].name, dtype,
				    (unsigned long long)s[i].rows,
				    (unsigned long long)s[i].cols,
				    (unsigned long long)off,
				    (unsigned long long)(off + bytes));
			else
				hl += (size_t)snprintf(
				    h + hl, hcap - hl,
				    "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%"
				    "llu],\"data_offsets\":[%llu,%llu]}",
				    i ? "," : "", s[i].name, dtype,
				    (unsigned long long)s[i].rows,
				    (unsigned long long)off,
				    (unsigned long long)(off + bytes));
			off += bytes;
		}
		hl += (size_t)snprintf(h + hl, hcap - hl, "}");
		while (hl % 8)
			h[hl++] = ' ';
		uint64_t room = 8 + hl + off - s[n - 1].rows * width;
		if (target && target > room + width)
			s[n - 1].rows = (target - room) / width;
	}
	FILE *f = fopen(argv[1], "wb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	uint64_t hl64 = hl;
	fwrite(&hl64, 8, 1, f);
	fwrite(h, 1, hl, f);
	for (size_t i = 0; i < n; i++) {
		uint64_t numel = s[i].rows * (s[i].cols ? s[i].cols : 1);
		for (uint64_t k = 0; k < numel; k++)
			put(f, s[i].cols ? sample() : 1.0f + sample(), width);
	}
	if (fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	free(h);
	free(s);
	return 0;
}
