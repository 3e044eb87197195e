/* simmatrix.h — similarity matrices: one per method and metric over n
 * models, computed from fingerprints, and the similarity-matrices JSON file
 * (man/modelprint-files.5). Matrices own their ids and values. */
#ifndef MP_SIMMATRIX_H
#define MP_SIMMATRIX_H

#include "metric.h"

/* How the values of a matrix were obtained (the "estimate" member of a
 * matrix in the similarity-matrices file). UNKNOWN: a file written before
 * modelprint recorded it. */
enum mp_estimate {
	MP_ESTIMATE_UNKNOWN,
	MP_ESTIMATE_EXACT,      /* from every value (or exact fingerprints) */
	MP_ESTIMATE_SKETCH,     /* from the sketches of the tensors method */
	MP_ESTIMATE_RANDOMIZED, /* spectra of large tensors by randomized SVD */
};

/* A similarity matrix of n models (ids in order) for one method and metric.
 * value[i*n+j] is NAN where undefined and reason[i*n+j] then says why. */
struct mp_simmatrix {
	char *method, *metric;
	bool higher_is_more_alike;
	enum mp_estimate estimate;
	uint32_t sketch_values; /* SKETCH: values per tensor, 0 = not known */
	size_t n;
	char **ids;
	double *value;        /* [n*n] */
	const char **reason;  /* [n*n] static strings or NULL */
};

/* An n x n matrix with copies of the names, ids NULL, values and reasons
 * uninitialised; NULL when out of memory or n*n exceeds 2^40. */
struct mp_simmatrix *mp_simmatrix_new(const char *method, const char *metric,
				      size_t n);

/* Value [i][j] must equal [j][i]: both null, or equal within 1e-9
 * relative (the file may come from another program). Error names where,
 * the matrix and the first offending cell. */
mp_status mp_simmatrix_check_symmetric(const struct mp_simmatrix *s,
				       const char *where, struct mp_error *err);

/* The static string equal to a known undefined-pair reason, else
 * "undefined" (reasons read from files are not kept). */
const char *mp_simmatrix_intern_reason(const char *r);

/* The file name of an estimate kind: "unknown", "exact", "sketch",
 * "randomized_svd". */
const char *mp_estimate_name(enum mp_estimate e);

/* Set s->estimate from the file's names: kind one of the names above,
 * values (has_values) the sketch size, an integer in 1..2^32-1 and only
 * with kind "sketch". Anything else is MP_EFORMAT naming where and the
 * matrix; s is then unchanged. */
mp_status mp_simmatrix_set_estimate(struct mp_simmatrix *s, const char *kind,
				    bool has_values, double values,
				    const char *where, struct mp_error *err);

/* Add "estimate": {"kind": ..., "values": ...} to object parent (values
 * only for a sketch of known size). False when out of memory. */
bool mp_simmatrix_estimate_to_json(const struct mp_simmatrix *s,
				   mp_json *parent);

/* How the values were obtained, for people: "sketch estimate from 4096
 * values per tensor", "sketch estimate (size not recorded)", "exact
 * values", "estimate (randomized SVD of large tensors)" or "unknown
 * whether exact or a sketch estimate", in buf (cap bytes, 96 is enough);
 * returns buf. */
char *mp_simmatrix_estimate_phrase(const struct mp_simmatrix *s, char *buf,
				   size_t cap);
/* The same after the metric's name: "cosine: sketch estimate from 4096
 * values per tensor" (160 bytes is enough); returns buf. */
char *mp_simmatrix_estimate_text(const struct mp_simmatrix *s, char *buf,
				 size_t cap);

/* How metric's values over fps[0..n) are obtained: a sketch that holds
 * every value of its tensor gives exact values, and a spectrum from the
 * randomized SVD is an estimate; sketch_values as in the struct. */
void mp_simmatrix_estimate_of(const struct mp_metric *metric,
			      struct mp_fingerprint *const *fps, size_t n,
			      enum mp_estimate *estimate,
			      uint32_t *sketch_values);

/* The value of cell (a, b) of metric's matrix: NAN with *reason (a static
 * string) where undefined (MP_REASON_NOT_APPLIC when a or b is NULL: the
 * method does not apply to that model), else *reason NULL. Every matrix cell, in one
 * process or over MPI ranks (mpi_pairs.h), comes from this. */
double mp_simmatrix_pair(const struct mp_metric *metric,
			 const struct mp_fingerprint *a,
			 const struct mp_fingerprint *b, const char **reason);

/* Compute the matrix of fps[0..n) (same method) with metric; it records
 * how the values were obtained (estimate, sketch_values). */
mp_status mp_simmatrix_compute(const struct mp_metric *metric,
			       struct mp_fingerprint *const *fps,
			       char *const *ids, size_t n,
			       struct mp_simmatrix **out, struct mp_error *err);
void mp_simmatrix_free(struct mp_simmatrix *s);

/* Rows of s sorted by id (strcmp), for mp_simmatrix_find_row; caller
 * frees. NULL when out of memory. */
size_t *mp_simmatrix_id_index(const struct mp_simmatrix *s);
/* Row of id through index (from mp_simmatrix_id_index); -1 if absent. */
long mp_simmatrix_find_row(const struct mp_simmatrix *s, const size_t *index,
			   const char *id);

/* Similarity-matrices file: {"matrices": {method: {metric: {...}}}}. */
mp_json *mp_simmatrix_list_to_json(struct mp_simmatrix *const *ms, size_t n);
mp_status mp_simmatrix_list_from_json(const mp_json *j, const char *where,
				      struct mp_simmatrix ***out, size_t *n,
				      struct mp_error *err);

/* Index of a model id that appears twice in ids[0..n), -1 when they are
 * unique, -2 when out of memory. */
long mp_simmatrix_dup_id(char *const *ids, size_t n);

/* The binary similarity-matrix file (man/modelprint-files.5): one matrix,
 * a little-endian header (magic MP_SIMBIN_MAGIC, 8 bytes), then its values
 * row-major as float32 or float64 from a 64-byte aligned offset.
 * mp_simmatrix_file_open recognises it by its magic and lists its one
 * matrix; mp_simmatrix_file_get reads it into the same struct as the JSON
 * form, with the same checks. */
#define MP_SIMBIN_MAGIC "MPSIM1\0\0"
#define MP_SIMBIN_VERSION 1
#define MP_SIMBIN_ALIGN 64
/* True when data (len bytes) starts with MP_SIMBIN_MAGIC or
 * MP_TOPK_MAGIC (which mp_simmatrix_file_open refuses, naming it). */
bool mp_simmatrix_bin_is(const void *data, size_t len);
/* Write s to path atomically (atomic_write.h) with values of vsize bytes:
 * 4 (float32, rounded to nearest) or 8 (float64, exact). A value beyond
 * float32's range with vsize 4 is MP_ERANGE. */
mp_status mp_simmatrix_bin_write(const struct mp_simmatrix *s,
				 const char *path, unsigned vsize,
				 struct mp_error *err);

/* The k most alike models of each of n models (a sparse form for
 * registries whose whole matrix is too big): row i's neighbours are
 * index[i*k .. i*k+k), most alike first (ties by index), with their
 * score; MP_TOPK_NONE (score NaN) past the last defined neighbour. Owns
 * its names, ids and arrays. The file form is the binary matrix file's
 * header with magic MP_TOPK_MAGIC and k (modelprint-files(5)). */
#define MP_TOPK_MAGIC "MPTOPK1\0"
#define MP_TOPK_NONE UINT32_MAX
struct mp_simtopk {
	char *method, *metric;
	bool higher_is_more_alike;
	enum mp_estimate estimate;
	uint32_t sketch_values;
	size_t n, k;
	char **ids;      /* [n] */
	uint32_t *index; /* [n*k] */
	double *score;   /* [n*k] */
};
/* n models, k neighbours each, names copied, ids NULL, every entry
 * MP_TOPK_NONE; NULL when out of memory. */
struct mp_simtopk *mp_simtopk_new(const char *method, const char *metric,
				  size_t n, size_t k);
void mp_simtopk_free(struct mp_simtopk *t);
/* Offer neighbour j with score v to row i (NaN and j == i are ignored):
 * kept when among the k most alike so far. */
void mp_simtopk_offer(struct mp_simtopk *t, size_t i, uint32_t j, double v);
/* The exact top-k of the whole matrix m (1 <= k < m->n, else
 * MP_EINVAL); ids copied. */
mp_status mp_simtopk_from_matrix(const struct mp_simmatrix *m, size_t k,
				 struct mp_simtopk **out,
				 struct mp_error *err);
/* The top-k of fps[0..n) (method "tensors", ids[i] of fps[i]) under
 * metric, through the codes of identify's locality-sensitive index
 * (lsh.h): for each model the cand (at least k) others of the highest
 * estimated similarity (mp_lsh_similarity; codes of other sketch sizes or
 * seeds never compared) are scored with metric, and the k most alike of
 * those kept. Costs n*n code comparisons and n*cand scores instead of
 * n*n scores; equals mp_simtopk_from_matrix whenever every true neighbour
 * is among its row's candidates (recall 1). */
mp_status mp_simtopk_lsh(const struct mp_metric *metric,
			 struct mp_fingerprint *const *fps, char *const *ids,
			 size_t n, size_t k, size_t cand,
			 struct mp_simtopk **out, struct mp_error *err);
/* Write t atomically, scores of vsize bytes (4 or 8). */
mp_status mp_simtopk_write(const struct mp_simtopk *t, const char *path,
			   unsigned vsize, struct mp_error *err);
/* True when path is a regular file starting with MP_TOPK_MAGIC. */
bool mp_simtopk_is_file(const char *path);
/* Read a top-k file, every length, index and score checked (indices < n
 * and not the row itself, each row's defined neighbours first and sorted,
 * unique ids); errors name the file and the field. */
mp_status mp_simtopk_read(const char *path, struct mp_simtopk **out,
			  struct mp_error *err);

/* A similarity-matrices file read without building a JSON tree (a
 * 2,000-model matrix holds 4 million numbers): mp_simmatrix_file_open maps
 * the file, checks the JSON syntax of the whole file and lists the
 * matrices; mp_simmatrix_file_get converts one, with the same checks as
 * mp_simmatrix_list_from_json. The handle owns the mapping and the names;
 * matrices returned by _get are the caller's. */
struct mp_simmatrix_file {
	char *path;
	size_t n;                /* matrices in the file */
	char **method, **metric; /* [n] in file order */
	uint64_t *off;           /* [n] byte offset of each matrix object */
	void *map;               /* private: the mapped file */
	unsigned binary;         /* 0: JSON; else a binary file (n == 1)
				  * of values of this many bytes */
};
mp_status mp_simmatrix_file_open(const char *path,
				 struct mp_simmatrix_file **out,
				 struct mp_error *err);
/* Index of method/metric in f, -1 when absent. */
long mp_simmatrix_file_find(const struct mp_simmatrix_file *f,
			    const char *method, const char *metric);
/* Choose a matrix: method NULL means "input_output" when the file has it
 * (with that metric, when metric is given), else the first method (that
 * has the metric); metric NULL means "l1" when the method has it, else its
 * first metric. An absent method or metric is MP_ENOENT with a
 * message naming the file and listing the available ones. */
mp_status mp_simmatrix_file_pick(const struct mp_simmatrix_file *f,
				 const char *method, const char *metric,
				 size_t *idx, struct mp_error *err);
mp_status mp_simmatrix_file_get(const struct mp_simmatrix_file *f, size_t idx,
				struct mp_simmatrix **out, struct mp_error *err);
void mp_simmatrix_file_close(struct mp_simmatrix_file *f);

/* For simmatrix_read.c: the binary form behind mp_simmatrix_file_open
 * (f->map set: validates the whole header and lists its matrix) and
 * mp_simmatrix_file_get. */
mp_status mp_simmatrix_bin_open(struct mp_simmatrix_file *f,
				struct mp_error *err);
mp_status mp_simmatrix_bin_get(const struct mp_simmatrix_file *f,
			       struct mp_simmatrix **out, struct mp_error *err);

#endif
