/* testutil.c — temp dirs, file writing and a safetensors writer for tests. */
#include "testutil.h"
#include "registry.h"

#include <check.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof tmpl, "%s/mptest.XXXXXX", base ? base : "/tmp");
	char *d = mkdtemp(tmpl);
	ck_assert_msg(d != NULL, "mkdtemp failed");
	return strdup(d);
}

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void tu_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	ck_assert(p != NULL);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

void tu_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	ck_assert(len == 0 || fwrite(data, 1, len, f) == len);
	ck_assert(fclose(f) == 0);
}

void tu_write_str(const char *path, const char *text)
{
	tu_write(path, text, strlen(text));
}

void tu_write_safetensors(const char *path, const struct tu_tensor *t, int n,
			  const char *metadata_json)
{
	size_t cap = 4096 + (size_t)n * 512, len = 0;
	char *h = malloc(cap);
	ck_assert(h != NULL);
	len += (size_t)snprintf(h + len, cap - len, "{");
	if (metadata_json)
		len += (size_t)snprintf(h + len, cap - len,
					"\"__metadata__\":{%s}%s", metadata_json,
					n ? "," : "");
	size_t off = 0;
	for (int i = 0; i < n; i++) {
		len += (size_t)snprintf(h + len, cap - len,
					"%s\"%s\":{\"dtype\":\"%s\",\"shape\":[",
					i ? "," : "", t[i].name, t[i].dtype);
		for (int d = 0; d < t[i].ndim; d++)
			len += (size_t)snprintf(h + len, cap - len, "%s%llu",
						d ? "," : "",
						(unsigned long long)t[i].shape[d]);
		len += (size_t)snprintf(h + len, cap - len,
					"],\"data_offsets\":[%zu,%zu]}", off,
					off + t[i].nbytes);
		off += t[i].nbytes;
		ck_assert(len < cap);
	}
	len += (size_t)snprintf(h + len, cap - len, "}");
	while (len % 8)
		h[len++] = ' ';
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)((uint64_t)len >> (8 * i));
	ck_assert(fwrite(le, 1, 8, f) == 8);
	ck_assert(fwrite(h, 1, len, f) == len);
	for (int i = 0; i < n; i++)
		ck_assert(t[i].nbytes == 0 ||
			  fwrite(t[i].data, 1, t[i].nbytes, f) == t[i].nbytes);
	ck_assert(fclose(f) == 0);
	free(h);
}

uint64_t tu_rand_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double tu_rand_uniform(uint64_t *s)
{
	return (double)(tu_rand_u64(s) >> 11) * 0x1.0p-53;
}

double tu_rand_normal(uint64_t *s)
{
	double u = tu_rand_uniform(s), v = tu_rand_uniform(s);
	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

static mp_status reg_open_write(const char *loc, struct mp_regdb **db,
				struct mp_error *err)
{
	struct mp_error local;
	return mp_regdb_open(loc, true, db, err ? err : &local);
}

int tu_reg_add(const char *loc, const struct mp_reg_model *m,
	       const char *want_id, char **id, struct mp_error *err)
{
	struct mp_error local;
	struct mp_regdb *db;
	mp_status st = reg_open_write(loc, &db, err);
	if (st == MP_OK)
		st = mp_regdb_add(db, m, want_id, MP_REG_FORCE, id,
				  err ? err : &local);
	mp_regdb_close(db);
	return st;
}

int tu_reg_remove(const char *loc, const char *id, struct mp_error *err)
{
	struct mp_regdb *db;
	mp_status st = reg_open_write(loc, &db, err);
	if (st == MP_OK)
		st = mp_regdb_remove(db, id, err);
	mp_regdb_close(db);
	return st;
}

int tu_reg_put_fp(const char *loc, const char *id,
		  const struct mp_fingerprint *fp, struct mp_error *err)
{
	struct mp_regdb *db;
	mp_status st = reg_open_write(loc, &db, err);
	if (st == MP_OK)
		st = mp_regdb_put_fp(db, id, fp, err);
	mp_regdb_close(db);
	return st;
}

int tu_reg_get_fp(const char *loc, const char *id, const char *method,
		  struct mp_fingerprint **fp, struct mp_error *err)
{
	struct mp_regdb *db;
	*fp = NULL;
	mp_status st = mp_regdb_open(loc, false, &db, err);
	if (st == MP_OK)
		st = mp_regdb_get_fp(db, id, method, fp, err);
	mp_regdb_close(db);
	return st;
}

struct mp_fingerprint *tu_sketch_fp(size_t n, const char *const *names,
				    const uint64_t *rows, const uint64_t *cols,
				    float *const *sketch, uint32_t k)
{
	struct mp_fingerprint *fp = calloc(1, sizeof *fp);
	ck_assert_ptr_nonnull(fp);
	fp->method = strdup("tensors");
	fp->format = strdup("safetensors");
	fp->tensors = calloc(n ? n : 1, sizeof *fp->tensors);
	ck_assert(fp->method && fp->format && fp->tensors);
	fp->ntensors = n;
	for (size_t i = 0; i < n; i++) {
		struct mp_tensor_fp *t = &fp->tensors[i];
		uint64_t shape[2] = {rows[i], cols[i]};
		ck_assert_int_eq(mp_tensor_fp_init(t, names[i], 2, shape), MP_OK);
		t->dtype = t->stored = MP_F32;
		t->numel = rows[i] * cols[i];
		memset(t->sha256, '0', MP_SHA256_HEX - 1);
		t->nsketch = k;
		t->sketch = malloc(k * sizeof *t->sketch);
		ck_assert_ptr_nonnull(t->sketch);
		memcpy(t->sketch, sketch[i], k * sizeof *t->sketch);
		fp->params += t->numel;
	}
	ck_assert_int_eq(mp_fp_index(fp, NULL), MP_OK);
	return fp;
}

void tu_put_half(uint8_t *p, uint16_t h)
{
	p[0] = (uint8_t)(h & 0xff);
	p[1] = (uint8_t)(h >> 8);
}
