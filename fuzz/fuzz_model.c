/* fuzz_model.c — libFuzzer harness for the model readers, built three
 * times: fuzz_safetensors, fuzz_tfjs with -DFUZZ_TFJS and fuzz_pytorch
 * with -DFUZZ_TORCH (PyTorch checkpoints, pickles and NumPy files) and
 * -DFUZZ_GGUF (GGUF files and their -0000N-of-0000M.gguf shards; only the
 * default part names and seeds differ). The input is a whole model directory:
 *
 *   byte 0   flags: bits 0-1 what is opened (0, 2: the first part; 1: the
 *            directory; 3: the index or model.json by its usual name),
 *            bits 2-4 a hazard (below), bit 5 spectral's exact SVD limit
 *            (4 or 64: small matrices reach the randomized SVD), bits 6-7
 *            the tensors sketch size (4, 16, 64, 256)
 *   byte 1   which part the hazard hits (mod the part count) and, for a
 *            truncation, to how many 256ths of its length
 *   rest     parts separated by "@@MPF@@"; each is a file name line
 *            ([A-Za-z0-9._-], see fuzz_util.h) then the file's bytes
 *
 * Each input gets a fresh directory; the model is opened, fingerprinted
 * with tensors and spectral (one thread, small sizes), both fingerprints go
 * through JSON and back, every metric compares each with itself and the
 * exact cosine/Pearson compare the model with itself, as `modelprint
 * compare m m` does. A rejected input must leave one printable error line.
 *
 * Hazards (bits 2-4): 1 the part is a symlink to a copy outside the
 * directory, 2 a symlink to a directory outside, 3 a dangling symlink,
 * 4 a symlink to itself, 5 a FIFO, 6 the part truncated after the model is
 * opened, 0 and 7 none. 5 and 6 hang or die with SIGBUS in readers that
 * open FIFOs blocking or do not guard their mappings; FUZZ_HAZARDS=0 in the
 * environment leaves them out (they count as none). With hazards, a model
 * that opens the symlink of hazard 1 is a finding too (containment), and so
 * is an open that blocks over a second on the FIFO. */
#include "fuzz_util.h"
#include "metric.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

static char base[64];
static bool hazards;

static const char *default_name(size_t i)
{
#if defined FUZZ_TFJS
	static const char *const names[] = {"model.json", "group1-shard1of2.bin",
					    "group1-shard2of2.bin"};
#elif defined FUZZ_GGUF
	static const char *const names[] = {"model-00001-of-00002.gguf",
					    "model-00002-of-00002.gguf",
					    "model.gguf"};
#elif defined FUZZ_TORCH
	static const char *const names[] = {
	    "pytorch_model.bin.index.json", "pytorch_model-00001-of-00002.bin",
	    "pytorch_model-00002-of-00002.bin"};
#else
	static const char *const names[] = {
	    "model.safetensors.index.json", "model-00001-of-00002.safetensors",
	    "model-00002-of-00002.safetensors"};
#endif
	static char buf[32];
	if (i < 3)
		return names[i];
	snprintf(buf, sizeof buf, "part%zu.bin", i);
	return buf;
}

/* Plant hazard kind on part p (its bytes already written in dir). */
static void plant(const char *dir, const char *out, const struct fuzz_part *p,
		  int kind)
{
	char path[4096], target[4096];
	snprintf(path, sizeof path, "%s/%s", dir, p->name);
	if (kind >= 1 && kind <= 5)
		unlink(path);
	switch (kind) {
	case 1:
		fuzz_write(out, p->name, p->data, p->len);
		snprintf(target, sizeof target, "%s/%s", out, p->name);
		break;
	case 2:
		snprintf(target, sizeof target, "%s", out);
		break;
	case 3:
		snprintf(target, sizeof target, "%s/absent", out);
		break;
	case 4:
		snprintf(target, sizeof target, "%s", path);
		break;
	case 5:
		if (mkfifo(path, 0600) != 0)
			abort();
		return;
	default:
		return;
	}
	if (symlink(target, path) != 0)
		abort();
}

/* Files a model names must resolve inside its directory (DESIGN.md §4):
 * with FUZZ_HAZARDS, a model that maps the symlink to the outside copy is
 * a finding, unless it is the file the user named (that may be a symlink
 * to anywhere). */
static void check_contained(const struct mp_model *m, const char *dir,
			    const char *name, const char *named)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	if (!strcmp(p, named))
		return;
	for (size_t i = 0; i < m->nfiles; i++)
		if (m->files[i].path && !strcmp(m->files[i].path, p)) {
			fprintf(stderr, "fuzz: %s, a symlink out of the model's "
					"directory, was opened\n",
				p);
			abort();
		}
}

static mp_json *args(const char *k1, double v1, const char *k2, double v2)
{
	mp_json *a = mp_json_object();
	if (!a || !mp_json_add_num(a, k1, v1) ||
	    (k2 && !mp_json_add_num(a, k2, v2)))
		abort();
	return a;
}

/* JSON and back: a fingerprint we wrote must read back, with its tensors. */
static void round_trip(const struct mp_fingerprint *fp)
{
	mp_json *j = mp_fp_to_json(fp);
	if (!j)
		return; /* out of memory */
	char *text = mp_json_print(j, false);
	mp_json_free(j);
	if (!text)
		return;
	struct mp_error err;
	mp_json *k;
	mp_status st = mp_json_parse(text, strlen(text), "round trip", &k, &err);
	struct mp_fingerprint *back = NULL;
	if (st == MP_OK) {
		st = mp_fp_from_json(k, "round trip", &back, &err);
		mp_json_free(k);
	}
	if (st != MP_OK) {
		fprintf(stderr, "fuzz: fingerprint does not read back: %s\n",
			err.msg);
		abort();
	}
	if (back->ntensors != fp->ntensors) {
		fprintf(stderr, "fuzz: %zu tensors written, %zu read back\n",
			fp->ntensors, back->ntensors);
		abort();
	}
	free(text);
	mp_fp_free(back);
}

static void exercise(struct mp_model *m, uint8_t flags)
{
	static const double sketch[4] = {4, 16, 64, 256};
	struct mp_error err;
	struct mp_fingerprint *fp[2] = {NULL, NULL};
	mp_json *a[2] = {
	    args("sketch_size", sketch[flags >> 6], "seed", 7),
	    args("max_sv", 8, "exact_limit", (flags & 0x20) ? 4 : 64)};
	static const char *const methods[2] = {"tensors", "spectral"};
	for (int i = 0; i < 2; i++) {
		mp_status st =
		    mp_fp_compute(m, methods[i], a[i], 1, NULL, &fp[i], &err);
		fuzz_check_error(st, &err);
		if (st != MP_OK)
			fp[i] = NULL;
		else
			round_trip(fp[i]);
		mp_json_free(a[i]);
	}
	size_t nm;
	const struct mp_metric *ms = mp_metric_all(&nm);
	for (size_t i = 0; i < nm; i++) {
		struct mp_fingerprint *f = fp[strcmp(ms[i].method, "tensors") ? 1 : 0];
		if (f)
			(void)ms[i].score(f, f);
	}
	struct mp_exact_pair *pairs = NULL;
	size_t np = 0;
	struct mp_score cos, pea;
	mp_status st = mp_metric_exact(m, m, &pairs, &np, &cos, &pea, &err);
	fuzz_check_error(st, &err);
	if (st == MP_OK)
		free(pairs);
	mp_fp_free(fp[0]);
	mp_fp_free(fp[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!base[0]) {
		fuzz_mkdtemp(base, sizeof base, "mpfuzzm");
		const char *hz = getenv("FUZZ_HAZARDS");
		hazards = !hz || strcmp(hz, "0") != 0;
	}
	if (size < 2)
		return 0;
	uint8_t flags = data[0], which = data[1];
	struct fuzz_part parts[FUZZ_MAX_PARTS];
	size_t n = fuzz_split(data + 2, size - 2, parts, default_name);
	char dir[4096], out[4096];
	snprintf(dir, sizeof dir, "%s/m", base);
	snprintf(out, sizeof out, "%s/outside", base);
	if (mkdir(dir, 0700) != 0 || mkdir(out, 0700) != 0)
		abort();
	for (size_t i = 0; i < n; i++)
		fuzz_write(dir, parts[i].name, parts[i].data, parts[i].len);
	int kind = (flags >> 2) & 7;
	if ((kind == 5 || kind == 6) && !hazards)
		kind = 0;
	const struct fuzz_part *hit = &parts[which % n];
	plant(dir, out, hit, kind);

	char path[4096];
	switch (flags & 3) {
	case 1:
		snprintf(path, sizeof path, "%s", dir);
		break;
	case 3:
#if defined FUZZ_TFJS
		snprintf(path, sizeof path, "%s/model.json", dir);
#elif defined FUZZ_GGUF
		snprintf(path, sizeof path, "%s/model-00001-of-00002.gguf",
			 dir);
#elif defined FUZZ_TORCH
		snprintf(path, sizeof path, "%s/pytorch_model.bin.index.json",
			 dir);
#else
		snprintf(path, sizeof path, "%s/model.safetensors.index.json",
			 dir);
#endif
		break;
	default:
		snprintf(path, sizeof path, "%s/%s", dir, parts[0].name);
	}
	struct mp_model *m = NULL;
	struct mp_error err;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mp_status st = mp_model_open(path, &m, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* libFuzzer's timer interrupts a blocked open() (EINTR), so a reader
	 * that blocks on the FIFO fails late instead of hanging. */
	if (kind == 5 && t1.tv_sec - t0.tv_sec > 1) {
		fprintf(stderr, "fuzz: opening the model blocked %lds on the "
				"FIFO %s (%s)\n",
			(long)(t1.tv_sec - t0.tv_sec), hit->name,
			st == MP_OK ? "opened" : err.msg);
		abort();
	}
	fuzz_check_error(st, &err);
	if (st == MP_OK) {
		if (kind == 1)
			check_contained(m, dir, hit->name, path);
		if (kind == 6) {
			char hp[4096];
			snprintf(hp, sizeof hp, "%s/%s", dir, hit->name);
			if (truncate(hp, (off_t)(hit->len * which / 256)) != 0)
				abort();
		}
		exercise(m, flags);
	}
	mp_model_free(m);
	fuzz_rm_rf(dir);
	fuzz_rm_rf(out);
	return 0;
}
