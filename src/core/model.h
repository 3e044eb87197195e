/* model.h — a model opened from disk: its files (mapped), its tensors and
 * metadata. mp_model_open detects the format and dispatches to one fmt_*.c
 * through a table of operations. The model owns everything it points to;
 * tensor data pointers borrow the mapped files (or buffers the model owns,
 * see mp_model_own) and die with the model. */
#ifndef MP_MODEL_H
#define MP_MODEL_H

#include "dtype.h"
#include "ggml_dequant.h"
#include "reader.h"

#define MP_MAX_DIMS 8
#define MP_MAX_SEGS 64

/* Dequantisation of stored codes to logical values (TF.js). */
enum mp_quant_kind {
	MP_QUANT_NONE = 0,
	MP_QUANT_AFFINE, /* value = code * scale + min, rounded to float32 */
	MP_QUANT_F16,    /* stored as float16, logical float32 */
};

struct mp_quant {
	enum mp_quant_kind kind;
	double scale, min;
};

/* A byte range of one mapped file; a tensor is at most MP_MAX_SEGS of them
 * (TF.js concatenates weights and cuts shards anywhere). Most tensors have
 * one, kept inline; only a tensor spanning files allocates its list. */
struct mp_seg {
	const uint8_t *data; /* borrowed from the model's files or buffers */
	uint64_t len;
};

struct mp_tensor {
	char *name;
	enum mp_dtype stored;  /* type of the bytes in the file */
	enum mp_dtype logical; /* type after dequantisation (== stored if none) */
	struct mp_quant quant;
	int ndim;
	uint64_t shape[MP_MAX_DIMS];
	uint64_t numel;  /* product of shape, checked */
	uint64_t nbytes; /* numel * size(stored), checked */
	int nseg;	     /* segments; read them with mp_tensor_segs */
	struct mp_seg seg1;  /* the segment when nseg <= 1 */
	struct mp_seg *segs; /* [nseg] owned when nseg > 1, else NULL */
	int file_index;  /* index in model->files of the first segment */
	uint64_t offset; /* byte offset of the first segment in that file */
	bool output_last; /* output axis is the last dimension (TF.js) */
	/* GGUF block-quantized type (Q4_0, Q4_K, ...), NULL otherwise: the
	 * bytes are nbytes / ggml->bytes blocks of ggml->block values, decoded
	 * with ggml->dequant block by block (mp_tensor_decode_blocks);
	 * stored and logical are then MP_F32, the type of the decoded values. */
	const struct mp_ggml_type_info *ggml;
};

struct mp_meta {
	char *key, *value;
};

/* The value of key among meta[0..n), NULL when absent. */
const char *mp_meta_get(const struct mp_meta *meta, size_t n, const char *key);

struct mp_model {
	char *path;         /* as given by the user */
	char *dir;          /* canonical directory every file it names must
			     * resolve inside (see mp_named) */
	const char *format; /* "safetensors", "tfjs", ... (static) */
	struct mp_file *files;
	size_t nfiles;
	struct mp_tensor *tensors;
	size_t ntensors;
	struct mp_meta *meta;
	size_t nmeta;
	/* Private: [ntensors] tensor positions sorted by name (mp_model_index);
	 * NULL until built and after mp_model_add_tensor. */
	size_t *by_name;
	/* The architecture of gguf_names.json its names are read under
	 * (mp_gguf_names_arch_of), set by mp_model_index; NULL: all. */
	const char *names_arch;
	/* Private: heap buffers the model owns (inflated archive members),
	 * freed with it; see mp_model_own. */
	void **owned;
	size_t nowned;
};

/* Operations of one format. probe returns true when path (a file or
 * directory) is of this format; open fills m (files, tensors, meta). On
 * failure open may leave partial contents; mp_model_free cleans up. */
struct mp_format_ops {
	const char *name;
	bool (*probe)(const char *path);
	mp_status (*open)(struct mp_model *m, const char *path,
			  struct mp_error *err);
};

extern const struct mp_format_ops mp_fmt_safetensors;
extern const struct mp_format_ops mp_fmt_tfjs;
extern const struct mp_format_ops mp_fmt_numpy;
extern const struct mp_format_ops mp_fmt_torch;
extern const struct mp_format_ops mp_fmt_gguf;
extern const struct mp_format_ops mp_fmt_llama2c;

/* "NAME-00001-of-00003.gguf": true with the length of NAME (the stem the
 * shards share), the shard's index k (1-based) and the count n, when path
 * is so named and 1 <= k <= n; else false. */
bool mp_gguf_shard_name(const char *path, size_t *stem, unsigned *k,
			unsigned *n);

/* Open path (file or directory) with the first format whose probe accepts
 * it. Errors name the file and the problem. */
mp_status mp_model_open(const char *path, struct mp_model **out,
			struct mp_error *err);

/* The models in directory dir, for fingerprinting one by one: its
 * entries (hidden ones skipped) that a format accepts, each a file or a
 * directory, as paths dir/NAME sorted by name, a set of GGUF shards
 * NAME-0000k-of-0000N.gguf once (by its first shard there: opening it
 * opens them all), into *paths[0..*n) (the
 * caller frees each and the array). Errors: dir is not a directory,
 * cannot be read, or holds no model (MP_ENOENT). */
mp_status mp_model_list_dir(const char *dir, char ***paths, size_t *n,
			    struct mp_error *err);

/* Free a model (NULL allowed), unmapping its files. */
void mp_model_free(struct mp_model *m);

/* Names of the supported formats, NULL terminated. */
const char *const *mp_model_formats(void);

/* Helpers for fmt_*.c. */

/* The entries of dir (hidden ones skipped) for which keep(dir/NAME) is
 * true, as paths dir/NAME sorted by name, into *paths[0..*n) (the caller
 * frees each and the array; NULL when none). Errors name dir. */
mp_status mp_dir_list(const char *dir, bool (*keep)(const char *path),
		      char ***paths, size_t *n, struct mp_error *err);

/* The distinct shard names of the weight_map object wm of the index
 * path, sorted, borrowed from wm, into *out[0..*n) (the caller frees the
 * array). Errors: a value not a string, a path not relative or with '..'
 * components. */
struct cJSON;
mp_status mp_index_shards(const char *path, const struct cJSON *wm,
			  const char ***out, size_t *n, struct mp_error *err);

/* Append a mapped file the user named to m; returns its index in *index. */
mp_status mp_model_add_file(struct mp_model *m, const char *path, int *index,
			    struct mp_error *err);
/* Append a mapped file the model names (n->base is m->dir): it must
 * resolve inside the model directory (mp_file_open_named). */
mp_status mp_model_add_named(struct mp_model *m, const char *path,
			     const struct mp_named *n, int *index,
			     struct mp_error *err);
/* Give the heap buffer p (from malloc) to m, which frees it in
 * mp_model_free; tensor segments may point into it. On failure p is freed
 * at once. */
mp_status mp_model_own(struct mp_model *m, void *p, struct mp_error *err);
/* Append a zeroed tensor named name; returns a pointer valid until the next
 * append. */
mp_status mp_model_add_tensor(struct mp_model *m, const char *name,
			      struct mp_tensor **out, struct mp_error *err);
mp_status mp_model_add_meta(struct mp_model *m, const char *key,
			    const char *value, struct mp_error *err);
/* Set t->ndim/shape and compute numel and nbytes with overflow checks;
 * where names the file for the error. */
mp_status mp_tensor_set_shape(struct mp_tensor *t, int ndim,
			      const uint64_t *shape, const char *where,
			      struct mp_error *err);

/* Set the segments of t to a copy of v[0..n) (1 <= n <= MP_MAX_SEGS);
 * where names the file for the error. */
mp_status mp_tensor_set_segs(struct mp_tensor *t, const struct mp_seg *v,
			     int n, const char *where, struct mp_error *err);
/* The nseg segments of t, in order. */
static inline const struct mp_seg *mp_tensor_segs(const struct mp_tensor *t)
{
	return t->nseg > 1 ? t->segs : &t->seg1;
}
/* A shape as text: "AxBxC", "scalar" for ndim 0; truncated to len. */
void mp_shape_text(int ndim, const uint64_t *shape, char *buf, size_t len);

/* Free what t owns besides its name (for tensors built outside a model;
 * mp_model_free does it for a model's tensors). */
void mp_tensor_done(struct mp_tensor *t);

/* Copy or borrow bytes [off, off+len) of the tensor's stored bytes: returns a
 * pointer into the map when the range lies in one segment, else copies into
 * scratch (len bytes) and returns scratch. Caller guarantees the range is
 * inside the tensor. */
const uint8_t *mp_tensor_bytes(const struct mp_tensor *t, uint64_t off,
			       uint64_t len, uint8_t *scratch);

/* The stored bytes of elements [e0, e0+n) of t, as mp_tensor_bytes gives
 * them (scratch holds n * size(stored) bytes); for a block-quantized tensor
 * (t->ggml) the values decoded to float32 into scratch, which
 * mp_tensor_decode then reads as t->stored (MP_F32). Caller guarantees the
 * range is inside the tensor. */
const uint8_t *mp_tensor_elems(const struct mp_tensor *t, uint64_t e0,
			       uint64_t n, uint8_t *scratch);

/* Apply fn (mp_file_release or mp_file_prefetch) to the mapped pages of
 * bytes [off, off + len) of t, a tensor of m; each segment may lie in
 * another file. */
void mp_tensor_advise(const struct mp_model *m, const struct mp_tensor *t,
		      uint64_t off, uint64_t len,
		      void (*fn)(const struct mp_file *, uint64_t, uint64_t));

/* Largest ggml block mp_tensor_elems decodes: values and bytes. */
#define MP_GGML_BLOCK_MAX 256
#define MP_GGML_BYTES_MAX 1024

/* Decode n stored values (raw little-endian bytes) of t to logical values,
 * applying its dequantisation exactly as the format's runtime does. */
void mp_tensor_decode(const struct mp_tensor *t, const uint8_t *bytes,
		      size_t n, double *out);

/* Decode the nblocks blocks at bytes of the block-quantized tensor t
 * (t->ggml != NULL) to nblocks * t->ggml->block float32 values at out. */
void mp_tensor_decode_blocks(const struct mp_tensor *t, const uint8_t *bytes,
			     size_t nblocks, float *out);

/* Build the name index of m (mp_model_open does it after the format's
 * open). When two tensors share a name, *dup_a < *dup_b are the positions
 * of the first such pair in file order and *repeated is true; a reader
 * turns that into its error. */
mp_status mp_model_index(struct mp_model *m, bool *repeated, size_t *dup_a,
			 size_t *dup_b, struct mp_error *err);

/* Find a tensor by name, NULL if absent: O(log n) once indexed, a linear
 * scan before. A name absent as such is looked up under its names in the
 * other convention (GGUF <-> Hugging Face, gguf_names.h). */
const struct mp_tensor *mp_model_find(const struct mp_model *m,
				      const char *name);

#endif
