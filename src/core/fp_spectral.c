/* fp_spectral.c — the `spectral` fingerprint method (DESIGN.md §5): the
 * largest singular values of every floating tensor viewed as an
 * output-axis x rest matrix, and the model's spectral histogram. */
#include "fingerprint.h"
#include "mapguard.h"
#include "svd.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HIST_LO 1e-4 /* r = sigma_i / sigma1 below this goes to bin 0 */

static const char *const arg_names[] = {"max_sv", "exact_limit", "seed",
					"output_axis", NULL};

/* Argument output_axis: "first" or "last" overrides the format's output
 * axis (*last stays -1 without it). */
static mp_status arg_axis(const mp_json *args, int *last, struct mp_error *err)
{
	const mp_json *v = mp_json_get(args, "output_axis");
	if (!v)
		return MP_OK;
	const char *s = mp_json_str(v);
	if (!s || (strcmp(s, "first") != 0 && strcmp(s, "last") != 0))
		return mp_error_set(err, MP_EINVAL,
				    "spectral: argument output_axis must be "
				    "\"first\" or \"last\"");
	*last = strcmp(s, "last") == 0;
	return MP_OK;
}

static mp_status arg_uint(const mp_json *args, const char *key, uint64_t lo,
			  uint64_t hi, uint64_t *out, struct mp_error *err)
{
	const mp_json *v = mp_json_get(args, key);
	if (!v)
		return MP_OK;
	uint64_t x;
	if (!mp_json_uint(v, &x) || x < lo || x > hi)
		return mp_error_set(err, MP_EINVAL,
				    "spectral: argument %s must be an integer "
				    "in %llu..%llu",
				    key, (unsigned long long)lo,
				    (unsigned long long)hi);
	*out = x;
	return MP_OK;
}

/* The output-axis view of t: true when t qualifies (floating, ndim >= 2,
 * rows and cols >= 2); rows/cols as reported, srows/scols the stored
 * row-major matrix (its transpose when the output axis is last). The
 * output axis is the last when last is 1, the first when 0, the format's
 * (t->output_last) when -1. */
static bool matrix_view(const struct mp_tensor *t, int last, uint64_t *rows,
			uint64_t *cols, uint64_t *srows, uint64_t *scols)
{
	if (!mp_dtype_is_float(t->logical) || t->ndim < 2)
		return false;
	bool out_last = last < 0 ? t->output_last : last == 1;
	uint64_t out = out_last ? t->shape[t->ndim - 1] : t->shape[0];
	if (out < 2 || t->numel / out < 2)
		return false;
	*rows = out;
	*cols = t->numel / out;
	*srows = out_last ? *cols : *rows;
	*scols = out_last ? *rows : *cols;
	return true;
}

struct reader {
	const struct mp_model *m;
	const struct mp_tensor *t;
	unsigned es;
	uint8_t *scratch; /* [MP_SVD_BLOCK * es] */
};

/* Elements [off, off + n) of the tensor, guarded: to doubles (d), or to
 * floats (f) for a tensor whose values are float32 exactly: float32 bytes
 * (stored, or decoded blocks of a ggml tensor) are copied, other types
 * decoded through double in small pieces. */
static mp_status guarded_read(struct reader *r, uint64_t off, size_t n,
			      double *d, float *f, struct mp_error *err)
{
	struct mp_mapguard g;
	if (MP_MAPGUARD_BEGIN(&g))
		return mp_mapguard_error(
		    mp_mapguard_file(g.addr, r->m->files, r->m->nfiles), err);
	if (d) {
		mp_tensor_decode(r->t, mp_tensor_elems(r->t, off, n, r->scratch),
				 n, d);
	} else if (r->t->stored == MP_F32 &&
		   __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
		memcpy(f, mp_tensor_elems(r->t, off, n, r->scratch),
		       n * sizeof(float));
	} else {
		double tmp[1024];
		for (size_t i = 0; i < n; i += 1024) {
			size_t k = n - i < 1024 ? n - i : 1024;
			mp_tensor_decode(
			    r->t, mp_tensor_elems(r->t, off + i, k, r->scratch),
			    k, tmp);
			for (size_t q = 0; q < k; q++)
				f[i + q] = (float)tmp[q];
		}
	}
	mp_mapguard_end(&g);
	return MP_OK;
}

static mp_status tensor_read(void *ctx, uint64_t off, size_t n, double *out,
			     struct mp_error *err)
{
	return guarded_read(ctx, off, n, out, NULL, err);
}

static mp_status tensor_read_f32(void *ctx, uint64_t off, size_t n, float *out,
				 struct mp_error *err)
{
	return guarded_read(ctx, off, n, NULL, out, err);
}

struct job {
	const struct mp_model *m;
	struct mp_fingerprint *fp;
	struct mp_svd_opts opts;
	int last; /* output axis: -1 the format's, 0 first, 1 last */
	const struct mp_progress *prog;
	size_t *order; /* qualifying tensor indices, largest first */
	size_t norder;
	atomic_size_t next;
	atomic_bool failed;
	atomic_uint_fast64_t done;
	uint64_t total;
	pthread_mutex_t lock; /* err and progress calls */
	struct mp_error *err;
	mp_status status;
};

static void fail(struct job *j, mp_status st, const struct mp_error *e,
		 const char *name)
{
	pthread_mutex_lock(&j->lock);
	if (!atomic_load(&j->failed)) {
		atomic_store(&j->failed, true);
		j->status = st;
		if (name)
			mp_error_set(j->err, st, "%s: tensor %s: %s",
				     j->m->path, name, e->msg);
		else
			mp_error_set(j->err, st, "%s: %s", j->m->path, e->msg);
	}
	pthread_mutex_unlock(&j->lock);
}

/* Stable rank from the full Frobenius norm; entropy effective rank over the
 * kept singular values only (p_i = sigma_i / sum of the kept sigmas). An
 * all-zero matrix gets 0 for both. */
static void ranks(struct mp_tensor_spec *tf, double frob2)
{
	tf->sigma1 = tf->sv[0];
	if (!(tf->sigma1 > 0))
		return;
	tf->stable_rank = frob2 / (tf->sigma1 * tf->sigma1);
	double sum = 0, h = 0;
	for (uint32_t i = 0; i < tf->nsv; i++)
		sum += tf->sv[i];
	for (uint32_t i = 0; i < tf->nsv; i++) {
		double p = tf->sv[i] / sum;
		if (p > 0)
			h -= p * log(p);
	}
	tf->effective_rank = exp(h);
}

static mp_status one_tensor(struct job *j, size_t ti, struct reader *rd,
			    double *sv, struct mp_error *e)
{
	const struct mp_tensor *t = &j->m->tensors[ti];
	struct mp_tensor_fp *tf = &j->fp->tensors[ti];
	uint64_t rows, cols, srows, scols;
	matrix_view(t, j->last, &rows, &cols, &srows, &scols);
	rd->m = j->m;
	rd->t = t;
	rd->es = mp_dtype_size(t->stored);
	bool f32 = mp_dtype_size(t->logical) <= 4;
	struct mp_svd_src src = {srows, scols, tensor_read,
				 f32 ? tensor_read_f32 : NULL, rd};
	struct mp_svd_result res;
	mp_status st = mp_svd_top(&src, &j->opts, sv, &res, e);
	mp_tensor_advise(j->m, t, 0, t->nbytes, mp_file_release);
	if (st != MP_OK)
		return st;
	if (res.nsv == 0)
		return MP_OK; /* non-finite values: listed without spectrum */
	struct mp_tensor_spec *sp = mp_tensor_fp_spec(tf, res.nsv);
	if (!sp)
		return mp_error_set(e, MP_ENOMEM, "out of memory");
	sp->rows = rows;
	sp->cols = cols;
	sp->sv_exact = res.exact;
	memcpy(sp->sv, sv, res.nsv * sizeof(double));
	ranks(sp, res.frob2);
	return MP_OK;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	struct mp_error e = {{0}};
	struct reader rd = {0};
	double *sv = malloc(j->opts.max_sv * sizeof(double));
	rd.scratch = malloc((size_t)MP_SVD_BLOCK * 8);
	if (!sv || !rd.scratch) {
		mp_error_set(&e, MP_ENOMEM,
			     "spectral: out of memory for "
			     "block buffers");
		fail(j, MP_ENOMEM, &e, NULL);
		goto out;
	}
	for (;;) {
		size_t k = atomic_fetch_add(&j->next, 1);
		if (k >= j->norder || atomic_load(&j->failed))
			break;
		size_t ti = j->order[k];
		mp_status st = one_tensor(j, ti, &rd, sv, &e);
		if (st != MP_OK) {
			fail(j, st, &e, j->m->tensors[ti].name);
			break;
		}
		uint64_t done =
		    atomic_fetch_add(&j->done, j->m->tensors[ti].nbytes) +
		    j->m->tensors[ti].nbytes;
		if (j->prog && j->prog->fn) {
			pthread_mutex_lock(&j->lock);
			j->prog->fn(j->prog->ctx, done, j->total);
			pthread_mutex_unlock(&j->lock);
		}
	}
out:
	free(sv);
	free(rd.scratch);
	return NULL;
}

struct size_key {
	uint64_t numel;
	size_t index;
};

static int by_size_desc(const void *a, const void *b)
{
	const struct size_key *x = a, *y = b;
	if (x->numel != y->numel)
		return x->numel < y->numel ? 1 : -1;
	return (x->index > y->index) - (x->index < y->index);
}

/* OpenBLAS, when GSL is linked with it, threads each BLAS call: with our
 * own workers that oversubscribes the cores (measured 2x slower), and its
 * threaded reductions round differently from the serial ones, so results
 * would depend on the thread count. BLAS therefore runs single-threaded
 * during the computation (parallelism is over tensors). Weak: absent with
 * the reference gslcblas. */
extern void openblas_set_num_threads(int n) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));

static mp_status run_threads(struct job *j, int threads)
{
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (int)n : 1;
	}
	if ((size_t)threads > j->norder)
		threads = (int)j->norder;
	int blas_threads = 0;
	if (openblas_set_num_threads && openblas_get_num_threads) {
		blas_threads = openblas_get_num_threads();
		openblas_set_num_threads(1);
	}
	pthread_t *tid =
	    threads > 1 ? calloc((size_t)threads, sizeof(*tid)) : NULL;
	int started = 0;
	for (; tid && started < threads; started++)
		if (pthread_create(&tid[started], NULL, worker, j) != 0)
			break;
	if (started == 0)
		worker(j);
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
	if (blas_threads > 0)
		openblas_set_num_threads(blas_threads);
	return j->status;
}

/* Bin of r = sigma_i / sigma1: 64 log-spaced bins over [1e-4, 1]. */
static int hist_bin(double r)
{
	if (!(r > HIST_LO))
		return 0;
	double b = floor(MP_SPECTRAL_BINS * log10(r / HIST_LO) / 4.0);
	if (b >= MP_SPECTRAL_BINS - 1)
		return MP_SPECTRAL_BINS - 1;
	return b < 0 ? 0 : (int)b;
}

static void histogram(struct mp_fingerprint *fp)
{
	double total = 0;
	memset(fp->hist, 0, sizeof(fp->hist));
	for (size_t i = 0; i < fp->ntensors; i++) {
		const struct mp_tensor_spec *tf = fp->tensors[i].spec;
		if (!tf || !(tf->sigma1 > 0))
			continue;
		double w = (double)fp->tensors[i].numel / tf->nsv;
		for (uint32_t k = 0; k < tf->nsv; k++)
			fp->hist[hist_bin(tf->sv[k] / tf->sigma1)] += w;
		total += w * tf->nsv;
	}
	fp->has_hist = total > 0;
	if (fp->has_hist)
		for (int b = 0; b < MP_SPECTRAL_BINS; b++)
			fp->hist[b] /= total;
}

static mp_status spectral_check(const mp_json *args, struct mp_error *err)
{
	uint64_t u;
	int last;
	mp_status st;
	if ((st = arg_uint(args, "max_sv", 1, MP_SVD_MAX_SV, &u, err)) ||
	    (st = arg_uint(args, "exact_limit", 0, UINT32_MAX, &u, err)) ||
	    (st = arg_uint(args, "seed", 0, UINT64_MAX, &u, err)))
		return st;
	return arg_axis(args, &last, err);
}

static mp_status spectral_compute(const struct mp_model *m, const mp_json *args,
				  int threads, const struct mp_progress *prog,
				  struct mp_fingerprint *fp,
				  struct mp_error *err)
{
	uint64_t max_sv = MP_SPECTRAL_MAX_SV, exact_limit = 1024, seed = 0;
	int last = -1;
	mp_status st;
	if ((st = arg_uint(args, "max_sv", 1, MP_SVD_MAX_SV, &max_sv, err)) ||
	    (st = arg_uint(args, "exact_limit", 0, UINT32_MAX, &exact_limit,
			   err)) ||
	    (st = arg_uint(args, "seed", 0, UINT64_MAX, &seed, err)) ||
	    (st = arg_axis(args, &last, err)))
		return st;

	if (m->ntensors > 0) {
		fp->tensors = calloc(m->ntensors, sizeof(*fp->tensors));
		if (!fp->tensors)
			return mp_error_set(err, MP_ENOMEM,
					    "%s: out of memory for %zu tensors",
					    m->path, m->ntensors);
	}
	fp->ntensors = m->ntensors;
	size_t *order = calloc(m->ntensors + 1, sizeof(*order));
	struct size_key *keys = calloc(m->ntensors + 1, sizeof(*keys));
	if (!order || !keys) {
		free(order);
		free(keys);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    m->path);
	}
	struct job j = {.m = m,
			.fp = fp,
			.prog = prog,
			.order = order,
			.last = last,
			.err = err,
			.status = MP_OK};
	j.opts.max_sv = (uint32_t)max_sv;
	j.opts.exact_limit = exact_limit;
	j.opts.seed = seed;
	for (size_t i = 0; i < m->ntensors; i++) {
		const struct mp_tensor *t = &m->tensors[i];
		struct mp_tensor_fp *tf = &fp->tensors[i];
		if (mp_tensor_fp_init(tf, t->name, t->ndim, t->shape) != MP_OK) {
			free(order);
			free(keys);
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    m->path);
		}
		tf->dtype = t->logical;
		tf->stored = t->stored;
		tf->numel = t->numel;
		uint64_t r, c, sr, sc;
		if (matrix_view(t, last, &r, &c, &sr, &sc)) {
			keys[j.norder].numel = t->numel;
			keys[j.norder++].index = i;
			j.total += t->nbytes;
		}
	}
	qsort(keys, j.norder, sizeof(*keys), by_size_desc);
	for (size_t k = 0; k < j.norder; k++)
		order[k] = keys[k].index;
	free(keys);
	atomic_init(&j.next, 0);
	atomic_init(&j.failed, false);
	atomic_init(&j.done, 0);
	pthread_mutex_init(&j.lock, NULL);
	st = j.norder ? run_threads(&j, threads) : MP_OK;
	pthread_mutex_destroy(&j.lock);
	free(order);
	if (st != MP_OK)
		return st;
	histogram(fp);
	return MP_OK;
}

const struct mp_method mp_method_spectral = {
    .name = "spectral",
    .summary = "singular values of every weight matrix and the model's "
	       "spectral histogram (invariant to permuted units and "
	       "renamed tensors)",
    .arg_names = arg_names,
    .check_args = spectral_check,
    .compute = spectral_compute,
};
