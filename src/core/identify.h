/* identify.h — where an unknown checkpoint comes from: its architecture,
 * the references it is compatible with, their scores (seed 003: shape,
 * exact, stats, cosine, pearson, final, with a coverage penalty), the most
 * likely parent or "no match", and the relation to it with its evidence.
 * Works on `tensors` fingerprints (sketches); the model files, when at
 * hand, refine the relation (lineage.h). Thresholds are documented in
 * modelprint-identify(1). */
#ifndef MP_IDENTIFY_H
#define MP_IDENTIFY_H

#include "arch.h"
#include "lineage.h"

/* --- thresholds (modelprint-identify(1) explains each) ---------------- */
/* Tensors sets are compatible when the matched tensors (by normalised name
 * and shape, or by content when renamed) are at least this share of the
 * smaller set. */
#define MP_ID_MIN_OVERLAP 0.5
/* ... and at least this share of the larger set (a two-tensor file does
 * not share an architecture with a model of hundreds). */
#define MP_ID_MIN_SHARE 0.1
/* A reference is a parent when its (coverage-penalised) final score and
 * its Pearson score reach these. */
#define MP_ID_RELATED_FINAL 0.3
#define MP_ID_RELATED_PEARSON 0.3
/* Confidence of a parent: very high / high / medium from the Pearson
 * score and the margin over the runner-up's final score. */
#define MP_ID_VERY_HIGH_PEARSON 0.99
#define MP_ID_HIGH_PEARSON 0.9
#define MP_ID_MARGIN 0.1
/* When the best reference is a fine-tune, the next ones (at most
 * MP_ID_TIE_TRIES) of a final within MP_ID_TIE are tried for a tighter
 * relation (copy, dtype, quantization, pruning, permutation, renames). */
#define MP_ID_TIE 0.01
#define MP_ID_TIE_TRIES 3
/* Of two references a GGUF's grids explain, the one leaving the smaller
 * error is its source when the error ratios differ by more than this
 * share; else the more precise. The source's own rounding adds to the
 * error: Q8_0 moves the ratio of a Q4_K by about 3e-3, F16 by 1e-6 to
 * 1e-5, below what the quantizer's choices move it (measured on the
 * fixtures' llama.cpp quantizations). */
#define MP_ID_SOURCE_MARGIN 1e-5
/* A merge is reported when the NNLS fit of 2..4 references leaves a
 * relative residual at most MP_ID_MERGE_RESIDUAL, at most half of the best
 * single reference's, with every kept coefficient at least
 * MP_ID_MERGE_MIN_COEF. */
#define MP_ID_MERGE_RESIDUAL 0.1
#define MP_ID_MERGE_MIN_COEF 0.02
/* ... fitted on at least this many sketch values per parent. */
#define MP_ID_MERGE_MIN_VALUES 64
/* Tensors of the evidence listed at most. */
#define MP_ID_TOP 16
/* Dynamic selection keeps at most this many tensors, chosen by their
 * variance over the best this many references (by equal weights). */
#define MP_ID_DYNAMIC_MAX 16
#define MP_ID_DYNAMIC_REFS 16

/* One reference: borrowed strings and fingerprint (method "tensors"). */
struct mp_ident_ref {
	const char *id;	  /* registry id, or the file path */
	const char *name; /* display name */
	const char *path; /* the model's files (NULL: not at hand) */
	const struct mp_fingerprint *fp;
};

/* How the key tensors were chosen. */
enum mp_ident_selection {
	MP_SEL_SEED,	/* the architecture's weights (data/architectures.json) */
	MP_SEL_EQUAL,	/* every floating tensor in common, equal weights */
	MP_SEL_DYNAMIC, /* largest between-reference variance of Pearson */
};

struct mp_ident_key {
	char *name; /* normalised, owned */
	double weight; /* the weights sum to 1 */
};

/* One reference's scores against the unknown. Undefined parts are NAN. */
struct mp_ident_score {
	size_t ref;	  /* index into the refs given */
	bool compatible;  /* same architecture and tensor sets overlap */
	const char *arch; /* its architecture (borrowed), NULL if unknown */
	char why[160];	  /* when !compatible: the reason in words */
	size_t matched;	  /* tensors matched with the unknown */
	size_t renamed;	  /* of those, matched by content not by name */
	double overlap;	  /* matched / min(tensors of each) */
	double shape, exact, stats, cosine, pearson;
	double coverage; /* key tensors present in both / key tensors */
	double raw_final, final; /* before / after the coverage penalty */
};

/* Relation kinds beyond lineage.h's, as identify names them. */
enum mp_ident_kind {
	MP_ID_COPY,
	MP_ID_DTYPE,
	MP_ID_QUANT,
	MP_ID_PRUNE,
	MP_ID_FINETUNE,
	MP_ID_MERGE,
	MP_ID_RENAMED,
	MP_ID_PERMUTED,
	MP_ID_UNRELATED, /* same architecture, unrelated weights */
	MP_ID_NONE,	 /* no match */
};

/* One tensor renamed: unknown's name -> parent's name (both borrowed). */
struct mp_ident_rename {
	const char *from, *to;
};

/* A tensor of the evidence (borrowed name) and a value: for a fine-tune
 * 1 - Pearson, for pruning the share zeroed. */
struct mp_ident_tensor {
	const char *name;
	double value;
};

struct mp_ident_relation {
	enum mp_ident_kind kind;
	size_t parent;		/* index into refs (unless MP_ID_NONE) */
	const char *confidence; /* "very high", "high", "medium", "low" */
	bool from_files;	/* decided on the files, else on sketches */
	bool reversed; /* the parent derives from the unknown (dtype,
			* pruning, quantization): the unknown is the original */
	bool partial;  /* exact copy of part: tensors only in one of them */
	char evidence[1280];	/* plain words a person can check */
	struct mp_lineage lineage; /* when from_files (tensor names borrowed
				    * from the unknown's fingerprint) */
	/* merge: the parents and their coefficients */
	int nparents;
	size_t parents[MP_MERGE_MAX];
	double coef[MP_MERGE_MAX];
	double merge_sum, merge_residual, single_residual;
	bool linear;
	/* renamed tensors */
	struct mp_ident_rename *renames; /* [nrenames] owned array */
	size_t nrenames;
	/* the tensors that moved most (fine-tune) or were zeroed (pruning) */
	struct mp_ident_tensor top[MP_ID_TOP];
	int ntop;
};

struct mp_ident_opts {
	const struct mp_arch_set *arch; /* signatures (required) */
	const char *unknown_path; /* the unknown's files, NULL if not at hand */
	bool exact; /* recompute cosine/pearson over whole tensors (files) */
	size_t max_exact_bytes; /* exact without --exact when both files are
				 * at hand and smaller (0: never) */
};

/* What the unknown's metadata says of its origin, beside the measured
 * answer (ident_declared.c). */
struct mp_ident_declared {
	char base[512]; /* general.base_model.N: "organization/name version",
			 * "; " between; "" when the file declares none */
	char repo[256]; /* general.base_model.0.repo_url, or "" */
	char arch[64];	/* general.architecture, or "" */
	/* the declared base against the measured parent, the declared
	 * architecture against the signature found: 1 agree, 0 disagree
	 * (a flag for the user), -1 nothing to compare */
	int agrees, arch_agrees;
};

struct mp_ident_result {
	struct mp_arch_result *arch; /* the unknown's */
	struct mp_ident_declared declared;
	enum mp_ident_selection selection;
	struct mp_ident_key *keys; /* [nkeys] */
	size_t nkeys;
	struct mp_ident_score *scores; /* [nscores] best first: compatible
					* ones by final, then the others */
	size_t nscores, ncompatible;
	bool match; /* a parent was found (relation.kind != MP_ID_NONE) */
	struct mp_ident_relation relation;
	char **warnings; /* [nwarnings] owned lines (a reference's file gone,
			  * a reference without sketches) */
	size_t nwarnings;
};

/* Identify `unknown` among refs[0..n). The result borrows tensor names
 * from unknown and the references' fingerprints: keep them until it is
 * freed. n may be 0 (every unknown is then
 * "no match"). Errors: two references with the same id (MP_EINVAL naming
 * it), an unknown with no floating tensor (MP_EFORMAT), out of memory, and
 * with opts->exact a file that cannot be read. Free with
 * mp_ident_result_free. */
mp_status mp_identify(const struct mp_fingerprint *unknown,
		      const struct mp_ident_ref *refs, size_t n,
		      const struct mp_ident_opts *opts,
		      struct mp_ident_result **out, struct mp_error *err);
void mp_ident_result_free(struct mp_ident_result *r);

/* --- references from a registry (ident_registry.c) -------------------- */

/* Registries with more models than this are searched through their
 * locality-sensitive index, whose MP_ID_CANDIDATES best candidates are
 * then scored in full. */
#define MP_ID_SCAN_MAX 256
#define MP_ID_CANDIDATES 16

struct mp_regdb;
struct mp_ident_refset {
	struct mp_ident_ref *refs; /* [n] */
	size_t n;
	struct mp_fingerprint **fps; /* [n] owned */
	char **strs;		     /* owned strings the refs point to */
	size_t nstrs;
	size_t without; /* live models without a `tensors` fingerprint
			 * (counted on a full scan only) */
	bool indexed;	/* the candidates of the index, not every model */
};

/* The references of the registry db for unknown: every live model with a
 * `tensors` fingerprint, or, when the index holds more than scan_max
 * comparable models, the k best candidates it gives (then loaded). Errors
 * are the registry's. Free with mp_ident_refset_free. */
mp_status mp_ident_refs_load(struct mp_regdb *db,
			     const struct mp_fingerprint *unknown,
			     size_t scan_max, size_t k,
			     struct mp_ident_refset **out,
			     struct mp_error *err);
void mp_ident_refset_free(struct mp_ident_refset *s);

/* Words: "exact copy", "dtype conversion", "quantization", "pruning",
 * "fine-tune", "merge", "renamed tensors", "permuted hidden units",
 * "unrelated weights", "no match"; and JSON keys "copy", "dtype", "quant",
 * "prune", "finetune", "merge", "renamed", "permuted", "unrelated",
 * "none". */
const char *mp_ident_kind_name(enum mp_ident_kind k);
const char *mp_ident_kind_key(enum mp_ident_kind k);
const char *mp_ident_selection_name(enum mp_ident_selection s);

/* The verdict in one sentence ("the unknown is most likely a fine-tune of
 * NAME", "no match: ..."), written to buf[cap]. */
void mp_ident_verdict_text(const struct mp_ident_result *r,
			   const struct mp_ident_ref *refs, char *buf,
			   size_t cap);

/* The result as JSON (modelprint-files(5), "identify"): refs name the
 * references as given to mp_identify. NULL when out of memory. */
mp_json *mp_ident_result_json(const struct mp_ident_result *r,
			      const struct mp_ident_ref *refs);

#endif
