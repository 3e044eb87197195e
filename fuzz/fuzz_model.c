/* fuzz_model.c — libFuzzer harness for the model readers. The input becomes
 * a file of the format chosen at build time (-DFUZZ_TFJS for model.json with
 * a fixed 64-byte weights.bin beside it, safetensors otherwise); the model is
 * opened and every tensor decoded. Any crash or sanitizer report is a bug. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void write_file(const char *name, const uint8_t *data, size_t n)
{
	char p[128];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	if (!f)
		abort();
	if (n && fwrite(data, 1, n, f) != n)
		abort();
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/mpfuzz.XXXXXX");
		if (!mkdtemp(dir))
			abort();
#ifdef FUZZ_TFJS
		uint8_t bin[64];
		for (int i = 0; i < 64; i++)
			bin[i] = (uint8_t)(i * 37);
		write_file("weights.bin", bin, sizeof bin);
#endif
	}
#ifdef FUZZ_TFJS
	const char *name = "model.json";
#else
	const char *name = "m.safetensors";
#endif
	write_file(name, data, size);
	char p[128];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	struct mp_model *m;
	struct mp_error err;
	if (mp_model_open(p, &m, &err) != MP_OK)
		return 0;
	uint8_t scratch[4096];
	double vals[512];
	for (size_t i = 0; i < m->ntensors; i++) {
		const struct mp_tensor *t = &m->tensors[i];
		uint64_t w = mp_dtype_size(t->stored);
		uint64_t n = t->numel < 512 ? t->numel : 512;
		if (n * w <= sizeof scratch)
			mp_tensor_decode(t, mp_tensor_bytes(t, 0, n * w, scratch),
					 (size_t)n, vals);
	}
	mp_model_free(m);
	return 0;
}
