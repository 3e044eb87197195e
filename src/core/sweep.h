/* sweep.h — sweeps of two-layer bilinear models on modular addition (issue
 * 12, seed 001): one model per bottleneck width d, each with a left and a
 * right matrix L, R (d x 2P, stacked as one (2d, 2P) tensor) and a
 * projection D (P x d); logits of input (a, b) are D((Lx)⊙(Rx)) with x the
 * concatenation of the one-hot vectors of a and b. Three similarity
 * matrices over the models (TN, logit cosine, frequency JS divergence) and
 * each model's validation accuracy; definitions in man/modelprint-sweep.1.
 * A sweep owns its models and their weights. */
#ifndef MP_SWEEP_H
#define MP_SWEEP_H

#include "mp.h"

#define MP_SWEEP_P_MAX 1024u
/* The logits of every model are held at once: n * P^3 values at most. */
#define MP_SWEEP_LOGITS_MAX (1ull << 29)
#define MP_SWEEP_LR_NAME "bi_linear.weight"
#define MP_SWEEP_PROJ_NAME "projection.weight"
#define MP_SWEEP_LOGIT_EPS 1e-8
#define MP_SWEEP_JS_FLOOR 1e-12

struct mp_sweep_model {
	uint32_t d;
	char *file;        /* path as opened (manifest dir joined), or NULL */
	bool has_val_acc;  /* the manifest gave val_acc */
	double val_acc;    /* stored validation accuracy */
	double *L, *R;     /* [d][2P] row-major */
	double *D;         /* [P][d] row-major */
};

struct mp_sweep {
	char *name; /* the manifest's "name", else its file name without .json */
	uint32_t P;
	size_t n;
	struct mp_sweep_model *m; /* [n] in manifest order */
};

/* An empty sweep of n models of modulus P (2 <= P <= MP_SWEEP_P_MAX) named
 * name; model i gets zeroed weights for width d[i] >= 1 (d NULL: widths 0
 * and no weights, for the caller to fill). NULL when out of memory or an
 * argument is out of range. */
struct mp_sweep *mp_sweep_new(const char *name, uint32_t P, size_t n,
			      const uint32_t *d);
/* Free s and its models (NULL allowed). */
void mp_sweep_free(struct mp_sweep *s);

/* Load the sweep of a manifest (man/modelprint-files.5): {"P": P, "name":
 * optional, "models": [{"d": d, "file": relative path, "val_acc":
 * optional}, ...]}. Each file is any model mp_model_open reads, holding
 * lr_name (2d x 2P) and proj_name (P x d) floating tensors (NULL names: the
 * defaults above). Errors name the manifest or the model file and the
 * problem (shape, missing tensor, P < 2, d = 0, repeated d). */
mp_status mp_sweep_load(const char *manifest, const char *lr_name,
			const char *proj_name, struct mp_sweep **out,
			struct mp_error *err);

/* Load the sweep of path: a manifest (its first non-blank byte '{') as
 * mp_sweep_load does, otherwise a sweep file in the research layout (a
 * torch.save or pickle.dump of a dict, man/modelprint-files.5 "Sweep
 * file", read by the restricted pickle reader: other globals are refused
 * naming them). Errors name path and the problem. */
mp_status mp_sweep_open(const char *path, const char *lr_name,
			const char *proj_name, struct mp_sweep **out,
			struct mp_error *err);

/* Logits of every input: out[(a*P + b)*P + c] for a, b, c in [0, P). */
mp_status mp_sweep_logits(const struct mp_sweep *s, size_t i, double *out,
			  struct mp_error *err);

/* Fraction of the P^2 inputs whose first largest logit is (a+b) mod P. */
mp_status mp_sweep_accuracy(const struct mp_sweep *s, size_t i, double *acc,
			    struct mp_error *err);

/* <M_i|M_j> of the symmetrised (P, 2P, 2P) tensors into *out, from
 * d_i x d_j products only (no such tensor is built). */
mp_status mp_sweep_tn_inner(const struct mp_sweep *s, size_t i, size_t j,
			    double *out, struct mp_error *err);

/* Per-class frequency distributions of model i: out[r*(P/2+1) + k] for the
 * top n_evecs eigenvectors (n_evecs >= 1; more than 2P means all). */
mp_status mp_sweep_freq_dist(const struct mp_sweep *s, size_t i,
			     size_t n_evecs, double *out, struct mp_error *err);

/* Jensen-Shannon divergence (natural log, p <= 1e-12 masked, denominators
 * floored at 1e-12) of the distributions p and q of nk values, at least
 * +0; NAN when either is all zero (a class with no interaction). */
double mp_sweep_js(const double *p, const double *q, size_t nk);

/* The three n x n matrices (row-major, symmetric) and the accuracies:
 * tn (NAN where a model's self inner product is 0), logit cosine,
 * frequency JS summed over classes (NAN where a class of either model has
 * an all-zero distribution), acc[n]. Work is spread over one thread per
 * core; the results do not depend on the thread count. */
struct mp_sweep_result {
	size_t n;
	double *tn, *logit, *js; /* [n*n] */
	double *acc;             /* [n] */
};
mp_status mp_sweep_compute(const struct mp_sweep *s, size_t n_evecs,
			   struct mp_sweep_result *res, struct mp_error *err);
/* mp_sweep_compute on `threads` threads (0 or 1: the calling thread only;
 * at most 64): the same results, bit for bit, for any count. */
mp_status mp_sweep_compute_threads(const struct mp_sweep *s, size_t n_evecs,
				   size_t threads, struct mp_sweep_result *res,
				   struct mp_error *err);
/* Free the arrays of res and zero it. */
void mp_sweep_result_done(struct mp_sweep_result *res);

/* Synthesised sweeps (sweep_synth.c): model of width d for modulus P with
 * frequencies freq[0..nfreq) (each in 1..P-1), amplitudes amp[], plus
 * Gaussian noise of standard deviation noise (seed) on every weight. The
 * construction is documented in sweep_synth.c and modelprint-sweep(1). */
mp_status mp_sweep_synth_model(struct mp_sweep *s, size_t i,
			       const uint32_t *freq, const double *amp,
			       size_t nfreq, double noise, uint64_t seed,
			       struct mp_error *err);
/* Round model i's weights to float32, as its file stores them, so that
 * an accuracy computed afterwards is the one read back from the file
 * (a near-chance model's argmax ties move with that rounding). */
void mp_sweep_synth_round_f32(struct mp_sweep *s, size_t i);
/* The frequencies of a synthesised sweep: a seed-dependent permutation of
 * 1..(P-1)/2 (at least one: 1), into freq (P/2 slots), count returned. */
size_t mp_sweep_synth_freqs(uint32_t P, uint64_t seed, uint32_t *freq);
/* Write the models of s as F32 safetensors files dir/d<D>.safetensors and
 * dir/manifest.json (with val_acc from acc when non-NULL, and freqs). */
mp_status mp_sweep_synth_write(const struct mp_sweep *s, const char *dir,
			       const double *acc, const uint32_t *freq,
			       size_t nfreq, struct mp_error *err);

#endif
