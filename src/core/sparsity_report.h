/* sparsity_report.h — the comparative report over `sparsity multi`
 * results: loading a directory of their JSON files, naming each matrix's
 * pruning method and projection, grouping and averaging. Pure: nothing
 * here prints.
 *
 * Ownership: a struct mp_spr owns its entries and strings (mp_spr_done);
 * groups are freed with mp_spr_groups_free. */
#ifndef MP_SPARSITY_REPORT_H
#define MP_SPARSITY_REPORT_H
#include "mp.h"

#define MP_SPR_NMETRIC 9
/* The aggregate keys of a multi result, in table order of the columns:
 * separation_ratio, within, between, inertia, min_distance, max_distance,
 * distance_range, balance, size_std. */
extern const char *const mp_spr_keys[MP_SPR_NMETRIC];
enum { MP_SPR_RATIO = 0, MP_SPR_WITHIN = 1, MP_SPR_BETWEEN = 2 };

struct mp_spr_entry {
	char *file;	     /* the JSON file's base name */
	char *method, *proj; /* "?" when neither a label nor a name tells */
	char *tensor, *path; /* the JSON's "tensor" and "file" */
	uint64_t rows, cols; /* its "matrix" */
	double mean[MP_SPR_NMETRIC], std[MP_SPR_NMETRIC]; /* NAN: null */
};

struct mp_spr {
	size_t n;
	struct mp_spr_entry *e; /* sorted by file name */
	size_t nskip;
	char **skip; /* base names of the files skipped (not *.json) */
};

/* Load every *.json of dir (other files are listed in skip). labels[0..nl)
 * are "FILE=METHOD/PROJ" (FILE the base name or the path as listed);
 * without one, method and projection come from the file's base name
 * ("wanda_down_proj.json": the projection is the word ending in "_proj",
 * the method the first word of the name when '_' ends it and it is not
 * the projection) or else from the JSON's matrix path
 * (".../wanda/layer1-mlp.down_proj.pt": the projection from its base name,
 * the method the directory holding it). Errors name the file: unreadable,
 * not JSON, or not a multi result (no "aggregate" object of numbers); a
 * malformed label or one naming no file; no JSON file at all. */
mp_status mp_spr_load(const char *dir, const char *const *labels, size_t nl,
		      struct mp_spr *out, struct mp_error *err);
void mp_spr_done(struct mp_spr *r);

/* True when label has the form FILE=METHOD/PROJ (none of them empty, no
 * '/' in PROJ, at most 250 bytes). */
bool mp_spr_label_ok(const char *label);

/* The method and projection named in name (a base name or path) by the
 * rules above, into method/proj (empty when not found). */
void mp_spr_parse_name(const char *name, char *method, size_t mlen,
		       char *proj, size_t plen);

struct mp_spr_group {
	char *name;
	size_t n;
	/* mean over the group's matrices of their mean ratio, within,
	 * between (NAN when none defined) */
	double ratio, within, between;
};

/* Entries grouped by method (by_method) or projection, sorted by mean
 * separation ratio, highest first (undefined last, then by name). */
mp_status mp_spr_group(const struct mp_spr *r, bool by_method,
		       struct mp_spr_group **out, size_t *n,
		       struct mp_error *err);
void mp_spr_groups_free(struct mp_spr_group *g, size_t n);

/* The insight of groups g[0..n) (sorted as mp_spr_group gives them) in
 * words, what = "projection" or "method": the best against the worst with
 * the relative difference of their mean ratios. */
void mp_spr_insight(const struct mp_spr_group *g, size_t n, const char *what,
		    char *buf, size_t len);

#endif
