/* arch_int.h — the signature set's internals, shared by arch.c (loading)
 * and arch_match.c (matching). */
#ifndef MP_ARCH_INT_H
#define MP_ARCH_INT_H

#include "arch.h"

#define MAX_VARS 32
#define MAX_IDX 4 /* numeric name components kept per extra group */

enum dim_kind { DIM_ANY, DIM_LIT, DIM_VAR };
struct dim {
	enum dim_kind kind;
	uint64_t lit;
	int var;
};

struct pat {
	char *text;
	bool layered; /* holds {i} */
	int ndim;     /* -1: any shape */
	struct dim dims[MP_MAX_DIMS];
};

enum rel { REL_NONE, REL_IN, REL_LT, REL_EQ };
struct var {
	char *name;
	enum rel rel;
	uint64_t *in; /* [nin] for REL_IN */
	size_t nin;
	int other; /* for REL_LT, REL_EQ */
};

struct sig {
	char *name, *family;
	bool fallback; /* a generic layout: loses ties to a named model */
	struct pat *req, *opt, *forbid;
	size_t nreq, nopt, nforbid;
	struct var vars[MAX_VARS];
	int nvars;
	int v_hidden, v_q, v_kv; /* variable indices or -1 */
	uint64_t head_dim;
	/* [nhd] exceptions to head_dim by hidden width (hd_hidden[k] ->
	 * hd_dim[k]), from the published configs */
	uint64_t *hd_hidden, *hd_dim;
	size_t nhd;
	/* [nw] key-tensor weights ("weights": normalised name -> weight) */
	char **wname;
	double *wval;
	size_t nw;
};

struct mp_arch_set {
	char **prefixes;
	size_t nprefixes;
	double min_coverage;
	struct sig *sigs;
	size_t nsigs;
};

/* Does s match pattern p ('*' any text, '{x}' one or more digits, {i}
 * captured into *layer)? */
bool mp_arch_pat_match(const char *p, const char *s, long *layer);

#endif
