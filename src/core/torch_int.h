/* torch_int.h — private to fmt_torch.c (the containers: zip archive,
 * legacy format, plain pickle, sharded index) and torch_rebuild.c (the
 * pickle's value tree turned into tensors); sweep_pickle.c uses
 * mp_torch_open_tree. */
#ifndef MP_TORCH_INT_H
#define MP_TORCH_INT_H

#include "model.h"
#include "pickle.h"

#define TORCH_OWNED_MAX (4ull << 30) /* bytes inflated or copied, per model */

/* The bytes of one storage. */
struct tstore {
	const uint8_t *data;
	uint64_t nbytes;
	enum mp_dtype dt;
};

/* A storage found by a pickle's persistent id. */
struct tpid {
	const char *key; /* borrowed from the tree */
	enum mp_dtype dt;
	uint64_t numel;
};

struct tcache {
	const char *key;	  /* a persistent id's key, or NULL */
	const struct mp_pk *node; /* a _load_from_bytes call, or NULL */
	struct tstore st;
};

/* One pickle being turned into tensors. */
struct tctx {
	struct mp_model *m;
	const char *where; /* the file (and member) for errors */
	int file_index;
	uint64_t *budget; /* bytes the model may still own */
	/* The storage of persistent id key (its record p). */
	mp_status (*resolve)(struct tctx *c, const struct tpid *p,
			     struct tstore *out, struct mp_error *err);
	void *arg;	    /* the container's state, for resolve */
	const char *single; /* name of a lone tensor */
	uint64_t visits;
	struct tcache *cache; /* open addressing, [ccap] (a power of 2) */
	size_t ncache, ccap;
	char *name; /* the dotted name being built */
	size_t nlen, ncap;
};

/* The globals a PyTorch pickle may name, NULL terminated. */
extern const char *const mp_torch_allowed[];

/* Read the record of persistent id v ('storage', type, key, location,
 * numel[, view_metadata]) into *p; errors name where. */
mp_status mp_torch_pid(const char *where, const struct mp_pk *v, struct tpid *p,
		       struct mp_error *err);

/* Add the tensors of root (state_dict/model wrappers unwrapped, nested
 * containers flattened to dotted names) to c->m; non-tensor values are
 * skipped. Frees c's cache and name. */
mp_status mp_torch_tensors(struct tctx *c, const struct mp_pk *root,
			   struct mp_error *err);

/* A legacy-format torch.save: its main pickle and its storages. */
struct tlegacy {
	struct mp_pk *root;
	struct mp_pk *keys;
	struct tstore *st; /* [nst], keyed by keys->items[i]->s */
	const char **stkey;
	struct tkpos {
		const char *key;
		size_t i;
	} * order; /* [nst] keys and positions, sorted by key */
	size_t nst;
};

/* Parse the legacy format b[0..n) (where names it) into *L: magic,
 * protocol, system info (only
 * little-endian), main pickle, key list, then per key an int64 element
 * count and the raw little-endian elements. Storages borrow from b. */
mp_status mp_torch_legacy(const uint8_t *b, uint64_t n, const char *where,
			  struct tlegacy *L, struct mp_error *err);
void mp_torch_legacy_free(struct tlegacy *L);

/* The storage of persistent id p among L's. */
mp_status mp_torch_legacy_find(const struct tlegacy *L, const struct tpid *p,
			       const char *where, struct tstore *out,
			       struct mp_error *err);

/* The length of the legacy format's magic-number pickle that b[0..n)
 * begins with, 0 when it does not. */
uint64_t mp_torch_is_legacy(const uint8_t *b, uint64_t n);

/* Open the single-file PyTorch checkpoint or pickle path as a model
 * (tensors named as mp_model_open names them) into *out and its main
 * pickle's value tree (tensors left as CALL nodes) into *root, with the
 * same allowlist. Free both. Errors name path. */
mp_status mp_torch_open_tree(const char *path, struct mp_model **out,
			     struct mp_pk **root, struct mp_error *err);

#endif
