/* fp_tensors.c — the `tensors` fingerprint method: per tensor the SHA-256 of
 * its stored bytes and, for floating tensors, the exact statistics of
 * DESIGN.md §5 and a sketch of the logical values at mp_sketch_positions().
 *
 * One pass over each tensor's bytes in blocks of BLOCK bytes does hashing,
 * statistics and sketch together; further passes are made only when
 * tstats asks for them. Tensors are spread over worker threads, largest
 * first. Memory: threads * (BLOCK + sketch positions + tstats state),
 * whatever the model size; mapped pages are populated in one call and
 * released every RELEASE_EVERY bytes of each pass (a tensor up to that size
 * stays mapped from its first pass to its last), so resident memory stays
 * bounded even for one huge tensor. Tensors are not split between threads: a model made of one huge
 * tensor is processed by one thread (acceptable: such models are rare and
 * the file hash runs in parallel anyway). */
#include "fingerprint.h"
#include "gguf_names.h"
#include "mapguard.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK (1u << 20)
#define PROGRESS_STEP (4u << 20)
#define RELEASE_EVERY (16u << 20) /* mapped bytes kept resident per worker */
#define PREFETCH_MIN (64u << 10) /* smaller tensors fault in their few pages
				    as they are read: no madvise call each */
#define PAIR_BLOCKS 16 /* ggml blocks per call of a pairs hook */
_Static_assert(MP_GGML_RUN == MP_TSTATS_RUN, "pairs hooks feed tstats runs");
#define SKETCH_DEFAULT MP_SKETCH_DEFAULT
#define SKETCH_MAX 65536

static const char *const arg_names[] = {"sketch_size", "seed", NULL};

struct job {
	const struct mp_model *m;
	struct mp_fingerprint *fp;
	uint32_t k;
	uint64_t seed;
	/* general.architecture (NULL: none) and the attention head counts
	   (0: unknown), for the Q/K matrices llama.cpp permutes */
	const char *arch;
	uint64_t hq, hkv;
	const struct mp_progress *prog;
	size_t *order; /* tensor indices, largest first */
	atomic_size_t next;
	atomic_bool failed;
	atomic_uint_fast64_t done;
	uint64_t total;
	/* statistics of no values per stored dtype (unquantized), made once:
	   a model of a million empty tensors must not pay a full
	   accumulator for each */
	bool has_empty[MP_DTYPE_COUNT];
	struct mp_tstats empty[MP_DTYPE_COUNT];
	pthread_mutex_t lock; /* guards status and err */
	mp_status status;
	struct mp_error *err;
};

/* Per-thread working memory. */
struct worker {
	struct job *j;
	EVP_MD_CTX *md;
	uint8_t *scratch; /* [BLOCK] for blocks straddling segments */
	float *deq;	  /* [BLOCK / 4] values of ggml blocks (or of pairs) */
	uint32_t *cnt;	  /* [PAIR_BLOCKS * MP_GGML_PAIRS_MAX] counts of pairs */
	/* what each run of the pairs is (ggml_dequant.h) */
	struct mp_affine_run run[PAIR_BLOCKS * MP_GGML_PAIRS_MAX / MP_GGML_RUN];
	float one[MP_GGML_BLOCK_MAX]; /* one block, for the sketch */
	uint64_t *pos;	  /* [k] sketch positions, as stored, ascending */
	/* [k] sketch[slot[p]] holds the value at pos[p] (a permuted Q/K);
	   used when sorted is false */
	uint32_t *slot;
	bool sorted; /* slot[p] == p */
	struct spos *sp; /* [k] scratch for sorting */
};

/* A stored position and the sketch slot it fills. */
struct spos {
	uint64_t pos;
	uint32_t slot;
};

static void fail(struct job *j, mp_status st, const char *fmt, const char *name)
{
	pthread_mutex_lock(&j->lock);
	if (j->status == MP_OK)
		j->status = mp_error_set(j->err, st, fmt, name);
	atomic_store(&j->failed, true);
	pthread_mutex_unlock(&j->lock);
}

static void progress(struct job *j, uint64_t n)
{
	uint64_t prev = atomic_fetch_add(&j->done, n);
	uint64_t now = prev + n;
	if (j->prog && j->prog->fn &&
	    (prev / PROGRESS_STEP != now / PROGRESS_STEP || now == j->total))
		j->prog->fn(j->prog->ctx, now, j->total);
}

/* Hash (pass 0 only), feed statistics and pick sketch values, block by
 * block over the whole tensor. Pages are mapped RELEASE_EVERY bytes at a
 * time and given back after them, except for the last stretch (all of a
 * tensor up to RELEASE_EVERY bytes), which the next pass reads first and
 * do_tensor gives back at the end. */
static void one_pass(struct worker *w, const struct mp_tensor *t,
		     struct mp_tensor_fp *o, struct mp_tstats_acc *acc,
		     bool first)
{
	unsigned es = mp_dtype_size(t->stored);
	uint64_t per = BLOCK / es; /* values per block */
	uint32_t p = 0;
	uint64_t released = 0; /* bytes before this were given back */
	uint64_t mapped = 0;   /* bytes before this were prefetched */
	for (uint64_t e0 = 0; e0 < t->numel; e0 += per) {
		uint64_t n = t->numel - e0 < per ? t->numel - e0 : per;
		if (e0 * es >= mapped && t->nbytes > RELEASE_EVERY) {
			mp_tensor_advise(w->j->m, t, mapped, RELEASE_EVERY,
			       mp_file_prefetch);
			mapped += RELEASE_EVERY;
		}
		const uint8_t *b =
		    mp_tensor_bytes(t, e0 * es, n * es, w->scratch);
		if (first) {
			EVP_DigestUpdate(w->md, b, (size_t)(n * es));
			for (; p < o->nsketch && w->pos[p] < e0 + n; p++) {
				double v;
				mp_tensor_decode(t, b + (w->pos[p] - e0) * es,
						 1, &v);
				o->sketch[w->sorted ? p : w->slot[p]] =
				    (float)v;
			}
		}
		if (acc)
			mp_tstats_feed(acc, b, n);
		if (first)
			progress(w->j, n * es);
		if ((e0 + n) * es - released >= RELEASE_EVERY &&
		    e0 + n < t->numel) {
			mp_tensor_advise(w->j->m, t, released,
			       (e0 + n) * es - released, mp_file_release);
			released = (e0 + n) * es;
		}
	}
}

/* Statistics of n blocks at b through the type's pairs hook, PAIR_BLOCKS
 * blocks at a time (their pairs stay in cache). */
static void feed_pairs(struct worker *w, const struct mp_ggml_type_info *g,
		       const uint8_t *b, uint64_t n, struct mp_tstats_acc *acc,
		       bool first)
{
	for (uint64_t i = 0; i < n; i += PAIR_BLOCKS) {
		size_t k = n - i < PAIR_BLOCKS ? (size_t)(n - i) : PAIR_BLOCKS;
		/* only pass 0 looks at the runs (tstats.h) */
		g->pairs(b + i * g->bytes, w->deq, w->cnt, first ? w->run : NULL,
			 k);
		mp_tstats_feed_runs(acc, w->deq, w->cnt, w->run,
				    k * g->npairs / MP_GGML_RUN);
	}
}

/* one_pass for a block-quantized tensor: hash the stored bytes, feed
 * and sketch the dequantized values, BLOCK bytes of them at a time;
 * mapped pages are prefetched and given back as in one_pass. */
static void one_pass_blocks(struct worker *w, const struct mp_tensor *t,
			    struct mp_tensor_fp *o, struct mp_tstats_acc *acc,
			    bool first)
{
	const struct mp_ggml_type_info *g = t->ggml;
	uint64_t per = BLOCK / 4 / g->block; /* blocks per step */
	uint64_t nblocks = t->numel / g->block;
	uint32_t p = 0;
	uint64_t released = 0, mapped = 0; /* as in one_pass */
	for (uint64_t b0 = 0; b0 < nblocks; b0 += per) {
		uint64_t n = nblocks - b0 < per ? nblocks - b0 : per;
		if (b0 * g->bytes >= mapped && t->nbytes > RELEASE_EVERY) {
			mp_tensor_advise(w->j->m, t, mapped, RELEASE_EVERY,
			       mp_file_prefetch);
			mapped += RELEASE_EVERY;
		}
		const uint8_t *b = mp_tensor_bytes(t, b0 * g->bytes,
						   n * g->bytes, w->scratch);
		uint64_t e0 = b0 * g->block, ne = n * g->block;
		if (first)
			EVP_DigestUpdate(w->md, b, (size_t)(n * g->bytes));
		if (acc && g->pairs)
			feed_pairs(w, g, b, n, acc, first);
		else
			mp_tensor_decode_blocks(t, b, (size_t)n, w->deq);
		for (; first && p < o->nsketch && w->pos[p] < e0 + ne; p++) {
			uint64_t e = w->pos[p] - e0;
			float *v = &o->sketch[w->sorted ? p : w->slot[p]];
			if (acc && g->pairs) { /* w->deq holds no values */
				uint64_t bi = e / g->block;
				mp_tensor_decode_blocks(t, b + bi * g->bytes, 1,
							w->one);
				*v = w->one[e % g->block];
			} else {
				*v = w->deq[e];
			}
		}
		if (acc && !g->pairs)
			mp_tstats_feed(acc, (const uint8_t *)w->deq, ne);
		if (first)
			progress(w->j, n * g->bytes);
		uint64_t end = (b0 + n) * g->bytes;
		if (end - released >= RELEASE_EVERY && b0 + n < nblocks) {
			mp_tensor_advise(w->j->m, t, released, end - released,
			       mp_file_release);
			released = end;
		}
	}
}

/* Every pass over t's bytes and its SHA-256, guarded: false when a file
 * shrank under them (g->addr says where). */
static bool passes(struct worker *w, const struct mp_tensor *t,
		   struct mp_tensor_fp *o, struct mp_tstats_acc *acc,
		   struct mp_mapguard *g)
{
	if (MP_MAPGUARD_BEGIN(g))
		return false;
	void (*pass)(struct worker *, const struct mp_tensor *,
		     struct mp_tensor_fp *, struct mp_tstats_acc *, bool) =
	    t->ggml ? one_pass_blocks : one_pass;
	pass(w, t, o, acc, true);
	unsigned char md[MP_SHA256_LEN];
	EVP_DigestFinal_ex(w->md, md, NULL);
	mp_hex(md, MP_SHA256_LEN, o->sha256);
	while (acc && mp_tstats_next_pass(acc) && !atomic_load(&w->j->failed))
		pass(w, t, o, acc, false);
	mp_mapguard_end(g);
	return true;
}

static int by_pos(const void *a, const void *b)
{
	const struct spos *x = a, *y = b;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* w->sp[0..n) (stored position, sketch slot) into w->pos and w->slot in
 * ascending stored order. */
static void stored_order(struct worker *w, uint32_t n)
{
	qsort(w->sp, n, sizeof *w->sp, by_pos);
	for (uint32_t p = 0; p < n; p++) {
		w->pos[p] = w->sp[p].pos;
		w->slot[p] = w->sp[p].slot;
	}
	w->sorted = false;
}

/* The sketch positions of t's nsketch values in w->pos (and w->slot):
 * for a Q/K matrix llama.cpp permuted (rows viewed as heads x 2 x half,
 * the last two axes swapped), when the head count is known, sketch[k] is
 * taken from the stored row holding row r of the Hugging Face order at
 * position k (o->sketch_heads set), so it samples the same logical
 * weights as the original's; the stored positions read in ascending
 * order. Otherwise positions as stored (o->sketch_permuted set for such
 * a matrix). A matrix the converter stored transposed (GPT-2's Conv1D
 * weights) is sampled at the positions of the original's shape, each
 * read from the stored element holding it (o->transposed set). */
static void sketch_positions(struct worker *w, const struct mp_tensor *t,
			     struct mp_tensor_fp *o)
{
	const struct job *j = w->j;
	w->sorted = true;
	int qk = t->ndim == 2 && o->nsketch
		     ? mp_gguf_names_permuted(mp_gguf_names_default(), j->arch,
					      t->name)
		     : 0;
	uint64_t heads = qk == 'q' ? j->hq : qk == 'k' ? j->hkv : 0;
	uint64_t rows = t->ndim == 2 ? t->shape[0] : 0;
	if (o->nsketch && t->ndim == 2 &&
	    mp_gguf_names_transposed(mp_gguf_names_default(), j->arch,
				     t->name)) {
		/* positions of the original's shape, read where stored */
		uint64_t hf[2] = {t->shape[1], t->shape[0]};
		mp_sketch_positions(hf, 2, t->numel, j->seed, j->k, w->pos);
		for (uint32_t p = 0; p < o->nsketch; p++)
			w->sp[p] = (struct spos){
			    mp_gguf_transposed_off(w->pos[p], hf[0], hf[1]), p};
		stored_order(w, o->nsketch);
		o->transposed = true;
		return;
	}
	if (!heads || rows < 2 || rows % (2 * heads)) {
		mp_fp_sketch_order(o, j->arch);
		return;
	}
	for (uint32_t p = 0; p < o->nsketch; p++)
		w->sp[p] = (struct spos){
		    mp_gguf_qk_off(w->pos[p], rows, t->shape[1], heads), p};
	stored_order(w, o->nsketch);
	o->sketch_heads = (uint32_t)heads;
}

static mp_status do_tensor(struct worker *w, const struct mp_tensor *t,
			   struct mp_tensor_fp *o)
{
	struct job *j = w->j;
	const struct mp_seg *seg = mp_tensor_segs(t);
	uint64_t seglen = 0;
	bool ok = t->nseg >= 0 && t->nseg <= MP_MAX_SEGS;
	for (int s = 0; ok && s < t->nseg; s++)
		ok = mp_add_u64(seglen, seg[s].len, &seglen);
	if (!ok || seglen != t->nbytes) {
		fail(j, MP_EFORMAT,
		     "tensor '%s': segments do not cover its bytes", t->name);
		return MP_EFORMAT;
	}
	o->dtype = t->logical;
	o->stored = t->stored;
	o->ggml = t->ggml;
	o->numel = t->numel;
	bool fl = mp_dtype_is_float(t->logical);
	struct mp_tstats_acc *acc = NULL;
	if (fl && j->k) {
		o->nsketch = mp_sketch_positions(t->shape, t->ndim, t->numel,
						 j->seed, j->k, w->pos);
		if (o->nsketch &&
		    !(o->sketch = malloc(o->nsketch * sizeof *o->sketch))) {
			fail(j, MP_ENOMEM, "tensor '%s': out of memory",
			     t->name);
			return MP_ENOMEM;
		}
	}
	sketch_positions(w, t, o);
	bool none = fl && t->numel == 0 && t->quant.kind == MP_QUANT_NONE &&
		    j->has_empty[t->stored];
	/* when none, compute() gave o the shared statistics of no values */
	if (fl && !none &&
	    !(acc = mp_tstats_new(t->stored, &t->quant, t->numel))) {
		fail(j, MP_ENOMEM, "tensor '%s': out of memory", t->name);
		return MP_ENOMEM;
	}
	if (!EVP_DigestInit_ex(w->md, EVP_sha256(), NULL)) {
		mp_tstats_free(acc);
		fail(j, MP_ENOMEM, "tensor '%s': cannot start SHA-256",
		     t->name);
		return MP_ENOMEM;
	}
	if (t->nbytes >= PREFETCH_MIN && t->nbytes <= RELEASE_EVERY)
		mp_tensor_advise(j->m, t, 0, t->nbytes, mp_file_prefetch);
	struct mp_mapguard g;
	if (!passes(w, t, o, acc, &g)) {
		struct mp_error e;
		mp_mapguard_error(
		    mp_mapguard_file(g.addr, j->m->files, j->m->nfiles), &e);
		mp_tstats_free(acc);
		fail(j, MP_EIO, "%s", e.msg);
		return MP_EIO;
	}
	mp_status s = MP_OK;
	mp_tensor_advise(j->m, t, 0, t->nbytes, mp_file_release);
	mp_fp_unshift_sketch(o, j->arch);
	if (acc) {
		struct mp_tstats *st = malloc(sizeof *st);
		s = st ? mp_tstats_finish(acc, st) : MP_ENOMEM;
		mp_tstats_free(acc);
		if (s == MP_OK)
			o->stats = st;
		else
			free(st);
		if (s != MP_OK)
			fail(j, s,
			     s == MP_EIO ? "tensor '%s': statistics failed: the "
					   "file changed while being read"
					 : "tensor '%s': statistics failed: out "
					   "of memory",
			     t->name);
	}
	return s;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct job *j = w->j;
	for (;;) {
		size_t k = atomic_fetch_add(&j->next, 1);
		if (k >= j->m->ntensors || atomic_load(&j->failed))
			break;
		size_t ti = j->order[k];
		if (do_tensor(w, &j->m->tensors[ti], &j->fp->tensors[ti]) !=
		    MP_OK)
			break;
	}
	return NULL;
}

static bool worker_init(struct worker *w, struct job *j)
{
	w->j = j;
	w->md = EVP_MD_CTX_new();
	w->scratch = malloc(BLOCK);
	w->deq = malloc(BLOCK);
	w->cnt = malloc(PAIR_BLOCKS * MP_GGML_PAIRS_MAX * sizeof *w->cnt);
	w->pos = malloc((j->k ? j->k : 1) * sizeof *w->pos);
	w->slot = malloc((j->k ? j->k : 1) * sizeof *w->slot);
	w->sp = malloc((j->k ? j->k : 1) * sizeof *w->sp);
	return w->md && w->scratch && w->deq && w->cnt && w->pos && w->slot &&
	       w->sp;
}

static void worker_done(struct worker *w)
{
	EVP_MD_CTX_free(w->md);
	free(w->scratch);
	free(w->deq);
	free(w->cnt);
	free(w->pos);
	free(w->slot);
	free(w->sp);
}

struct sized {
	uint64_t nbytes;
	size_t index;
};

static int by_size_desc(const void *a, const void *b)
{
	const struct sized *x = a, *y = b;
	if (x->nbytes != y->nbytes)
		return x->nbytes > y->nbytes ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Run the workers: the calling thread is one of them. With a single huge
 * tensor one thread does all the work; tensors are not split. */
static void run(struct job *j, int threads)
{
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (int)n : 1;
	}
	if ((size_t)threads > j->m->ntensors)
		threads = j->m->ntensors ? (int)j->m->ntensors : 1;
	struct worker *w = calloc((size_t)threads, sizeof *w);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	if (!w || !tid) {
		free(w);
		free(tid);
		fail(j, MP_ENOMEM, "%s: out of memory", j->m->path);
		return;
	}
	int ready = 0;
	while (ready < threads && worker_init(&w[ready], j))
		ready++;
	if (ready == 0) {
		worker_done(&w[0]);
		fail(j, MP_ENOMEM, "%s: out of memory", j->m->path);
	} else {
		if (ready < threads)
			worker_done(&w[ready]);
		int started = 1;
		for (; started < ready; started++)
			if (pthread_create(&tid[started], NULL, worker_main,
					   &w[started]) != 0)
				break;
		worker_main(&w[0]);
		for (int i = 1; i < started; i++)
			pthread_join(tid[i], NULL);
		for (int i = 0; i < ready; i++)
			worker_done(&w[i]);
	}
	free(w);
	free(tid);
}

static mp_status arg_uint(const mp_json *args, const char *key, uint64_t hi,
			  uint64_t *out, struct mp_error *err)
{
	const mp_json *v = mp_json_get(args, key);
	if (!v)
		return MP_OK;
	uint64_t x;
	if (!mp_json_uint(v, &x) || x > hi)
		return mp_error_set(err, MP_EINVAL,
				    "tensors: argument %s must be an integer "
				    "in 0..%llu",
				    key, (unsigned long long)hi);
	*out = x;
	return MP_OK;
}

/* The values of sketch_size and seed, before any file is read. */
static mp_status tensors_check(const mp_json *args, struct mp_error *err)
{
	for (mp_json *a = mp_json_child(args); a; a = mp_json_next(a))
		if (!mp_json_is_number(a))
			return mp_error_set(err, MP_EINVAL,
					    "method 'tensors': argument '%s' "
					    "must be a number",
					    mp_json_key(a));
	uint64_t u;
	mp_status s = arg_uint(args, "sketch_size", SKETCH_MAX, &u, err);
	return s == MP_OK ? arg_uint(args, "seed", (1ULL << 53) - 1, &u, err)
			  : s;
}

static mp_status compute(const struct mp_model *m, const mp_json *args,
			 int threads, const struct mp_progress *prog,
			 struct mp_fingerprint *fp, struct mp_error *err)
{
	uint64_t k = SKETCH_DEFAULT, seed = 0;
	mp_status s = arg_uint(args, "sketch_size", SKETCH_MAX, &k, err);
	if (s == MP_OK)
		s = arg_uint(args, "seed", (1ULL << 53) - 1, &seed, err);
	if (s != MP_OK)
		return s;
	struct job j = {.m = m,
			.fp = fp,
			.k = (uint32_t)k,
			.seed = seed,
			.arch = mp_meta_get(m->meta, m->nmeta,
					    "general.architecture"),
			.prog = prog,
			.err = err};
	if (j.arch)
		mp_gguf_heads(m, &j.hq, &j.hkv);
	size_t n = m->ntensors;
	fp->tensors = calloc(n ? n : 1, sizeof *fp->tensors);
	j.order = malloc((n ? n : 1) * sizeof *j.order);
	struct sized *sz = malloc((n ? n : 1) * sizeof *sz);
	if (!fp->tensors || !j.order || !sz) {
		free(j.order);
		free(sz);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    m->path);
	}
	fp->ntensors = n;
	for (size_t i = 0; i < n; i++) {
		const struct mp_tensor *t = &m->tensors[i];
		if (mp_tensor_fp_init(&fp->tensors[i], t->name, t->ndim,
				      t->shape) != MP_OK) {
			free(j.order);
			free(sz);
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    m->path);
		}
		sz[i] = (struct sized){m->tensors[i].nbytes, i};
		j.total += m->tensors[i].nbytes;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mp_tensor *t = &m->tensors[i];
		if (t->numel || t->quant.kind != MP_QUANT_NONE ||
		    !mp_dtype_is_float(t->logical))
			continue;
		if (!j.has_empty[t->stored]) {
			struct mp_tstats_acc *acc =
			    mp_tstats_new(t->stored, NULL, 0);
			if (acc) {
				while (mp_tstats_next_pass(acc))
					;
				j.has_empty[t->stored] =
				    mp_tstats_finish(acc, &j.empty[t->stored]) ==
				    MP_OK;
			}
			mp_tstats_free(acc);
		}
		/* one shared copy for all of them */
		if (j.has_empty[t->stored] &&
		    mp_fp_set_stats(fp, &fp->tensors[i], &j.empty[t->stored]) !=
			MP_OK) {
			free(j.order);
			free(sz);
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    m->path);
		}
	}
	qsort(sz, n, sizeof *sz, by_size_desc);
	for (size_t i = 0; i < n; i++)
		j.order[i] = sz[i].index;
	free(sz);
	atomic_init(&j.next, 0);
	atomic_init(&j.failed, false);
	atomic_init(&j.done, 0);
	pthread_mutex_init(&j.lock, NULL);
	j.status = MP_OK;
	if (n)
		run(&j, threads);
	pthread_mutex_destroy(&j.lock);
	free(j.order);
	return j.status;
}

const struct mp_method mp_method_tensors = {
    .name = "tensors",
    .summary = "SHA-256, exact statistics and a value sketch per tensor",
    .arg_names = arg_names,
    .check_args = tensors_check,
    .compute = compute,
};
