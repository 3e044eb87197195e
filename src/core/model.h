/* model.h — a model opened from disk: its files (mapped), its tensors and
 * metadata. mp_model_open detects the format and dispatches to one fmt_*.c
 * through a table of operations. The model owns everything it points to;
 * tensor data pointers borrow the mapped files and die with the model. */
#ifndef MP_MODEL_H
#define MP_MODEL_H

#include "dtype.h"
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
 * (TF.js concatenates weights and cuts shards anywhere). */
struct mp_seg {
	const uint8_t *data; /* borrowed from the model's files */
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
	int nseg;
	struct mp_seg seg[MP_MAX_SEGS];
	int file_index;  /* index in model->files of the first segment */
	uint64_t offset; /* byte offset of the first segment in that file */
	bool output_last; /* output axis is the last dimension (TF.js) */
};

struct mp_meta {
	char *key, *value;
};

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

/* Open path (file or directory) with the first format whose probe accepts
 * it. Errors name the file and the problem. */
mp_status mp_model_open(const char *path, struct mp_model **out,
			struct mp_error *err);

/* Free a model (NULL allowed), unmapping its files. */
void mp_model_free(struct mp_model *m);

/* Names of the supported formats, NULL terminated. */
const char *const *mp_model_formats(void);

/* Helpers for fmt_*.c. */

/* Append a mapped file the user named to m; returns its index in *index. */
mp_status mp_model_add_file(struct mp_model *m, const char *path, int *index,
			    struct mp_error *err);
/* Append a mapped file the model names (n->base is m->dir): it must
 * resolve inside the model directory (mp_file_open_named). */
mp_status mp_model_add_named(struct mp_model *m, const char *path,
			     const struct mp_named *n, int *index,
			     struct mp_error *err);
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

/* Copy or borrow bytes [off, off+len) of the tensor's stored bytes: returns a
 * pointer into the map when the range lies in one segment, else copies into
 * scratch (len bytes) and returns scratch. Caller guarantees the range is
 * inside the tensor. */
const uint8_t *mp_tensor_bytes(const struct mp_tensor *t, uint64_t off,
			       uint64_t len, uint8_t *scratch);

/* Decode n stored values (raw little-endian bytes) of t to logical values,
 * applying its dequantisation exactly as the format's runtime does. */
void mp_tensor_decode(const struct mp_tensor *t, const uint8_t *bytes,
		      size_t n, double *out);

/* Find a tensor by name, NULL if absent. */
const struct mp_tensor *mp_model_find(const struct mp_model *m,
				      const char *name);

#endif
