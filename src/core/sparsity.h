/* sparsity.h — binary masks of the non-zero weights of a matrix, Hamming
 * distances between its features, k-means over them, and the pruning
 * pattern a mask shows. Pure computation: nothing here prints.
 *
 * The matrix of a tensor of at least two dimensions is its output-axis
 * view (DESIGN §5): rows = the output axis (the first dimension; the last
 * in TF.js), columns = all other axes in stored order. A feature is a row,
 * or a column with MP_SPARSITY_COLS. Its bit j is 1 when weight j of it is
 * not exactly zero.
 *
 * Ownership: a struct mp_mask owns its bits (mp_mask_done frees them);
 * a struct mp_kmeans owns its arrays (mp_kmeans_done). */
#ifndef MP_SPARSITY_H
#define MP_SPARSITY_H
#include "model.h"

enum mp_sparsity_axis { MP_SPARSITY_ROWS = 0, MP_SPARSITY_COLS = 1 };

/* nfeat bit vectors of width bits each, feature f in
 * bits[f * words .. (f + 1) * words), bit j of a feature in word j / 64,
 * bit j % 64; the unused high bits of the last word are 0. */
struct mp_mask {
	uint64_t nfeat, width, words;
	uint64_t *bits;	 /* [nfeat * words] */
	uint64_t nzero;	 /* weights exactly zero */
	uint64_t ntiny;	 /* weights with |x| < 1e-6 (DESIGN §5 sparsity) */
	uint64_t rows, cols; /* the matrix (before any transposition) */
};

/* True when t has a matrix view: floating, at least 2 dimensions, both
 * rows and cols >= 1. */
bool mp_sparsity_is_matrix(const struct mp_tensor *t);

/* The mask of t (of model m, whose files it reads, guarded against a file
 * that shrinks) with features along axis. A tensor that is not a matrix
 * gives MP_EINVAL naming it, unless as_vector: then a floating tensor of
 * any shape is one row of numel values. Errors name the tensor. */
mp_status mp_mask_from_tensor(const struct mp_model *m,
			      const struct mp_tensor *t,
			      enum mp_sparsity_axis axis, bool as_vector,
			      struct mp_mask *out, struct mp_error *err);
/* The same on threads threads (0: one per CPU), each over its own range
 * of 64 stored rows; the same mask whatever the count. Float16 and
 * bfloat16 are read from their bits (zero iff bits & 0x7fff is 0).
 * mp_mask_from_tensor is threads = 0. */
mp_status mp_mask_from_tensor_mt(const struct mp_model *m,
				 const struct mp_tensor *t,
				 enum mp_sparsity_axis axis, bool as_vector,
				 int threads, struct mp_mask *out,
				 struct mp_error *err);

/* An empty mask of nfeat x width bits (all zero), for tests and callers
 * that fill it themselves. */
mp_status mp_mask_init(struct mp_mask *mk, uint64_t nfeat, uint64_t width,
		       struct mp_error *err);
void mp_mask_done(struct mp_mask *mk);

static inline bool mp_mask_get(const struct mp_mask *mk, uint64_t f,
			       uint64_t j)
{
	return (mk->bits[f * mk->words + j / 64] >> (j % 64)) & 1;
}
static inline void mp_mask_set(struct mp_mask *mk, uint64_t f, uint64_t j)
{
	mk->bits[f * mk->words + j / 64] |= UINT64_C(1) << (j % 64);
}

/* Number of positions where features a and b differ (popcount of XOR). */
uint64_t mp_mask_hamming(const struct mp_mask *mk, uint64_t a, uint64_t b);

/* Set bits of feature f. */
uint64_t mp_mask_count(const struct mp_mask *mk, uint64_t f);

/* sum over j of x_j * c_j for the n-word bit vector x and the counts c
 * given as nb bit planes of n words each (bit j of plane b is bit b of
 * c_j): sum over b of 2^b popcount(x & plane b). */
uint64_t mp_bits_dot_planes(const uint64_t *x, const uint64_t *planes,
			    unsigned nb, uint64_t n);

/* The n features nearest to f by Hamming distance, f itself left out,
 * into idx[0..n) and dist[0..n), nearest first, ties by lower index.
 * MP_EINVAL when n is 0 or more than nfeat - 1. */
mp_status mp_mask_nearest(const struct mp_mask *mk, uint64_t f, size_t n,
			  uint64_t *idx, uint64_t *dist,
			  struct mp_error *err);

/* The random numbers of this module: splitmix64 (Steele, Lea and Flood
 * 2014) from the seed, so a seed gives the same numbers on every machine.
 * A uniform integer below n is next % n; a uniform double in [0, 1) is
 * (next >> 11) * 2^-53. */
struct mp_rng {
	uint64_t s;
};
void mp_rng_init(struct mp_rng *r, uint64_t seed);
uint64_t mp_rng_next(struct mp_rng *r);
double mp_rng_unit(struct mp_rng *r);
/* Skip n numbers of the sequence at once (as n calls of mp_rng_next). */
void mp_rng_skip(struct mp_rng *r, uint64_t n);

/* The result of k-means over points (features) of a mask. */
struct mp_kmeans {
	size_t n, k;
	uint64_t width;
	size_t *label;	  /* [n] cluster of each point */
	double *centre;	  /* [k * width] float means of the members */
	size_t *size;	  /* [k] members per cluster */
	double inertia;	  /* sum over points of ||x - centre||^2 */
	int iterations;	  /* Lloyd iterations of the kept restart */
	/* Metrics (see the man page, modelprint-sparsity(1)):
	 * within  = mean over points of ||x - centre(label)|| (Euclidean);
	 * between = mean over the pairs of non-empty clusters of the
	 *           Euclidean distance of their centres (NAN with fewer
	 *           than two);
	 * ratio   = between / within (NAN when within is 0);
	 * balance = smallest cluster size / largest;
	 * size_std = population standard deviation of the sizes. */
	double within, between, ratio, balance, size_std;
};

/* k-means of the n features pts[0..n) of mk into k clusters: k-means++
 * initialisation (first centre uniform, each next one drawn with
 * probability proportional to the squared distance to the nearest centre
 * chosen), Lloyd iterations until no label changes (at most 300; a
 * cluster left empty takes the point farthest from its centre, and stays
 * empty when every point is on its centre), n_init
 * restarts from one mp_rng seeded with seed, the restart of least inertia
 * kept (the first on ties). Squared Euclidean distance on 0/1 vectors is
 * the Hamming distance. MP_EINVAL when k < 2, k > n or n_init < 1. */
mp_status mp_kmeans_run(const struct mp_mask *mk, const uint64_t *pts,
			size_t n, size_t k, uint64_t seed, int n_init,
			struct mp_kmeans *out, struct mp_error *err);
/* The same on threads worker threads (0: one per CPU): restart r draws
 * its k numbers from place r * k of the sequence of the seed, so the
 * result is the same whatever the thread count. mp_kmeans_run is
 * threads = 0. */
mp_status mp_kmeans_run_mt(const struct mp_mask *mk, const uint64_t *pts,
			   size_t n, size_t k, uint64_t seed, int n_init,
			   int threads, struct mp_kmeans *out,
			   struct mp_error *err);
void mp_kmeans_done(struct mp_kmeans *km);

/* The verbal grade of a separation ratio: "excellent" (> 2), "good"
 * (> 1), "moderate" (> 0.5), else "poor"; "undefined" for NAN. */
const char *mp_sparsity_grade(double ratio);

/* Pruning patterns a zero mask can show, tested in this order. */
enum mp_prune_pattern {
	MP_PRUNE_NONE = 0,	/* nothing below holds */
	MP_PRUNE_ROWS,		/* every row all zero or free of zeros */
	MP_PRUNE_COLS,		/* the same for columns */
	MP_PRUNE_NM_ROWS,	/* N:M along each row (groups of M columns) */
	MP_PRUNE_NM_COLS,	/* N:M along each column (groups of M rows) */
	MP_PRUNE_PER_ROW,	/* the same zero count in every row */
	MP_PRUNE_PER_BLOCK,	/* the same per block of 128 columns (a last,
				 * narrower block the same share) */
};

#define MP_PRUNE_BLOCK 128
/* per-block needs this share of zeros: with a few stray zeros (what
 * rounding or quantization leaves) two blocks match by chance. */
#define MP_PRUNE_BLOCK_MIN_SHARE 0.01
#define MP_PRUNE_MAX_M 16

/* The zero structure of a matrix mask (rows = features, as built with
 * MP_SPARSITY_ROWS). */
struct mp_prune_profile {
	uint64_t row_zero_min, row_zero_max; /* zeros per row */
	uint64_t col_zero_min, col_zero_max; /* zeros per column */
	enum mp_prune_pattern pattern;
	unsigned n, m;	   /* for the N:M patterns: N kept of every M */
	uint64_t count;	   /* zeros per row, per block, or rows/cols removed */
	char evidence[160]; /* in words: "every row has exactly 2048 zeros" */
};

/* The profile of mk (built with MP_SPARSITY_ROWS, mk->rows x mk->cols).
 * A dense or all-zero matrix is MP_PRUNE_NONE with that as evidence.
 * N:M: every group of M consecutive weights (M in 2..16 dividing the
 * length, the smallest that holds) has exactly N non-zeros, 1 <= N < M. */
mp_status mp_prune_detect(const struct mp_mask *mk,
			  struct mp_prune_profile *out, struct mp_error *err);

/* Short name of a pattern: "none", "rows-removed", "cols-removed",
 * "n:m-rows", "n:m-cols", "per-row", "per-block". */
const char *mp_prune_name(enum mp_prune_pattern p);

/* Values [off, off + n) of t (of model m) decoded to logical doubles into
 * out, the stored bytes going through scratch (n times the stored size),
 * guarded against a file that shrinks (the error names the file). */
mp_status mp_sparsity_read(const struct mp_model *m, const struct mp_tensor *t,
			   uint64_t off, size_t n, uint8_t *scratch,
			   double *out, struct mp_error *err);

/* Magnitude pruning seen from the pruned values alone
 * (sparsity_magnitude.c gives the reasoning behind each bound). A tensor
 * is magnitude-pruned when at least MP_MAG_MIN_SHARE of its weights are
 * exactly zero, at least MP_MAG_MIN_KEPT are not, and its smallest
 * surviving |w| is at least MP_MAG_RATIO_MIN times the median surviving
 * |w|. A model has one global threshold T when every such tensor's
 * smallest survivor lies in [T, T * (1 + MP_MAG_TOLERANCE)]. */
#define MP_MAG_MIN_SHARE 0.05
#define MP_MAG_MIN_KEPT 1024
#define MP_MAG_RATIO_MIN 0.05
#define MP_MAG_TOLERANCE 0.02
/* The median is taken over at most MP_MAG_SAMPLE survivors (every k-th
 * element, k odd). */
#define MP_MAG_SAMPLE (1u << 20)

struct mp_magnitude {
	uint64_t numel, zeros, kept; /* kept: non-zero (NaN left out) */
	double min_kept;	     /* smallest surviving |w| (NAN: none) */
	double median_kept;	     /* median surviving |w| (NAN: none) */
	double ratio;		     /* min_kept / median_kept (NAN: none) */
	bool pruned;		     /* zero share and kept count suffice */
	bool magnitude;		     /* pruned and ratio >= the bound */
	bool grouped;		     /* magnitude, chosen within groups */
	char evidence[200];
};

/* The magnitude profile of floating tensor t of m (one pass). */
mp_status mp_magnitude_of(const struct mp_model *m, const struct mp_tensor *t,
			  struct mp_magnitude *out, struct mp_error *err);

/* Mark g (magnitude-pruned) as grouped when its mask p shows equal zero
 * counts per row, per N:M group or per 128-column block: the smallest |w|
 * were removed within each group, which one threshold over the tensor
 * would not leave (its counts per row would vary). The evidence says so. */
void mp_magnitude_grouped(struct mp_magnitude *g,
			  const struct mp_prune_profile *p);

enum mp_mag_verdict {
	MP_MAG_NONE = 0,   /* no pruned tensor shows a threshold */
	MP_MAG_GLOBAL,	   /* one threshold for every pruned tensor */
	MP_MAG_PER_TENSOR, /* every pruned tensor, thresholds differ */
	MP_MAG_MIXED,	   /* some pruned tensors show one, some do not, or
			    * some are grouped and some not */
	MP_MAG_GROUPED,	   /* every pruned tensor: magnitude within groups
			    * (rows, N:M, blocks), no tensor-wide threshold */
};

struct mp_mag_model {
	enum mp_mag_verdict verdict;
	size_t pruned, magnitude;   /* tensors pruned; of them, magnitude */
	size_t grouped;		    /* of those, chosen within groups */
	double t_min, t_max;	    /* smallest/largest min_kept of those */
	uint64_t numel, zeros;	    /* over the pruned tensors */
	char evidence[200];
};

/* The verdict over the tensors v[0..n) (their mp_magnitude_of). */
void mp_magnitude_model(const struct mp_magnitude *v, size_t n,
			struct mp_mag_model *out);

/* "none", "global", "per-tensor", "mixed", "within-groups". */
const char *mp_mag_verdict_name(enum mp_mag_verdict v);

/* How the zeros of a pruned tensor relate to its dense parent. */
enum mp_parent_select {
	MP_SEL_NONE = 0,  /* no weight newly zero */
	MP_SEL_THRESHOLD, /* the new zeros are the tensor's smallest |w| */
	MP_SEL_PER_ROW,	  /* the smallest |w| of each row, not tensor-wide */
	MP_SEL_OTHER,	  /* neither */
};

struct mp_parent_cmp {
	uint64_t numel;
	uint64_t pruned;      /* zero here, not in the parent */
	uint64_t both_zero;   /* zero in the parent already */
	uint64_t revived;     /* zero in the parent, not here */
	uint64_t kept;	      /* non-zero here and in the parent */
	uint64_t changed;     /* of kept, not equal to the parent's value */
	double rel_change;    /* ||w - p|| / ||p|| over kept (0: none) */
	double max_pruned;    /* largest parent |w| of the pruned (NAN: none) */
	double min_kept;      /* smallest parent |w| of the kept (NAN: none) */
	enum mp_parent_select select;
	bool mask_only;	      /* changed == 0 */
	char evidence[320];
};

/* Compare tensor t of m with tensor pt of the parent pm, element by
 * element (same shape required: MP_EINVAL naming both shapes otherwise).
 * Values are compared after decoding, bit for bit (as doubles). Rows are
 * those of the matrix view (a 1-D tensor is one row). */
mp_status mp_parent_compare(const struct mp_model *m, const struct mp_tensor *t,
			    const struct mp_model *pm,
			    const struct mp_tensor *pt,
			    struct mp_parent_cmp *out, struct mp_error *err);

/* "none", "threshold", "per-row", "other". */
const char *mp_parent_select_name(enum mp_parent_select s);

#endif
