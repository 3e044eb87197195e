/* fp_weight.c — the `weight` fingerprint method of seed 000's workflow
 * (DESIGN.md §5): the floating matrices chained greedily where their shapes
 * fit, the singular values of their product, padded to size^2 values and
 * normalised. The product is formed in the order the matrix-chain dynamic
 * programme finds cheapest, each operand decoded (to double, divided by its
 * largest |value|) only when it is multiplied and freed after. A GGUF
 * conversion chains as its original does: tensors are ordered by their
 * Hugging Face names, and the Q/K rows llama.cpp permuted are put back. */
#include "fingerprint.h"
#include "gguf_names.h"
#include "mapguard.h"
#include "svd.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Operands per dynamic programme: longer chains are cut into runs of this
 * many, each ordered by the programme, multiplied into the running product
 * left to right. */
#define DP_MAX 512

static const char *const arg_names[] = {"size", NULL};

static mp_status arg_size(const mp_json *args, uint64_t *size,
			  struct mp_error *err)
{
	const mp_json *v = mp_json_get(args, "size");
	*size = MP_WEIGHT_DEFAULT_SIZE;
	if (!v)
		return MP_OK;
	if (!mp_json_uint(v, size) || *size < 1 || *size > MP_WEIGHT_MAX_SIZE)
		return mp_error_set(err, MP_EINVAL,
				    "weight: argument size must be an integer "
				    "in 1..%d",
				    MP_WEIGHT_MAX_SIZE);
	return MP_OK;
}

static mp_status weight_check(const mp_json *args, struct mp_error *err)
{
	uint64_t size;
	return arg_size(args, &size, err);
}

/* One operand: tensor index and its output-axis view rows x cols. */
struct operand {
	size_t index;
	uint64_t rows, cols, numel;
	const char *name;
	char hf[MP_GGUF_NAME_MAX]; /* a GGUF name's Hugging Face name, or "" */
	uint64_t qk_heads; /* > 0: rows permuted by llama.cpp for these heads */
};

/* The name operands are ordered by: the Hugging Face one when known. */
static const char *order_name(const struct operand *o)
{
	return o->hf[0] ? o->hf : o->name;
}

/* A dense row-major rows x cols matrix, owned. */
struct mat {
	double *a;
	uint64_t rows, cols;
};

/* The output-axis view of t (as spectral's, but any rows, cols >= 1):
 * false when t is not a floating tensor of at least two dimensions. */
static bool view(const struct mp_tensor *t, uint64_t *rows, uint64_t *cols)
{
	if (!mp_dtype_is_float(t->logical) || t->ndim < 2 || t->numel == 0)
		return false;
	*rows = t->output_last ? t->shape[t->ndim - 1] : t->shape[0];
	*cols = t->numel / *rows;
	return true;
}

static int by_size_name(const void *x, const void *y)
{
	const struct operand *a = x, *b = y;
	if (a->numel != b->numel)
		return a->numel < b->numel ? 1 : -1;
	int c = strcmp(order_name(a), order_name(b));
	if (c)
		return c;
	return (a->index > b->index) - (a->index < b->index);
}

static double *doubles(uint64_t rows, uint64_t cols)
{
	uint64_t n;
	if (!mp_mul_u64(rows, cols, &n) || n > SIZE_MAX / sizeof(double))
		return NULL;
	return malloc((size_t)(n ? n : 1) * sizeof(double));
}

/* Decode tensor t into out (numel values, stored order) under the mapping
 * guard; *amax receives the largest |value|. */
static mp_status decode(const struct mp_model *m, const struct mp_tensor *t,
			double *out, double *amax, struct mp_error *err)
{
	const size_t blk = 1u << 16;
	uint8_t *scratch = malloc(blk * 8);
	if (!scratch)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	struct mp_mapguard g;
	if (MP_MAPGUARD_BEGIN(&g)) {
		free(scratch);
		return mp_mapguard_error(
		    mp_mapguard_file(g.addr, m->files, m->nfiles), err);
	}
	double mx = 0;
	for (uint64_t off = 0; off < t->numel; off += blk) {
		size_t n = t->numel - off < blk ? (size_t)(t->numel - off) : blk;
		mp_tensor_decode(t, mp_tensor_elems(t, off, n, scratch), n,
				 out + off);
		for (size_t i = 0; i < n; i++) {
			double v = fabs(out[off + i]);
			if (!(v <= mx))
				mx = v; /* NaN sticks */
		}
	}
	mp_mapguard_end(&g);
	free(scratch);
	*amax = mx;
	return MP_OK;
}

struct chain {
	const struct mp_model *m;
	const struct operand *op; /* [n] */
	size_t n;
	size_t lo, w; /* the run being ordered: operands lo..lo + w - 1 */
	/* [w * w]: the best split of [i..j] (absolute operand numbers) at
	 * split[(i - lo) * w + j - lo] */
	size_t *split;
};

/* Operand k as its output-axis matrix divided by its largest |value| (an
 * all-zero matrix stays zero); TF.js's stored input-first kernels are
 * transposed. */
static mp_status load(const struct chain *c, size_t k, struct mat *out,
		      struct mp_error *err)
{
	const struct operand *o = &c->op[k];
	const struct mp_tensor *t = &c->m->tensors[o->index];
	char nb[MP_NAME_SHOW + 8];
	double *a = doubles(o->rows, o->cols);
	double *tr = t->output_last ? doubles(o->rows, o->cols) : NULL;
	double amax = 0;
	mp_status st = MP_OK;
	if (!a || (t->output_last && !tr))
		st = mp_error_set(err, MP_ENOMEM,
				  "weight: out of memory for tensor %s "
				  "(%llu x %llu)",
				  mp_printable(o->name, nb),
				  (unsigned long long)o->rows,
				  (unsigned long long)o->cols);
	else
		st = decode(c->m, t, tr ? tr : a, &amax, err);
	if (st == MP_OK && !isfinite(amax))
		st = mp_error_set(err, MP_ERANGE,
				  "weight: tensor %s has non-finite values",
				  mp_printable(o->name, nb));
	if (st != MP_OK) {
		free(a);
		free(tr);
		return st;
	}
	size_t r = (size_t)o->rows, cc = (size_t)o->cols;
	double s = amax > 0 ? 1 / amax : 1;
	if (o->qk_heads && !tr) {
		/* row i of the original is stored row mp_gguf_qk_row(i) */
		tr = a;
		a = doubles(o->rows, o->cols);
		if (!a) {
			free(tr);
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < r; i++) {
			const double *src =
			    tr + mp_gguf_qk_row(i, o->rows, o->qk_heads) * cc;
			for (size_t j = 0; j < cc; j++)
				a[i * cc + j] = src[j] * s;
		}
		free(tr);
	} else if (tr) {
		/* stored cc x r (input-first): a[i][j] = tr[j][i] */
		for (size_t i = 0; i < r; i++)
			for (size_t j = 0; j < cc; j++)
				a[i * cc + j] = tr[j * r + i] * s;
		free(tr);
	} else {
		for (size_t i = 0; i < r * cc; i++)
			a[i] *= s;
	}
	*out = (struct mat){a, o->rows, o->cols};
	return MP_OK;
}

/* The classic matrix-chain programme over the run c->lo.. c->lo + c->w - 1
 * (dimensions: the rows of each, then the last's cols): fills c->split. */
static mp_status order(struct chain *c, struct mp_error *err)
{
	size_t n = c->w, lo = c->lo;
	double *cost = calloc(n * n, sizeof(double));
	if (!cost)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t len = 2; len <= n; len++)
		for (size_t i = 0; i + len <= n; i++) {
			size_t j = i + len - 1;
			double best = INFINITY;
			size_t bs = i;
			for (size_t k = i; k < j; k++) {
				double f = (double)c->op[lo + i].rows *
					   (double)c->op[lo + k].cols *
					   (double)c->op[lo + j].cols;
				double v = cost[i * n + k] +
					   cost[(k + 1) * n + j] + f;
				if (v < best) {
					best = v;
					bs = k;
				}
			}
			cost[i * n + j] = best;
			c->split[i * n + j] = lo + bs;
		}
	free(cost);
	return MP_OK;
}

/* C = A B with dgemm; frees A and B. */
static mp_status multiply(struct mat *a, struct mat *b, struct mat *out,
			  struct mp_error *err)
{
	double *p = doubles(a->rows, b->cols);
	if (p && a->rows <= INT32_MAX && a->cols <= INT32_MAX &&
	    b->cols <= INT32_MAX)
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
			    (int)a->rows, (int)b->cols, (int)a->cols, 1.0,
			    a->a, (int)a->cols, b->a, (int)b->cols, 0.0, p,
			    (int)b->cols);
	mp_status st = MP_OK;
	if (!p || a->rows > INT32_MAX || a->cols > INT32_MAX ||
	    b->cols > INT32_MAX) {
		free(p);
		p = NULL;
		st = mp_error_set(err, MP_ENOMEM,
				  "weight: out of memory for a %llu x %llu "
				  "product",
				  (unsigned long long)a->rows,
				  (unsigned long long)b->cols);
	}
	*out = (struct mat){p, a->rows, b->cols};
	free(a->a);
	free(b->a);
	a->a = b->a = NULL;
	return st;
}

/* The product of operands i..j in the programme's order. */
static mp_status product(const struct chain *c, size_t i, size_t j,
			 struct mat *out, struct mp_error *err)
{
	if (i == j)
		return load(c, i, out, err);
	size_t k = c->split[(i - c->lo) * c->w + j - c->lo];
	struct mat l, r;
	mp_status st = product(c, i, k, &l, err);
	if (st != MP_OK)
		return st;
	if ((st = product(c, k + 1, j, &r, err)) != MP_OK) {
		free(l.a);
		return st;
	}
	return multiply(&l, &r, out, err);
}

/* A growing string; on out of memory s becomes NULL and stays so. */
struct text {
	char *s;
	size_t len, cap;
};

static void put(struct text *t, const char *s)
{
	size_t n = strlen(s);
	if (!t->s && t->cap)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		char *p = realloc(t->s, cap);
		if (!p) {
			free(t->s);
			t->s = NULL;
			t->cap = 1;
			return;
		}
		t->s = p;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n + 1);
	t->len += n;
}

/* The programme's order of operands i..j as "(a (b c))". */
static void paren(const struct chain *c, size_t i, size_t j, struct text *t)
{
	if (i == j) {
		put(t, c->op[i].name);
		return;
	}
	size_t k = c->split[(i - c->lo) * c->w + j - c->lo];
	put(t, "(");
	paren(c, i, k, t);
	put(t, " ");
	paren(c, k + 1, j, t);
	put(t, ")");
}

/* The chain's product: runs of DP_MAX operands, each in its cheapest
 * order, multiplied into the running product left to right. */
static mp_status chain_product(struct chain *c, struct mat *out,
			       struct text *note, struct mp_error *err)
{
	struct mat run = {0};
	for (size_t lo = 0; lo < c->n; lo += DP_MAX) {
		size_t hi = c->n - lo > DP_MAX ? lo + DP_MAX - 1 : c->n - 1;
		struct mat seg;
		c->lo = lo;
		c->w = hi - lo + 1;
		mp_status st = order(c, err);
		if (st == MP_OK && lo) {
			/* the running product, then this run */
			struct text pre = {0};
			put(&pre, "(");
			put(&pre, note->s ? note->s : "");
			put(&pre, " ");
			free(note->s);
			*note = pre;
		}
		if (st == MP_OK) {
			paren(c, lo, hi, note);
			if (lo)
				put(note, ")");
		}
		if (st == MP_OK)
			st = product(c, lo, hi, &seg, err);
		if (st == MP_OK && run.a) {
			struct mat prev = run;
			st = multiply(&prev, &seg, &run, err);
		} else if (st == MP_OK) {
			run = seg;
		}
		if (st != MP_OK) {
			free(run.a);
			return st;
		}
	}
	*out = run;
	return MP_OK;
}

/* For a tensor t of a GGUF file of architecture arch: its Hugging Face
 * name into o->hf, and the head count of a Q/K matrix llama.cpp permuted
 * (hq, hkv: the file's head counts, 0 when unknown) into o->qk_heads. */
static void gguf_original(const struct mp_gguf_names *map, const char *arch,
			  uint64_t hq, uint64_t hkv, const struct mp_tensor *t,
			  struct operand *o)
{
	char alias[MP_GGUF_ALIAS_MAX][MP_GGUF_NAME_MAX];
	if (!map || !arch || !mp_gguf_names_is_gguf(t->name))
		return;
	if (mp_gguf_names_alias(map, arch, t->name, alias, NULL) > 0)
		memcpy(o->hf, alias[0], sizeof o->hf);
	int qk = t->ndim == 2 ? mp_gguf_names_permuted(map, arch, t->name) : 0;
	uint64_t h = qk == 'q' ? hq : qk == 'k' ? hkv : 0;
	if (h && o->rows % (2 * h) == 0)
		o->qk_heads = h;
}

/* Operands of m in chain order into *ops[0..*n): sorted by element count
 * descending (ties by name), the first, then each whose rows equal the
 * running product's cols. */
static mp_status select_chain(const struct mp_model *m, struct operand **ops,
			      size_t *n, struct mp_error *err)
{
	struct operand *all = calloc(m->ntensors + 1, sizeof *all);
	if (!all)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	size_t na = 0;
	const struct mp_gguf_names *map = mp_gguf_names_default();
	const char *arch =
	    mp_meta_get(m->meta, m->nmeta, "general.architecture");
	uint64_t hq = 0, hkv = 0;
	if (arch)
		mp_gguf_heads(m, &hq, &hkv);
	for (size_t i = 0; i < m->ntensors; i++) {
		const struct mp_tensor *t = &m->tensors[i];
		struct operand *o = &all[na];
		if (view(t, &o->rows, &o->cols)) {
			o->index = i;
			o->numel = t->numel;
			o->name = t->name;
			gguf_original(map, arch, hq, hkv, t, o);
			na++;
		}
	}
	if (na == 0) {
		free(all);
		return mp_error_set(err, MP_ENOTAPPLIC,
				    "%s: weight: no floating tensor with at "
				    "least two dimensions",
				    m->path);
	}
	qsort(all, na, sizeof *all, by_size_name);
	size_t k = 1;
	for (size_t i = 1; i < na; i++)
		if (all[i].rows == all[k - 1].cols)
			all[k++] = all[i];
	*ops = all;
	*n = k;
	return MP_OK;
}

/* The fingerprint from the product p (freed): its largest min(size^2, m)
 * singular values, descending, zero-padded to size^2, over their norm. */
static mp_status finish(struct mat *p, uint64_t size,
			struct mp_fingerprint *fp, struct mp_error *err)
{
	size_t nv = (size_t)(size * size);
	double *v = calloc(nv, sizeof(double));
	if (!v) {
		free(p->a);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	mp_status st = MP_OK;
	for (uint64_t i = 0; i < p->rows * p->cols && st == MP_OK; i++)
		if (!isfinite(p->a[i]))
			st = mp_error_set(err, MP_ERANGE,
					  "weight: the %llu x %llu product "
					  "overflows",
					  (unsigned long long)p->rows,
					  (unsigned long long)p->cols);
	struct mp_svd_result res;
	if (st == MP_OK)
		st = mp_svd_matrix_exact(p->a, p->rows, p->cols, (uint32_t)nv,
					 v, &res, err);
	free(p->a);
	p->a = NULL;
	if (st != MP_OK) {
		free(v);
		return st;
	}
	double ss = 0;
	for (size_t i = 0; i < nv; i++)
		ss += v[i] * v[i];
	if (ss > 0) {
		double norm = sqrt(ss);
		for (size_t i = 0; i < nv; i++)
			v[i] /= norm;
	}
	fp->vec = v;
	fp->nvec = nv;
	return MP_OK;
}

/* Every tensor listed (name, shape, dtype), as spectral lists them. */
static mp_status list_tensors(const struct mp_model *m,
			      struct mp_fingerprint *fp, struct mp_error *err)
{
	if (m->ntensors &&
	    !(fp->tensors = calloc(m->ntensors, sizeof *fp->tensors)))
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    m->path);
	for (size_t i = 0; i < m->ntensors; i++) {
		const struct mp_tensor *t = &m->tensors[i];
		struct mp_tensor_fp *tf = &fp->tensors[i];
		if (mp_tensor_fp_init(tf, t->name, t->ndim, t->shape) != MP_OK)
			return mp_error_set(err, MP_ENOMEM,
					    "%s: out of memory", m->path);
		fp->ntensors++;
		tf->dtype = t->logical;
		tf->stored = t->stored;
		tf->ggml = t->ggml;
		tf->numel = t->numel;
	}
	return MP_OK;
}

static mp_status weight_compute(const struct mp_model *m, const mp_json *args,
				int threads, const struct mp_progress *prog,
				struct mp_fingerprint *fp, struct mp_error *err)
{
	(void)threads;
	uint64_t size;
	mp_status st = arg_size(args, &size, err);
	if (st == MP_OK)
		st = list_tensors(m, fp, err);
	struct operand *ops = NULL;
	size_t n = 0;
	if (st == MP_OK)
		st = select_chain(m, &ops, &n, err);
	if (st != MP_OK)
		return st;
	size_t w = n < DP_MAX ? n : DP_MAX;
	struct chain c = {m, ops, n, 0, 0, calloc(w * w, sizeof(size_t))};
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += m->tensors[ops[i].index].nbytes;
	struct mat p = {0};
	struct mp_error e = {{0}};
	struct text note = {0};
	if (!c.split)
		st = mp_error_set(&e, MP_ENOMEM, "out of memory");
	else
		st = chain_product(&c, &p, &note, &e);
	free(c.split);
	free(ops);
	if (st == MP_OK && !note.s)
		st = mp_error_set(&e, MP_ENOMEM, "out of memory");
	if (st == MP_OK)
		fp->vec_note = note.s;
	else
		free(note.s);
	if (st == MP_OK)
		st = finish(&p, size, fp, &e);
	if (st != MP_OK)
		return mp_error_set(err, st, "%s: %s", m->path, e.msg);
	if (prog && prog->fn)
		prog->fn(prog->ctx, total, total);
	return MP_OK;
}

const struct mp_method mp_method_weight = {
    .name = "weight",
    .summary = "singular values of the product of the weight matrices "
	       "chained where their shapes fit (seed 000's workflow)",
    .arg_names = arg_names,
    .check_args = weight_check,
    .compute = weight_compute,
};
