/* testutil.h — helpers for tests that write their own model files. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Fresh temporary directory (malloc'd path); aborts the test on failure. */
char *tu_tmpdir(void);
/* Remove a directory tree (best effort). */
void tu_rmtree(const char *path);
/* path = dir/name, malloc'd. */
char *tu_path(const char *dir, const char *name);
/* Write bytes / a string to a file; aborts the test on failure. */
void tu_write(const char *path, const void *data, size_t len);
void tu_write_str(const char *path, const char *text);
/* The IEEE half h stored little-endian at p (fp16 1.0 = 0x3c00, 0.5 =
 * 0x3800), as GGUF blocks hold their scales. */
void tu_put_half(uint8_t *p, uint16_t h);

/* One tensor for tu_write_safetensors. */
struct tu_tensor {
	const char *name;
	const char *dtype; /* safetensors spelling, e.g. "F32" */
	int ndim;
	uint64_t shape[8];
	const void *data;
	size_t nbytes;
};
/* Write a valid safetensors file (header padded to 8 bytes, tensors laid out
 * in the given order); metadata_json is the inner object text of
 * "__metadata__" (e.g. "\"a\":\"b\"") or NULL. */
void tu_write_safetensors(const char *path, const struct tu_tensor *t, int n,
			  const char *metadata_json);

/* One registry call on the registry at loc, opened for it and closed
 * after (tu_reg_add adds with MP_REG_FORCE: tests add one sample model many
 * times). */
struct mp_reg_model;
struct mp_fingerprint;
struct mp_error;
int tu_reg_add(const char *loc, const struct mp_reg_model *m,
	       const char *want_id, char **id, struct mp_error *err);
int tu_reg_remove(const char *loc, const char *id, struct mp_error *err);
int tu_reg_put_fp(const char *loc, const char *id,
		  const struct mp_fingerprint *fp, struct mp_error *err);
int tu_reg_get_fp(const char *loc, const char *id, const char *method,
		  struct mp_fingerprint **fp, struct mp_error *err);

/* Deterministic pseudo-random doubles (splitmix64 + Box-Muller normal). */
uint64_t tu_rand_u64(uint64_t *state);
double tu_rand_uniform(uint64_t *state); /* [0,1) */
double tu_rand_normal(uint64_t *state);

/* A `tensors` fingerprint (format "safetensors", no arguments) of n F32
 * tensors names[i] of shape [rows[i], cols[i]] whose sketches are
 * sketch[i][0..k) (copied); free with mp_fp_free. */
struct mp_fingerprint *tu_sketch_fp(size_t n, const char *const *names,
				    const uint64_t *rows, const uint64_t *cols,
				    float *const *sketch, uint32_t k);

/* Singular values a tensor fingerprint holds (0 without a spectrum). */
#define NSV(t) ((t).spec ? (t).spec->nsv : 0u)

#endif
