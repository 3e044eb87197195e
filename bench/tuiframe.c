/* tuiframe.c — frame time of the heatmap view on a large matrix: builds a
 * random symmetric N-model matrix (default 2,000; families of 50, one pair
 * in 1,000 null), opens the heatmap and renders frames into an 80x24 and a
 * 200x60 canvas while zooming and panning, with colours (half blocks) and
 * without. Reports ms per frame, worst frame, and the time to order the
 * rows by average-linkage clustering. With FILE (a similarity-matrices
 * file, JSON or binary), its first matrix instead of a random one.
 *   tuiframe [MODELS|FILE [FRAMES]] */
#include "view.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ULL);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static char *fmt(const char *f, size_t i)
{
	char buf[64];
	snprintf(buf, sizeof buf, f, i);
	return strdup(buf);
}

static struct mp_tui_data *make(size_t n, struct mp_simmatrix *file)
{
	struct mp_tui_data *d = calloc(1, sizeof *d);
	struct mp_simmatrix *m = file ? file : calloc(1, sizeof *m);
	if (file)
		n = file->n;
	d->models = calloc(n, sizeof *d->models);
	d->row_model = malloc(n * sizeof *d->row_model);
	if (!file) {
		m->ids = calloc(n, sizeof *m->ids);
		m->value = malloc(n * n * sizeof *m->value);
		m->reason = calloc(n * n, sizeof *m->reason);
		m->method = strdup("tensors");
		m->metric = strdup("cosine");
		m->higher_is_more_alike = true;
		m->n = n;
	}
	d->n = n;
	d->m = m;
	d->nmats = 1;
	uint64_t s = 42;
	for (size_t i = 0; i < n; i++) {
		struct mp_tui_model *mo = &d->models[i];
		mo->id = fmt("%zu", i + 1);
		mo->name = fmt("model-%zu", i + 1);
		mo->family = fmt("family-%zu", i / 50);
		mo->type = strdup("Base");
		mo->format = strdup("safetensors");
		if (!file)
			m->ids[i] = strdup(mo->id);
		d->row_model[i] = i;
	}
	for (size_t i = 0; i < n && !file; i++)
		for (size_t j = i; j < n; j++) {
			double v = (double)(rnd(&s) >> 11) / 9007199254740992.0;
			if (i / 50 == j / 50)
				v = 0.5 + v / 2;
			if (i == j)
				v = 1;
			else if (rnd(&s) % 1000 == 0)
				v = NAN;
			m->value[i * n + j] = m->value[j * n + i] = v;
		}
	return d;
}

/* Frames with a key before each: zoom out to the whole matrix, pan, zoom
 * in, pan. Returns ms per frame; *worst gets the slowest. */
static double run(struct mp_tui_data *d, struct mp_caps caps, int w, int h,
		  int frames, double *worst)
{
	struct mp_tui *t = mp_tui_new(d, caps);
	struct mp_canvas *c = mp_canvas_new(w, h);
	mp_tui_key(t, '2');
	mp_tui_draw(t, c);
	static const char script[] = "------lllljjjj++++lllljjjj" "    "
				     "++llllljjjjj----";
	*worst = 0;
	double t0 = now();
	for (int f = 0; f < frames; f++) {
		char k = script[f % (sizeof script - 1)];
		double a = now();
		mp_tui_key(t, k == ' ' ? MP_KEY_PGDN : k);
		mp_tui_draw(t, c);
		double b = now() - a;
		if (b > *worst)
			*worst = b;
	}
	double ms = (now() - t0) * 1e3 / frames;
	*worst *= 1e3;
	mp_tui_free(t);
	mp_canvas_free(c);
	return ms;
}

int main(int argc, char **argv)
{
	char *end = NULL;
	size_t n = argc > 1 ? strtoul(argv[1], &end, 10) : 2000;
	int frames = argc > 2 ? atoi(argv[2]) : 400;
	struct mp_simmatrix *file = NULL;
	if (argc > 1 && *end) { /* a file */
		struct mp_simmatrix_file *f;
		struct mp_error err;
		double t0 = now();
		if (mp_simmatrix_file_open(argv[1], &f, &err) != MP_OK ||
		    mp_simmatrix_file_get(f, 0, &file, &err) != MP_OK) {
			fprintf(stderr, "tuiframe: %s\n", err.msg);
			return 1;
		}
		mp_simmatrix_file_close(f);
		n = file->n;
		printf("read %s: %.2f s\n", argv[1], now() - t0);
	}
	if (n < 2 || frames < 1) {
		fprintf(stderr, "usage: tuiframe [MODELS >= 2|FILE [FRAMES >= 1]]\n");
		return 2;
	}
	struct mp_tui_data *d = make(n, file);
	static const struct {
		const char *name;
		struct mp_caps caps;
		int w, h;
	} cases[] = {{"256 colours, half blocks, 80x24", {256, false, true}, 80, 24},
		     {"true colour, half blocks, 200x60", {256, true, true}, 200, 60},
		     {"no colour, character ramp, 80x24", {0, false, false}, 80, 24}};
	printf("heatmap of %zu models, %d frames each (zoom out to the whole "
	       "matrix, pan, zoom in, pan)\n", n, frames);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double worst, ms = run(d, cases[i].caps, cases[i].w, cases[i].h,
				       frames, &worst);
		printf("  %-36s %7.3f ms/frame, worst %.3f ms\n", cases[i].name,
		       ms, worst);
	}
	struct mp_tui *t = mp_tui_new(d, (struct mp_caps){256, false, true});
	struct mp_canvas *c = mp_canvas_new(80, 24);
	mp_tui_key(t, '2');
	double t0 = now();
	mp_tui_key(t, 'o');
	double cl = now() - t0;
	mp_tui_draw(t, c);
	printf("  order by average-linkage clustering: %.3f s\n", cl);
	mp_tui_free(t);
	mp_canvas_free(c);
	mp_tui_data_free(d);
	return 0;
}
