/* tui_data.h — what the interface shows: the models of a registry and of a
 * results file (one list, registry order first) with names, families and
 * types (a model-info file overrides the registry's), their parameter
 * counts and dtype mixes from the registry's tensors fingerprints, and the
 * current similarity matrix of the results file with its family/type
 * analysis. Only one matrix is held at a time (a 2,000-model matrix is
 * 64 MB): mp_tui_data_select reads another. The data owns everything. */
#ifndef MP_TUI_DATA_H
#define MP_TUI_DATA_H

#include "groups.h"
#include "registry.h"
#include "simmatrix.h"

struct mp_tui_model {
	char *id, *name, *family, *type; /* family/type "" when unknown */
	char *format;                    /* "" when not in the registry */
	bool in_registry;
	bool has_fp;     /* a tensors fingerprint was found */
	uint64_t params; /* 0 without a fingerprint */
	char dtypes[40]; /* "F32 100%", "F16 62% I8 38%", "" */
};

struct mp_tui_data {
	struct mp_regdb *registry; /* open for reading; NULL without one */
	char *fp_file;      /* a run's fingerprints.json, NULL without */
	char *origin;       /* where the data came from, for the status line */
	size_t n;
	struct mp_tui_model *models; /* [n] */
	struct mp_simmatrix_file *file; /* the results file, NULL without */
	size_t nmats;                   /* = file->n, 0 without a file */
	size_t cur;                     /* the matrix held */
	struct mp_simmatrix *m;         /* matrix cur, NULL without a file */
	size_t *row_model;              /* [m->n] index into models */
	struct mp_model_info_set *info; /* of every model, for the analysis */
	struct mp_analysis *an;         /* of m, built by mp_tui_data_analysis */
};

/* Where the data comes from; any member may be NULL. fingerprints is the
 * fingerprints.json `run` wrote beside results; origin a sentence on where
 * all this was found, shown on the first screen; identify a model to
 * identify against the models of the data (mp_tui_identify_file). */
struct mp_tui_paths {
	const char *registry, *results, *model_info;
	const char *fingerprints, *origin;
	const char *identify; /* a model file: open on its identify view */
	const char *sparsity; /* a model file: open on its cluster explorer */
	const char *sweep;    /* a sweep manifest or its directory */
};

/* Progress of a long load: what is being read, done of total steps;
 * returning false stops the load (an "interrupted" error). */
struct mp_tui_progress {
	bool (*fn)(void *ctx, const char *what, size_t done, size_t total);
	void *ctx;
};

/* Load the models and the densest matrix (fewest nulls, spectral on a
 * tie, else the first); prog may be NULL. A missing or
 * malformed file is an error naming it; a model without a fingerprint is
 * shown without parameters. */
mp_status mp_tui_data_load(const struct mp_tui_paths *p,
			   const struct mp_tui_progress *prog,
			   struct mp_tui_data **out, struct mp_error *err);
void mp_tui_data_free(struct mp_tui_data *d);

/* Hold matrix k instead of the current one (on failure the current one
 * stays). Models new to the list are appended. */
mp_status mp_tui_data_select(struct mp_tui_data *d, size_t k,
			     const struct mp_tui_progress *prog,
			     struct mp_error *err);
/* The family/type analysis of the current matrix, computed on first use;
 * NULL (err filled) on failure or without a matrix. */
const struct mp_analysis *mp_tui_data_analysis(struct mp_tui_data *d,
					       struct mp_error *err);

/* The method's fingerprint of model mi (tui_fp.c): from the run's
 * fingerprints.json first, else the registry. On failure *out is NULL and
 * why says why in a sentence (MP_ENOENT: there is none). */
mp_status mp_tui_data_fp(const struct mp_tui_data *d, size_t mi,
			 const char *method, struct mp_fingerprint **out,
			 char why[MP_ERRMSG_MAX]);

/* Index of the model with id, or -1. */
long mp_tui_data_find(const struct mp_tui_data *d, const char *id);
/* Row of model index mi in the current matrix, or -1. */
long mp_tui_data_row(const struct mp_tui_data *d, size_t mi);

/* "1.2M", "340k", "7.0B", "512" into buf (at least 8 bytes). */
const char *mp_tui_fmt_count(uint64_t v, char buf[16]);
/* Dtype mix of a fingerprint by stored type, largest share first, as
 * "F32 100%", "F16 62% I8 38%" or "Q4_K 100% F32 <1%" (ggml block types
 * by their names). */
void mp_tui_dtype_mix(const struct mp_fingerprint *fp, char *buf,
		      size_t size);

/* One stored type of a fingerprint and its parameter count. */
struct mp_tui_stored {
	const char *name; /* "F32", "Q4_K", ... */
	uint64_t params;
};
#define MP_TUI_STORED_MAX (MP_DTYPE_COUNT + MP_FP_GGML_IDS)

/* The stored types of fp with parameters, largest count first (ties in
 * type order: dtypes, then ggml ids), into out[0..return). */
size_t mp_tui_stored_types(const struct mp_fingerprint *fp,
			   struct mp_tui_stored out[MP_TUI_STORED_MAX]);

#endif
