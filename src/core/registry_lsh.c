/* registry_lsh.c — the lsh_codes table (schema version 2): one blob of
 * locality-sensitive codes (lsh.h) per model with a `tensors` fingerprint,
 * kept with that fingerprint, and the candidate query over it. */
#include "escape.h"
#include "lsh.h"
#include "registry_int.h"
#include "sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mp_status mp_reg_store_codes(struct mp_sql *sql, const char *name,
			     const char *id, const struct mp_fingerprint *fp,
			     struct mp_error *err)
{
	struct mp_lsh_codes *c;
	mp_status st = mp_lsh_codes(fp, &c, err);
	unsigned char *blob = NULL;
	size_t len = 0;
	if (st == MP_OK)
		st = mp_lsh_encode(c, &blob, &len, err);
	if (st != MP_OK) {
		mp_lsh_codes_free(c);
		char show[MP_NAME_SHOW + 8];
		char msg[MP_ERRMSG_MAX];
		snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
		return mp_error_set(err, st, "%s: codes of model %s: %s", name,
				    mp_printable(id, show), msg);
	}
	char k[24], s[24];
	snprintf(k, sizeof k, "%llu", (unsigned long long)c->sketch_size);
	snprintf(s, sizeof s, "%llu", (unsigned long long)c->seed);
	mp_lsh_codes_free(c);
	struct mp_sql_val p[] = {MP_SQL_TEXT(id), MP_SQL_TEXT(k),
				 MP_SQL_TEXT(s), MP_SQL_BLOB(blob, len)};
	st = mp_sql_exec(sql,
			 "INSERT INTO lsh_codes (model_id, sketch_size, seed, "
			 "codes) VALUES (?, CAST(? AS BIGINT), CAST(? AS "
			 "BIGINT), ?) ON CONFLICT (model_id) DO UPDATE SET "
			 "sketch_size = excluded.sketch_size, seed = "
			 "excluded.seed, codes = excluded.codes",
			 p, 4, NULL, err);
	free(blob);
	return st;
}

/* The ids of the live models with a `tensors` fingerprint. */
static mp_status tensors_ids(struct mp_sql *sql, struct mp_sql_res **r,
			     struct mp_error *err)
{
	return mp_sql_exec(
	    sql,
	    "SELECT f.model_id FROM fingerprints f JOIN models m "
	    "ON m.id = f.model_id WHERE f.method = 'tensors' AND "
	    "m.removed_at IS NULL ORDER BY f.model_id",
	    NULL, 0, r, err);
}

/* Load the `tensors` fingerprint of id through sql. */
static mp_status load_tensors(struct mp_sql *sql, const char *name,
			      const char *id, struct mp_fingerprint **fp,
			      struct mp_error *err)
{
	char where[MP_ERRMSG_MAX / 2], show[MP_NAME_SHOW + 8];
	snprintf(where, sizeof where, "%s: fingerprint of model %s (tensors)",
		 name, mp_printable(id, show));
	return mp_reg_load_fp(sql, where, id, "tensors", fp, err);
}

mp_status mp_reg_lsh_fill(struct mp_sql *sql, struct mp_error *err)
{
	struct mp_sql_res *r = NULL;
	mp_status st = tensors_ids(sql, &r, err);
	for (size_t i = 0; st == MP_OK && i < r->nrows; i++) {
		struct mp_fingerprint *fp;
		const char *id = r->cells[i];
		st = load_tensors(sql, mp_sql_name(sql), id, &fp, err);
		if (st == MP_OK)
			st = mp_reg_store_codes(sql, mp_sql_name(sql), id, fp,
						err);
		else if (st == MP_EFORMAT) /* unreadable: it gets no codes,
					    * and get_fp keeps saying why */
			st = MP_OK;
		mp_fp_free(fp);
	}
	mp_sql_res_free(r);
	return st;
}

static int cmp_hit(const void *pa, const void *pb)
{
	const struct mp_lsh_hit *a = pa, *b = pb;
	if (a->similarity != b->similarity)
		return a->similarity > b->similarity ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* The best k so far, sorted by cmp_hit; ids borrowed from the query
 * result until the end. */
struct ranking {
	struct mp_lsh_hit *v; /* [cap], cap <= k */
	size_t n, cap, k;
};

static mp_status rank_add(struct ranking *rk, const char *id, double sim,
			  struct mp_error *err)
{
	struct mp_lsh_hit h = {(char *)id, sim};
	if (rk->n == rk->k && cmp_hit(&h, &rk->v[rk->n - 1]) >= 0)
		return MP_OK;
	if (rk->n == rk->cap && rk->n < rk->k) {
		size_t cap = rk->cap ? 2 * rk->cap : 16;
		if (cap > rk->k)
			cap = rk->k;
		struct mp_lsh_hit *v = realloc(rk->v, cap * sizeof *v);
		if (!v)
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		rk->v = v;
		rk->cap = cap;
	}
	size_t i = rk->n < rk->k ? rk->n++ : rk->n - 1;
	for (; i > 0 && cmp_hit(&h, &rk->v[i - 1]) < 0; i--)
		rk->v[i] = rk->v[i - 1];
	rk->v[i] = h;
	return MP_OK;
}

/* Codes of every live model from its stored fingerprint (schema 1); ids
 * are kept in *keep, which the caller frees. */
static mp_status rank_from_fps(struct mp_regdb *db,
			       const struct mp_lsh_codes *u, struct ranking *rk,
			       struct mp_sql_res **keep, struct mp_error *err)
{
	struct mp_sql *sql = mp_reg_sql(db);
	mp_status st = tensors_ids(sql, keep, err);
	for (size_t i = 0; st == MP_OK && i < (*keep)->nrows; i++) {
		const char *id = (*keep)->cells[i];
		struct mp_fingerprint *fp;
		struct mp_lsh_codes *c = NULL;
		st = load_tensors(sql, mp_regdb_name(db), id, &fp, err);
		if (st == MP_OK)
			st = mp_lsh_codes(fp, &c, err);
		mp_fp_free(fp);
		if (st == MP_OK && c->sketch_size == u->sketch_size &&
		    c->seed == u->seed)
			st = rank_add(rk, id, mp_lsh_similarity(u, c), err);
		mp_lsh_codes_free(c);
	}
	return st;
}

/* Codes read from lsh_codes in one query; ids kept in *keep. */
static mp_status rank_from_codes(struct mp_regdb *db,
				 const struct mp_lsh_codes *u,
				 struct ranking *rk, struct mp_sql_res **keep,
				 struct mp_error *err)
{
	char k[24], s[24];
	snprintf(k, sizeof k, "%llu", (unsigned long long)u->sketch_size);
	snprintf(s, sizeof s, "%llu", (unsigned long long)u->seed);
	struct mp_sql_val p[] = {MP_SQL_TEXT(k), MP_SQL_TEXT(s)};
	mp_status st = mp_sql_exec(
	    mp_reg_sql(db),
	    "SELECT c.model_id, c.codes FROM lsh_codes c JOIN models m ON "
	    "m.id = c.model_id WHERE c.sketch_size = CAST(? AS BIGINT) AND "
	    "c.seed = CAST(? AS BIGINT) AND m.removed_at IS NULL",
	    p, 2, keep, err);
	struct mp_sql_res *r = *keep;
	for (size_t i = 0; st == MP_OK && i < r->nrows; i++) {
		const char *id = r->cells[2 * i];
		struct mp_lsh_codes *c = NULL;
		st = mp_lsh_decode(r->cells[2 * i + 1], r->lens[2 * i + 1], "",
				   &c, err);
		if (st == MP_OK &&
		    (c->sketch_size != u->sketch_size || c->seed != u->seed))
			st = mp_error_set(err, MP_EFORMAT,
					  ": the codes' sketch_size and seed "
					  "differ from their row's");
		if (st == MP_OK)
			st = rank_add(rk, id, mp_lsh_similarity(u, c), err);
		mp_lsh_codes_free(c);
		if (st != MP_OK &&
		    st != MP_ENOMEM) { /* err->msg is ": problem" */
			char tail[MP_ERRMSG_MAX], show[MP_NAME_SHOW + 8];
			snprintf(tail, sizeof tail, "%s", err ? err->msg : "");
			mp_error_set(err, st, "%s: codes of model %s%s",
				     mp_regdb_name(db),
				     mp_printable(id ? id : "", show), tail);
		}
	}
	return st;
}

mp_status mp_regdb_lsh_candidates(struct mp_regdb *db,
				  const struct mp_fingerprint *unknown,
				  size_t k, struct mp_lsh_hit **hits, size_t *n,
				  struct mp_error *err)
{
	*hits = NULL;
	*n = 0;
	struct mp_lsh_codes *u;
	mp_status st = mp_lsh_codes(unknown, &u, err);
	if (st != MP_OK)
		return st;
	if (u->n == 0) {
		mp_lsh_codes_free(u);
		return mp_error_set(err, MP_EINVAL,
				    "the unknown model has no floating tensor "
				    "with a sketch of at least %d values to "
				    "compare by",
				    MP_LSH_MIN_SKETCH);
	}
	if (!mp_reg_sql(db) || k == 0) {
		mp_lsh_codes_free(u);
		return MP_OK;
	}
	struct ranking rk = {NULL, 0, 0, k};
	struct mp_sql_res *keep = NULL;
	if (mp_reg_schema(db) >= 2)
		st = rank_from_codes(db, u, &rk, &keep, err);
	else
		st = rank_from_fps(db, u, &rk, &keep, err);
	mp_lsh_codes_free(u);
	for (size_t i = 0; st == MP_OK && i < rk.n; i++)
		if (!(rk.v[i].id = mp_strdup(rk.v[i].id)))
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
		else
			*n = i + 1;
	if (st == MP_OK) {
		*hits = rk.v;
	} else {
		mp_lsh_hits_free(rk.v, *n);
		*n = 0;
	}
	mp_sql_res_free(keep);
	return st;
}

void mp_lsh_hits_free(struct mp_lsh_hit *hits, size_t n)
{
	for (size_t i = 0; hits && i < n; i++)
		free(hits[i].id);
	free(hits);
}
