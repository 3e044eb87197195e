/* arch.h — architecture signatures (data/architectures.json) and matching
 * a model's tensor names and shapes against them. A set owns everything
 * it loaded; a result owns its strings and borrows the architecture names
 * from the set (keep the set until the result is freed). */
#ifndef MP_ARCH_H
#define MP_ARCH_H

#include "fingerprint.h"
#include "json.h"
#include "model.h"

/* Indices of a layered pattern ({i}) at or above this are not layers. */
#define MP_ARCH_MAX_LAYERS 4096

struct mp_arch_set;

/* One tensor to match: name and shape[0..ndim), both borrowed. */
struct mp_arch_item {
	const char *name;
	int ndim;
	const uint64_t *shape;
};

/* A group of tensors summarised by pattern: "layers.{0..31}.mlp.w" and
 * how many tensors (or layer instances) it stands for. */
struct mp_arch_group {
	char *pattern;
	size_t count;
};

/* How one signature fits the model. */
struct mp_arch_match {
	const char *name, *family; /* borrowed from the set */
	bool fallback;		   /* the signature is a generic layout */
	double coverage;	   /* present / expected */
	size_t present, expected;  /* required instances: a layered pattern
				    * counts once per layer */
	bool rejected;		   /* a shape or a forbidden tensor rules it
				    * out; conflict says why */
	char *conflict;		   /* NULL unless rejected */
	uint64_t hidden, layers, heads, kv_heads; /* 0 when not readable */
	struct mp_arch_group *missing; /* [nmissing] required, absent */
	size_t nmissing;
	struct mp_arch_group *extra; /* [nextra] tensors of no pattern */
	size_t nextra;
};

/* Every signature's match, best first: by score (coverage, 0 when
 * rejected, 0.99 times coverage for a fallback: a named model within 1 %
 * of a fallback's coverage comes first), then a named model before a
 * fallback, then coverage, then more present instances, then by name; a
 * rejected near match thus comes before unrelated signatures. known is
 * true when m[0] is not rejected and its coverage is at least the set's
 * min_coverage (else the architecture is unknown). */
struct mp_arch_result {
	struct mp_arch_match *m; /* [n] */
	size_t n;
	bool known;
	double min_coverage;
};

/* Load signatures from path (JSON, at most 4 MiB). Errors name the file
 * and the architecture, field and problem. */
mp_status mp_arch_load(const char *path, struct mp_arch_set **out,
		       struct mp_error *err);
void mp_arch_free(struct mp_arch_set *s);
/* Load file, or when file is NULL the installed architectures.json (the
 * data directory, else the source tree's data/) (arch_default.c). Errors:
 * MP_ENOENT when there is none, naming both places; mp_arch_load's. */
mp_status mp_arch_load_default(const char *file, struct mp_arch_set **out,
			       struct mp_error *err);

/* name without the set's prefixes and wrappers (longest first, repeated:
 * "state_dict.model.diffusion_model.x" -> "x"); a pointer into name. */
const char *mp_arch_normalise(const struct mp_arch_set *s, const char *name);

/* Match items[0..n) against every signature of s into *out (free with
 * mp_arch_result_free); GGUF names are read under their Hugging Face
 * names of gguf_names.json's architecture names_arch (NULL: any, as
 * mp_gguf_names_alias). Errors: out of memory only. */
mp_status mp_arch_match(const struct mp_arch_set *s,
			const struct mp_arch_item *items, size_t n,
			const char *names_arch, struct mp_arch_result **out,
			struct mp_error *err);
/* The same for a model's tensors and a fingerprint's tensors. */
mp_status mp_arch_match_model(const struct mp_arch_set *s,
			      const struct mp_model *m,
			      struct mp_arch_result **out,
			      struct mp_error *err);
mp_status mp_arch_match_fp(const struct mp_arch_set *s,
			   const struct mp_fingerprint *fp,
			   struct mp_arch_result **out, struct mp_error *err);
void mp_arch_result_free(struct mp_arch_result *r);

/* May models of architectures a and b be related? False only when both
 * are named signatures (neither unknown nor a fallback) and differ: a
 * fallback says how the tensors are laid out, not whose they are (a
 * LLaMA-2 or Mistral fine-tune with an added token is a LLaMA-style
 * decoder, still of its parent's lineage). */
bool mp_arch_compatible(const struct mp_arch_result *a,
			const struct mp_arch_result *b);

/* The key-tensor weights of the architecture named arch (its "weights":
 * normalised tensor names and weights in (0, 1], borrowed from the set),
 * and their count; 0 (names and weights NULL) when it has none. */
size_t mp_arch_weights(const struct mp_arch_set *s, const char *arch,
		       const char *const **names, const double **weights);

/* The result as a JSON object: {"name", "family", "known", "coverage",
 * "present", "expected", "hidden", "layers", "heads", "kv_heads" (null when
 * unknown), "missing" and "extra" ([{"pattern", "count"}]), "candidates"
 * (the three best: name, coverage, conflict)}; NULL when out of memory. */
mp_json *mp_arch_result_json(const struct mp_arch_result *r);

#endif
