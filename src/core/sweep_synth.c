/* sweep_synth.c — analytic bilinear models of modular addition, for tests
 * and demos (`modelprint sweep synth`).
 *
 * With theta = 2 pi k / P for a frequency k, A = theta a, B = theta b and
 * C = theta c, a group of four hidden units computes amp * cos(A + B - C)
 * in the logit of class c:
 *   unit 0: L row cos A (first block), R row cos B (second block),
 *           projection column  amp cos C
 *   unit 1: L sin A, R sin B, projection -amp cos C
 *   unit 2: L sin A, R cos B, projection  amp sin C
 *   unit 3: L cos A, R sin B, projection  amp sin C
 * (the other block of each row is 0), since cos(A+B-C) = (cos A cos B -
 * sin A sin B) cos C + (sin A cos B + cos A sin B) sin C. Unit h belongs
 * to group h / 4, of frequency freq[(h / 4) mod nfreq]. A model of width
 * d >= 4 has d / 4 whole groups; the d mod 4 units past them carry the next
 * group's L and R rows with a zero projection column, so the model
 * computes sum over its whole groups of amp_g cos(2 pi k_g (a + b - c) / P)
 * exactly. freq[0] is coprime to P, so that sum has its unique maximum at
 * c = (a + b) mod P: every d >= 4 reaches validation accuracy 1.0 (without
 * noise). Widths 1..3 keep the projection of their partial group. Noise
 * adds N(0, noise^2) to every weight (GSL's mt19937 seeded with seed + d).
 */
#include "atomic_write.h"
#include "json.h"
#include "sweep.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t gcd_u32(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

size_t mp_sweep_synth_freqs(uint32_t P, uint64_t seed, uint32_t *freq)
{
	size_t n = (P - 1) / 2;
	if (n == 0) {
		freq[0] = 1;
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		freq[i] = (uint32_t)(i + 1);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	if (r) {
		gsl_rng_set(r, (unsigned long)seed);
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = gsl_rng_uniform_int(r, i + 1);
			uint32_t t = freq[i];
			freq[i] = freq[j];
			freq[j] = t;
		}
		gsl_rng_free(r);
	}
	for (size_t i = 0; i < n; i++)
		if (gcd_u32(freq[i], P) == 1) {
			uint32_t t = freq[0];
			freq[0] = freq[i];
			freq[i] = t;
			break;
		}
	return n;
}

mp_status mp_sweep_synth_model(struct mp_sweep *s, size_t i,
			       const uint32_t *freq, const double *amp,
			       size_t nfreq, double noise, uint64_t seed,
			       struct mp_error *err)
{
	struct mp_sweep_model *m = &s->m[i];
	size_t P = s->P, w = 2 * P, d = m->d, whole = d / 4;
	for (size_t h = 0; h < d; h++) {
		size_t g = h / 4, q = h % 4;
		double th = 2 * M_PI * (double)freq[g % nfreq] / (double)P;
		double a = amp[g % nfreq];
		bool live = g < whole || whole == 0;
		for (size_t x = 0; x < P; x++) {
			double c = cos(th * (double)x), sn = sin(th * (double)x);
			m->L[h * w + x] = q == 0 || q == 3 ? c : sn;
			m->L[h * w + P + x] = 0;
			m->R[h * w + x] = 0;
			m->R[h * w + P + x] = q == 0 || q == 2 ? c : sn;
			double dv = q == 0 ? a * c : q == 1 ? -a * c : a * sn;
			m->D[x * d + h] = live ? dv : 0;
		}
	}
	if (noise > 0) {
		gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
		if (!r)
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		gsl_rng_set(r, (unsigned long)(seed + d));
		for (size_t t = 0; t < d * w; t++)
			m->L[t] += gsl_ran_gaussian(r, noise);
		for (size_t t = 0; t < d * w; t++)
			m->R[t] += gsl_ran_gaussian(r, noise);
		for (size_t t = 0; t < P * d; t++)
			m->D[t] += gsl_ran_gaussian(r, noise);
		gsl_rng_free(r);
	}
	return MP_OK;
}

void mp_sweep_synth_round_f32(struct mp_sweep *s, size_t i)
{
	struct mp_sweep_model *m = &s->m[i];
	size_t w = 2 * (size_t)s->P, d = m->d;
	for (size_t t = 0; t < d * w; t++) {
		m->L[t] = (float)m->L[t];
		m->R[t] = (float)m->R[t];
	}
	for (size_t t = 0; t < (size_t)s->P * d; t++)
		m->D[t] = (float)m->D[t];
}

static void put_f32(FILE *f, double v)
{
	float x = (float)v;
	uint32_t u;
	memcpy(&u, &x, 4);
	uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16),
			(uint8_t)(u >> 24)};
	fwrite(b, 1, 4, f);
}

/* One model as F32 safetensors at path. */
static mp_status write_model(const struct mp_sweep *s,
			     const struct mp_sweep_model *m, const char *path,
			     struct mp_error *err)
{
	size_t P = s->P, w = 2 * P, d = m->d;
	unsigned long long n1 = 2ull * d * w * 4, n2 = (unsigned long long)P * d * 4;
	char hdr[512];
	int len = snprintf(hdr, sizeof hdr,
			   "{\"bi_linear.weight\":{\"dtype\":\"F32\",\"shape\":"
			   "[%zu,%zu],\"data_offsets\":[0,%llu]},"
			   "\"projection.weight\":{\"dtype\":\"F32\",\"shape\":"
			   "[%zu,%zu],\"data_offsets\":[%llu,%llu]}}",
			   2 * d, w, n1, P, d, n1, n1 + n2);
	if (len < 0 || (size_t)len + 8 >= sizeof hdr)
		return mp_error_set(err, MP_ERANGE, "%s: header too long", path);
	while (len % 8)
		hdr[len++] = ' ';
	struct mp_atomic a;
	mp_status st = mp_atomic_open(&a, path, err);
	if (st != MP_OK)
		return st;
	uint8_t lb[8];
	for (int k = 0; k < 8; k++)
		lb[k] = (uint8_t)((unsigned long long)len >> (8 * k));
	fwrite(lb, 1, 8, a.fp);
	fwrite(hdr, 1, (size_t)len, a.fp);
	for (size_t t = 0; t < d * w; t++)
		put_f32(a.fp, m->L[t]);
	for (size_t t = 0; t < d * w; t++)
		put_f32(a.fp, m->R[t]);
	for (size_t t = 0; t < P * d; t++)
		put_f32(a.fp, m->D[t]);
	return mp_atomic_commit(&a, err);
}

mp_status mp_sweep_synth_write(const struct mp_sweep *s, const char *dir,
			       const double *acc, const uint32_t *freq,
			       size_t nfreq, struct mp_error *err)
{
	mp_status st = mp_mkdir_p(dir, err);
	if (st != MP_OK)
		return st;
	mp_json *j = mp_json_object(), *models = NULL, *fr = NULL;
	bool ok = j && mp_json_add_str(j, "name", s->name) &&
		  mp_json_add_num(j, "P", s->P) &&
		  (fr = mp_json_add_arr(j, "freqs")) &&
		  (models = mp_json_add_arr(j, "models"));
	for (size_t k = 0; ok && k < nfreq; k++)
		ok = mp_json_push_num(fr, freq[k]) != NULL;
	for (size_t i = 0; ok && i < s->n && st == MP_OK; i++) {
		char name[64], *path;
		snprintf(name, sizeof name, "d%u.safetensors", s->m[i].d);
		mp_json *e = mp_json_object();
		ok = e && mp_json_push(models, e) &&
		     mp_json_add_num(e, "d", s->m[i].d) &&
		     mp_json_add_str(e, "file", name) &&
		     (!acc || mp_json_add_num(e, "val_acc", acc[i]));
		if (!ok || !(path = mp_path_join(dir, name))) {
			ok = false;
			break;
		}
		st = write_model(s, &s->m[i], path, err);
		free(path);
	}
	char *text = ok && st == MP_OK ? mp_json_print(j, true) : NULL;
	char *mpath = text ? mp_path_join(dir, "manifest.json") : NULL;
	if (st == MP_OK && !mpath)
		st = mp_error_set(err, MP_ENOMEM, "%s: out of memory", dir);
	if (st == MP_OK)
		st = mp_atomic_write(mpath, text, err);
	free(mpath);
	free(text);
	mp_json_free(j);
	return st;
}
