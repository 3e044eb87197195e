/* fingerprint.h — fingerprints of models and the table of fingerprint
 * methods. A fingerprint owns all its arrays and strings; mp_fp_free frees
 * them. Adding a method means one fp_<name>.c defining a struct mp_method and
 * one entry in the table in fingerprint.c. */
#ifndef MP_FINGERPRINT_H
#define MP_FINGERPRINT_H

#include "json.h"
#include "model.h"
#include "tstats.h"

#define MP_SPECTRAL_BINS 64
#define MP_SPECTRAL_MAX_SV 256
/* Default sketch size of the tensors method: values per tensor. */
#define MP_SKETCH_DEFAULT 4096

/* Progress callback: done/total in bytes, done non-decreasing per caller but
 * NOT serialised: it may be called concurrently from several worker threads
 * (at most every few MB of progress each), so fn must be thread-safe and
 * tolerate slightly out-of-order `done` values. fn may be NULL. */
struct mp_progress {
	void (*fn)(void *ctx, uint64_t done, uint64_t total);
	void *ctx;
};

/* What the spectral method found for one matrix. */
struct mp_tensor_spec {
	uint64_t rows, cols; /* the matrix view (output axis = rows) */
	double sigma1, stable_rank, effective_rank;
	bool sv_exact; /* false when from the randomized SVD */
	uint32_t nsv;  /* >= 1 */
	double sv[];   /* [nsv] descending singular values */
};

/* One tensor's fingerprint: about 140 bytes plus its name and shape, and
 * only what it holds beyond that (an empty tensor has no sketch and shares
 * its statistics). */
struct mp_tensor_fp {
	char *name;	 /* owned; the shape lives in the same allocation */
	uint64_t *shape; /* [ndim], set with mp_tensor_fp_init */
	enum mp_dtype dtype; /* logical dtype (after dequantisation) */
	enum mp_dtype stored;
	/* GGUF block type as stored (then stored is MP_F32, the decoded
	 * values' type), NULL otherwise; static */
	const struct mp_ggml_type_info *ggml;
	int ndim;
	uint32_t nsketch;
	uint64_t numel;
	char sha256[MP_SHA256_HEX]; /* of the bytes as stored */
	bool stats_shared;	    /* stats belongs to the fingerprint */
	/* NULL when the tensor has none; owned unless stats_shared (then
	 * read-only, shared by tensors of the same statistics of no values) */
	struct mp_tstats *stats;
	float *sketch; /* [nsketch] values at mp_sketch_positions() */
	/* A GGUF Q/K matrix of an architecture whose converter permutes its
	 * rows (mp_gguf_names_permuted): sketch_heads > 0 when the sketch
	 * was taken with llama.cpp's permutation of that many heads undone
	 * (sketch[k] is the value at position k of the Hugging Face order);
	 * sketch_permuted when it was not (the rows as stored: a fingerprint
	 * written before modelprint undid it, or no head counts), so its
	 * positions do not match the other order's (mp_fp_sketches_aligned) */
	uint32_t sketch_heads;
	bool sketch_permuted;
	/* A GGUF norm to whose weights llama.cpp's converter added an offset
	 * (mp_gguf_names_offset, Gemma's 1 + w): the sketch holds the stored
	 * values minus sketch_offset (exact in float32 for such values), so
	 * that it samples the original's; 0 for every other tensor. The
	 * statistics and SHA-256 stay those of the stored values. */
	double sketch_offset;
	/* A GGUF matrix llama.cpp's converter stored as the transpose of its
	 * Hugging Face original (mp_gguf_names_transposed: GPT-2's Conv1D
	 * weights): transposed set, and sketch[k] is the value at position k
	 * of the original's layout (its shape the reverse of this one's,
	 * positions from that shape), read from the stored element holding
	 * it; so its shape matches the original's reversed
	 * (mp_fp_shapes_match) and its sketch the original's. */
	bool transposed;
	struct mp_tensor_spec *spec; /* spectral only, else NULL */
};

/* Set t's name to a copy of name and its shape to shape[0..ndim) (ndim <=
 * MP_MAX_DIMS), both in one allocation (free(t->name) frees both). */
mp_status mp_tensor_fp_init(struct mp_tensor_fp *t, const char *name,
			    int ndim, const uint64_t *shape);
/* A new spectral record of nsv values for t (freed with the fingerprint);
 * NULL when out of memory. */
struct mp_tensor_spec *mp_tensor_fp_spec(struct mp_tensor_fp *t, uint32_t nsv);

struct mp_file_fp {
	char *path;
	uint64_t size;
	char sha256[MP_SHA256_HEX];
};

#define MP_FP_GGML_IDS 64 /* ggml type ids counted in ggml_params */

struct mp_fingerprint {
	char *method;	/* "tensors", "spectral", "weight" */
	char *model_id; /* may be NULL for ad-hoc fingerprints */
	char *format;
	mp_json *args; /* method arguments used, owned (may be NULL) */
	uint64_t params;
	double seconds;
	size_t nfiles;
	struct mp_file_fp *files;
	size_t ntensors;
	struct mp_tensor_fp *tensors;
	/* parameter count per logical dtype, block-quantized tensors left out */
	uint64_t dtype_params[MP_DTYPE_COUNT];
	/* parameter count of block-quantized tensors per ggml type id */
	uint64_t ggml_params[MP_FP_GGML_IDS];
	/* what the model says of itself (GGUF: general.*, tokenizer), owned */
	size_t nmeta;
	struct mp_meta *meta;
	bool has_hist;
	double hist[MP_SPECTRAL_BINS]; /* spectral histogram, sums to 1 */
	/* The fingerprint of a vector method (weight, input_output): [nvec]
	 * finite values, owned; NULL and 0 for the other methods. Compared by
	 * the metrics of metric_vec.c. */
	double *vec;
	size_t nvec;
	/* How vec was computed, for people, owned, may be NULL (weight: the
	 * chained tensors in the order multiplied, "(a (b c))") */
	char *vec_note;
	/* Private: statistics shared by tensors (stats_shared), at most
	 * MP_FP_SHARED of them, see mp_fp_set_stats. */
	struct mp_tstats *shared;
	int nshared;
	/* Private: [ntensors] tensor indices sorted by (name, index), built by
	 * mp_fp_index; NULL means mp_fp_find scans linearly. */
	size_t *by_name;
	/* The architecture of gguf_names.json its names are read under
	 * (mp_gguf_names_arch_of), set by mp_fp_index; NULL: all. */
	const char *names_arch;
};

struct mp_method {
	const char *name;
	const char *summary;
	const char *const *arg_names; /* NULL terminated valid argument names */
	/* Check the values of args (keys already checked against arg_names);
	 * NULL means every argument must be a number. */
	mp_status (*check_args)(const mp_json *args, struct mp_error *err);
	/* Compute into fp (already zeroed, method/format/files filled by the
	 * caller). args validated against arg_names before the call. */
	mp_status (*compute)(const struct mp_model *m, const mp_json *args,
			     int threads, const struct mp_progress *prog,
			     struct mp_fingerprint *fp, struct mp_error *err);
	/* Formats (mp_model.format names) the method never applies to, NULL
	 * terminated, or NULL: a run records those models as not applicable
	 * without opening them (their files may be gone). */
	const char *const *never_formats;
};

/* Whether method me never applies to a model of format (its
 * never_formats list it). */
bool mp_method_never_applies(const struct mp_method *me, const char *format);

/* Method table lookup; NULL when unknown. */
const struct mp_method *mp_method_find(const char *name);
/* Names of all methods, NULL terminated. */
const char *const *mp_method_names(void);

/* Check args (object or NULL) against the method: unknown keys are an error
 * listing the valid ones; values are checked by the method's check_args
 * (else they must be numbers). */
mp_status mp_method_check_args(const struct mp_method *me, const mp_json *args,
			       struct mp_error *err);

/* Fingerprint an open model: files hashed, tensors processed over threads
 * (0 = number of CPUs). */
mp_status mp_fp_compute(const struct mp_model *m, const char *method,
			const mp_json *args, int threads,
			const struct mp_progress *prog,
			struct mp_fingerprint **out, struct mp_error *err);

/* SHA-256 of a whole mapped file as lowercase hex (empty string on
 * error: MP_ENOMEM when OpenSSL cannot allocate its context, MP_EIO when
 * the file shrank while being read). Releases pages as it goes. */
mp_status mp_fp_hash_file(const struct mp_file *f, char hex[MP_SHA256_HEX],
			  struct mp_error *err);

void mp_fp_free(struct mp_fingerprint *fp);

/* The ggml type named name ("Q4_0"), NULL when none. */
const struct mp_ggml_type_info *mp_fp_ggml_named(const char *name);

/* The stored type name of t: its ggml type's, else its stored dtype's. */
const char *mp_fp_stored_name(const struct mp_tensor_fp *t);

/* Give t statistics equal to *s: when s describes no values (n and
 * nonfinite 0) and equals statistics fp already shares, t shares them;
 * such statistics are also added to those fp shares while there is room;
 * otherwise t gets its own copy. Not thread-safe for one fp. */
#define MP_FP_SHARED 8
mp_status mp_fp_set_stats(struct mp_fingerprint *fp, struct mp_tensor_fp *t,
			  const struct mp_tstats *s);

/* JSON round trip (format in man/modelprint-files.5). from_json validates
 * every field and names `where` in errors. */
mp_json *mp_fp_to_json(const struct mp_fingerprint *fp);
/* Write fp as one JSON object (the value of member key, or NULL inside an
 * array or at the top) without building a tree; the text is exactly what
 * printing mp_fp_to_json's tree gives. False once the writer failed. */
struct mp_jw;
bool mp_fp_write_json(struct mp_jw *w, const char *key,
		      const struct mp_fingerprint *fp);
mp_status mp_fp_from_json(const mp_json *j, const char *where,
			  struct mp_fingerprint **out, struct mp_error *err);

/* Build fp->by_name so mp_fp_find is O(log n). mp_fp_compute and
 * mp_fp_from_json call it; code that builds or edits fp->tensors by hand
 * calls it again afterwards (or leaves by_name NULL). */
mp_status mp_fp_index(struct mp_fingerprint *fp, struct mp_error *err);

/* Find a tensor fingerprint by name (the first one when names repeat);
 * NULL if absent. A name absent as such is looked up under its names in
 * the other convention (GGUF <-> Hugging Face, gguf_names.h). */
const struct mp_tensor_fp *mp_fp_find(const struct mp_fingerprint *fp,
				      const char *name);

/* Whether sketch[k] of a and of b are values at the same logical
 * position: false when one holds llama.cpp's permuted row order and the
 * other does not (sketch_permuted differs). */
bool mp_fp_sketches_aligned(const struct mp_tensor_fp *a,
			    const struct mp_tensor_fp *b);

/* Take llama.cpp's converter offset (mp_gguf_names_offset for
 * architecture arch, may be NULL) off the sketch of t, a GGUF norm whose
 * sketch holds the stored values, and set t->sketch_offset; nothing for
 * any other tensor. */
void mp_fp_unshift_sketch(struct mp_tensor_fp *t, const char *arch);

/* Whether a and b pair by shape: the same shape (any two of one value
 * alike), or one transposed (a GGUF matrix stored as W^T) and the other
 * its shape reversed. */
bool mp_fp_shapes_match(const struct mp_tensor_fp *a,
			const struct mp_tensor_fp *b);

/* The sketch order of tensor fingerprint t of a model of architecture
 * arch (general.architecture, may be NULL): sets t->sketch_permuted when
 * t is a Q/K matrix llama.cpp permutes whose sketch was taken without
 * undoing it (t->sketch_heads 0), or a matrix it transposes whose sketch
 * was taken in the stored layout (t->transposed false); sets
 * t->transposed for the latter too, so that it still pairs by shape. */
void mp_fp_sketch_order(struct mp_tensor_fp *t, const char *arch);

/* Sketch positions: k sorted distinct indices in [0, numel) that depend only
 * on the shape and the seed (stratified: one position per stratum). Returns
 * the count written (min(k, numel)). */
uint32_t mp_sketch_positions(const uint64_t *shape, int ndim, uint64_t numel,
			     uint64_t seed, uint32_t k, uint64_t *pos);

/* Method objects (defined in fp_<name>.c). */
extern const struct mp_method mp_method_tensors;
extern const struct mp_method mp_method_spectral;
extern const struct mp_method mp_method_weight;
extern const struct mp_method mp_method_input_output;

/* Largest size argument of the weight method (size^2 values). */
#define MP_WEIGHT_MAX_SIZE 1024
#define MP_WEIGHT_DEFAULT_SIZE 50

#endif
