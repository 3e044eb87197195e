/* cmd_sparsity_profile.c — `modelprint sparsity profile MODEL [--parent
 * FILE]`: per tensor, the share of zeros, their spread, the pruning
 * pattern, the magnitude threshold, and with a parent the relation of the
 * survivors and the zeros to it; then the model's magnitude verdict. */
#include "cli.h"
#include "model.h"
#include "sparsity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull;

/* What the parent run gathers over the tensors. */
struct par_sum {
	const struct mp_model *pm;
	size_t paired, mask_only, updated, missing, mismatched;
	mp_json *missing_j, *mismatched_j;
	double hi, lo; /* largest pruned, smallest kept parent |w| overall */
};

static void pattern_json(mp_json *e, const struct mp_mask *mk,
			 const struct mp_prune_profile *p, char *rz, char *cz,
			 char *pat, size_t len)
{
	mp_json *mx = mp_json_add_arr(e, "matrix");
	mp_json_push_num(mx, (double)mk->rows);
	mp_json_push_num(mx, (double)mk->cols);
	mp_json *r = mp_json_add_arr(e, "row_zeros");
	mp_json_push_num(r, (double)p->row_zero_min);
	mp_json_push_num(r, (double)p->row_zero_max);
	mp_json *c = mp_json_add_arr(e, "col_zeros");
	mp_json_push_num(c, (double)p->col_zero_min);
	mp_json_push_num(c, (double)p->col_zero_max);
	mp_json_add_str(e, "pattern", mp_prune_name(p->pattern));
	if (p->m) {
		mp_json_add_num(e, "n", p->n);
		mp_json_add_num(e, "m", p->m);
	}
	mp_json_add_str(e, "evidence", p->evidence);
	snprintf(rz, len, "%llu..%llu", (ull)p->row_zero_min,
		 (ull)p->row_zero_max);
	snprintf(cz, len, "%llu..%llu", (ull)p->col_zero_min,
		 (ull)p->col_zero_max);
	if (p->m)
		snprintf(pat, len, "%u:%u %s", p->n, p->m,
			 p->pattern == MP_PRUNE_NM_ROWS ? "rows" : "cols");
	else
		snprintf(pat, len, "%s", mp_prune_name(p->pattern));
}

static void magnitude_json(mp_json *e, const struct mp_magnitude *g)
{
	mp_json *j = mp_json_add_obj(e, "magnitude");
	mp_json_add_bool(j, "pruned", g->pruned);
	mp_json_add_bool(j, "magnitude", g->magnitude);
	mp_json_add_bool(j, "grouped", g->grouped);
	mp_json_add_num(j, "min_survivor", g->min_kept);
	mp_json_add_num(j, "median_survivor", g->median_kept);
	mp_json_add_num(j, "ratio", g->ratio);
	mp_json_add_str(j, "evidence", g->evidence);
}

/* The parent comparison of t: into e (JSON) and on stdout (text). A
 * missing or mismatched tensor is reported, not an error; 0, or 1 after
 * printing a read error. */
static int parent_one(const struct mp_model *m, const struct mp_tensor *t,
		      struct par_sum *s, mp_json *e, bool json)
{
	const struct mp_tensor *pt = mp_model_find(s->pm, t->name);
	mp_json *j = mp_json_add_obj(e, "parent");
	struct mp_error err;
	if (!pt) {
		s->missing++;
		mp_json_push_str(s->missing_j, t->name);
		mp_json_add_str(j, "error", "not in the parent");
		if (!json)
			printf("    parent: no tensor of this name\n");
		return 0;
	}
	struct mp_parent_cmp c;
	mp_status st = mp_parent_compare(m, t, s->pm, pt, &c, &err);
	if (st == MP_EINVAL) {
		s->mismatched++;
		mp_json_push_str(s->mismatched_j, t->name);
		mp_json_add_str(j, "error", err.msg);
		if (!json)
			printf("    parent: %s\n", cli_esc(err.msg));
		return 0;
	}
	if (st != MP_OK)
		return cli_fail(&err);
	s->paired++;
	*(c.mask_only ? &s->mask_only : &s->updated) += 1;
	if (c.pruned && c.max_pruned > s->hi)
		s->hi = c.max_pruned;
	if (c.kept && c.min_kept < s->lo)
		s->lo = c.min_kept;
	mp_json_add_bool(j, "mask_only", c.mask_only);
	mp_json_add_num(j, "survivors", (double)c.kept);
	mp_json_add_num(j, "changed", (double)c.changed);
	mp_json_add_num(j, "changed_share",
			c.kept ? (double)c.changed / (double)c.kept : 0);
	mp_json_add_num(j, "relative_change", c.rel_change);
	mp_json_add_num(j, "pruned", (double)c.pruned);
	mp_json_add_num(j, "zero_in_parent", (double)c.both_zero);
	mp_json_add_num(j, "revived", (double)c.revived);
	mp_json_add_str(j, "selection", mp_parent_select_name(c.select));
	mp_json_add_num(j, "max_pruned", c.max_pruned);
	mp_json_add_num(j, "min_survivor", c.min_kept);
	mp_json_add_str(j, "evidence", c.evidence);
	if (!json)
		printf("    parent: %s\n", c.evidence);
	return 0;
}

/* One tensor: its line (text) and its entry (JSON). */
static int profile_one(const struct mp_model *m, const struct mp_tensor *t,
		       mp_json *arr, struct mp_magnitude *g, bool *have_g,
		       struct par_sum *ps, int threads, bool json,
		       uint64_t tot[3])
{
	struct mp_error err;
	bool mat = mp_sparsity_is_matrix(t);
	struct mp_mask mk;
	struct mp_prune_profile p;
	if (mp_mask_from_tensor_mt(m, t, MP_SPARSITY_ROWS, true, threads, &mk,
				   &err) != MP_OK ||
	    (mat && mp_prune_detect(&mk, &p, &err) != MP_OK) ||
	    (mat && mp_magnitude_of(m, t, g, &err) != MP_OK)) {
		mp_mask_done(&mk);
		return cli_fail(&err);
	}
	if (mat)
		mp_magnitude_grouped(g, &p);
	*have_g = mat;
	tot[0] += t->numel;
	tot[1] += mk.nzero;
	tot[2] += mk.ntiny;
	double zs = (double)mk.nzero / (double)t->numel,
	       ts = (double)mk.ntiny / (double)t->numel;
	char shape[8 * 21];
	mp_shape_text(t->ndim, t->shape, shape, sizeof shape);
	mp_json *e = mp_json_object();
	mp_json_add_str(e, "name", t->name);
	mp_json_add_str(e, "dtype", mp_dtype_name(t->logical));
	mp_json *sh = mp_json_add_arr(e, "shape");
	for (int d = 0; d < t->ndim; d++)
		mp_json_push_num(sh, (double)t->shape[d]);
	mp_json_add_num(e, "numel", (double)t->numel);
	mp_json_add_num(e, "zeros", (double)mk.nzero);
	mp_json_add_num(e, "zero_share", zs);
	mp_json_add_num(e, "tiny_share", ts);
	char rz[48] = "-", cz[48] = "-", pat[48] = "-";
	if (mat) {
		pattern_json(e, &mk, &p, rz, cz, pat, sizeof rz);
		magnitude_json(e, g);
	} else {
		mp_json_add_null(e, "matrix");
		mp_json_add_null(e, "pattern");
	}
	mp_json_push(arr, e);
	if (!json) {
		printf("%s %s %7.4f %7.4f %13s %13s  %s%s%s\n",
		       cli_cell(t->name, 40, CLI_TAIL), cli_cell(shape, 14, 0),
		       zs, ts, rz, cz, pat, mat ? ": " : "",
		       mat ? p.evidence : "");
		if (mat && g->pruned)
			printf("    magnitude: %s\n", g->evidence);
	}
	mp_mask_done(&mk);
	return ps->pm ? parent_one(m, t, ps, e, json) : 0;
}

static void parent_summary(mp_json *doc, const struct par_sum *s,
			   const char *parent, bool json)
{
	mp_json *j = mp_json_add_obj(doc, "parent");
	mp_json_add_str(j, "file", parent);
	mp_json_add_num(j, "paired", (double)s->paired);
	mp_json_add_num(j, "mask_only", (double)s->mask_only);
	mp_json_add_num(j, "updated", (double)s->updated);
	mp_json_set(j, "missing", s->missing_j);
	mp_json_set(j, "mismatched", s->mismatched_j);
	/* one threshold over the whole model: every pruned parent |w| at
	 * most every kept one, in every tensor */
	bool glob = s->hi > -INFINITY && s->hi <= s->lo;
	mp_json_add_bool(j, "global_threshold", glob);
	mp_json_add_num(j, "threshold", glob ? s->hi : NAN);
	if (json)
		return;
	printf("parent %s: %zu tensors paired, %zu mask-only, %zu with "
	       "survivors updated",
	       cli_esc(parent), s->paired, s->mask_only, s->updated);
	if (s->mismatched)
		printf(", %zu of another shape", s->mismatched);
	if (s->missing)
		printf(", %zu not in the parent", s->missing);
	printf("\n");
	if (glob)
		printf("parent: one threshold over the model: every new zero "
		       "had |w| <= %.4g, every survivor >= %.4g\n",
		       s->hi, s->lo);
}

int cli_sparsity_profile(const char *file, const char *parent, int threads,
			 bool json)
{
	struct mp_model *m, *pm = NULL;
	struct mp_error err;
	if (mp_model_open(file, &m, &err) != MP_OK)
		return cli_fail(&err);
	if (parent && mp_model_open(parent, &pm, &err) != MP_OK) {
		mp_model_free(m);
		return cli_fail(&err);
	}
	struct mp_magnitude *mag = calloc(m->ntensors + 1, sizeof *mag);
	struct par_sum ps = {pm, 0, 0, 0, 0, 0, mp_json_array(),
			     mp_json_array(), -INFINITY, INFINITY};
	mp_json *doc = mp_json_object();
	mp_json_add_str(doc, "file", file);
	mp_json_add_str(doc, "format", m->format);
	mp_json *arr = mp_json_add_arr(doc, "tensors");
	uint64_t tot[3] = {0, 0, 0};
	size_t nmag = 0;
	int rc = mag ? CLI_EXIT_OK : (cli_error("out of memory"), CLI_EXIT_FAIL);
	if (!json && rc == CLI_EXIT_OK)
		printf("%-40s %-14s %7s %7s %13s %13s  %s\n", "TENSOR", "SHAPE",
		       "ZERO", "<1e-6", "ROW ZEROS", "COL ZEROS", "PATTERN");
	for (size_t i = 0; i < m->ntensors && rc == CLI_EXIT_OK; i++) {
		const struct mp_tensor *t = &m->tensors[i];
		if (!mp_dtype_is_float(t->logical) || !t->numel)
			continue;
		bool have = false;
		rc = profile_one(m, t, arr, &mag[nmag], &have, &ps, threads,
				 json, tot);
		nmag += have;
	}
	if (rc == CLI_EXIT_OK) {
		mp_json *to = mp_json_add_obj(doc, "total");
		double n = (double)tot[0];
		mp_json_add_num(to, "numel", n);
		mp_json_add_num(to, "zeros", (double)tot[1]);
		mp_json_add_num(to, "zero_share", (double)tot[1] / n);
		mp_json_add_num(to, "tiny_share", (double)tot[2] / n);
		struct mp_mag_model mm;
		mp_magnitude_model(mag, nmag, &mm);
		mp_json *mj = mp_json_add_obj(doc, "magnitude");
		mp_json_add_str(mj, "verdict", mp_mag_verdict_name(mm.verdict));
		mp_json_add_num(mj, "threshold",
			    mm.verdict == MP_MAG_GLOBAL ? mm.t_min : NAN);
		mp_json_add_num(mj, "pruned_tensors", (double)mm.pruned);
		mp_json_add_num(mj, "magnitude_tensors", (double)mm.magnitude);
		mp_json_add_num(mj, "grouped_tensors", (double)mm.grouped);
		mp_json_add_num(mj, "min_threshold", mm.t_min);
		mp_json_add_num(mj, "max_threshold", mm.t_max);
		mp_json_add_str(mj, "evidence", mm.evidence);
		if (!json) {
			printf("%llu floating weights, %.4f zero, %.4f below "
			       "1e-6\n",
			       (ull)tot[0], tot[0] ? (double)tot[1] / n : 0,
			       tot[0] ? (double)tot[2] / n : 0);
			printf("magnitude: %s%s%s\n",
			       mm.verdict == MP_MAG_GLOBAL ? "one global threshold"
			       : mm.verdict == MP_MAG_PER_TENSOR
				   ? "per-tensor thresholds"
			       : mm.verdict == MP_MAG_MIXED ? "mixed"
			       : mm.verdict == MP_MAG_GROUPED
				   ? "magnitude within groups"
				   : "no threshold",
			       ": ", mm.evidence);
		}
		if (pm) {
			parent_summary(doc, &ps, parent, json);
			ps.missing_j = ps.mismatched_j = NULL;
		}
		if (json)
			cli_print_json(doc);
	}
	mp_json_free(ps.missing_j);
	mp_json_free(ps.mismatched_j);
	mp_json_free(doc);
	free(mag);
	mp_model_free(m);
	mp_model_free(pm);
	return rc;
}
