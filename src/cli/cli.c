/* cli.c — error output, progress bars and small helpers for the commands. */
#include "cli.h"
#include "escape.h"
#include "experiment.h"
#include "modelinfo.h"
#include "atomic_write.h"
#include "registry.h"
#include "arch.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

/* The formatted message on the heap; NULL when out of memory. */
static char *vformat(const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* "modelprint: " and the escaped message on stderr, without a newline. */
static void put_message(const char *fmt, va_list ap)
{
	char *raw = vformat(fmt, ap);
	fputs("modelprint: ", stderr);
	fputs(raw ? cli_esc(raw) : "out of memory", stderr);
	free(raw);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put_message(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_fail(const struct mp_error *err)
{
	cli_error("%s", err->msg);
	return CLI_EXIT_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put_message(fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\ntry 'modelprint %s --help'\n", cmd);
	else
		fprintf(stderr, "\ntry 'modelprint --help'\n");
	return CLI_EXIT_USAGE;
}

/* Edit distance between a and b (insertions, deletions, substitutions
 * and transpositions of neighbours: optimal string alignment), 255 for
 * names longer than 64 bytes (never "near"). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 255;
	size_t d[3][65]; /* rows i-2, i-1, i, by i % 3 */
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *r = d[i % 3], *p = d[(i - 1) % 3], *pp = d[(i + 1) % 3];
		r[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = p[j - 1] + (a[i - 1] != b[j - 1]);
			if (p[j] + 1 < best)
				best = p[j] + 1;
			if (r[j - 1] + 1 < best)
				best = r[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			r[j] = best;
		}
	}
	return d[la % 3][lb];
}

const char *cli_nearest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t bd = 0, len = strlen(word);
	size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, names[i]);
		if (d <= limit && (!best || d < bd)) {
			best = names[i];
			bd = d;
		}
	}
	return best;
}

/* "--name" of the long option nearest to arg ("--nmae" or "--nmae=x"). */
static const char *nearest_option(const char *arg, const struct option *opts)
{
	if (!opts || strncmp(arg, "--", 2) != 0)
		return NULL;
	char word[72];
	snprintf(word, sizeof word, "%.*s", (int)strcspn(arg + 2, "="),
		 arg + 2);
	const char *names[64];
	size_t n = 0;
	for (; opts[n].name && n < 64; n++)
		names[n] = opts[n].name;
	return cli_nearest(word, names, n);
}

int cli_bad_option(const char *cmd, char **argv, const struct option *opts)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	const char *near = nearest_option(arg, opts);
	size_t len = near ? strlen(near) : 0;
	if (near && !strncmp(arg + 2, near, len) &&
	    (!arg[2 + len] || arg[2 + len] == '='))
		return cli_usage_error(cmd, "option '--%s' %s", near,
				       arg[2 + len] ? "takes no value"
						    : "needs a value");
	if (near)
		return cli_usage_error(cmd,
				       "unknown option '%s'; did you mean "
				       "'--%s'?",
				       arg, near);
	return cli_usage_error(cmd,
			       "bad option '%s' (unknown, or missing its "
			       "value)",
			       arg);
}

const char *cli_method_list(const char *sep)
{
	static char buf[256];
	buf[0] = '\0';
	const char *const *names = mp_method_names();
	for (size_t i = 0; names[i]; i++) {
		strncat(buf, i ? sep : "", sizeof buf - strlen(buf) - 1);
		strncat(buf, names[i], sizeof buf - strlen(buf) - 1);
	}
	return buf;
}

/* ---- escaped text and table cells --------------------------------------- */

static struct {
	char *p;
	size_t cap;
} slots[CLI_ESC_SLOTS];
static size_t next_slot;

/* The next rotating buffer, at least need bytes; NULL when out of memory.
 * The buffers are kept for the next calls (and freed at exit). */
static char *slot(size_t need)
{
	size_t k = next_slot++ % CLI_ESC_SLOTS;
	if (slots[k].cap < need) {
		char *p = realloc(slots[k].p, need);
		if (!p)
			return NULL;
		slots[k].p = p;
		slots[k].cap = need;
	}
	return slots[k].p;
}

const char *cli_esc(const char *s)
{
	size_t need = mp_escape_term(s, NULL, 0) + 1;
	char *b = slot(need);
	if (!b)
		return "?";
	mp_escape_term(s, b, need);
	return b;
}

/* Bytes of the UTF-8 character at p (escaped text is valid UTF-8). */
static size_t char_len(const char *p)
{
	unsigned char c = (unsigned char)*p;
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Columns of the character at p: 1 or 2 (zero-width characters count
 * as 1, so that a cell of w columns never needs more than 4w bytes). */
static size_t char_cols(const char *p)
{
	wchar_t wc;
	mbstate_t st;
	memset(&st, 0, sizeof st);
	size_t n = mbrtowc(&wc, p, char_len(p), &st);
	int w = n >= 1 && n <= 4 ? wcwidth(wc) : 1;
	return w == 2 ? 2 : 1;
}

static size_t cols_of(const char *e)
{
	size_t c = 0;
	for (; *e; e += char_len(e))
		c += char_cols(e);
	return c;
}

size_t cli_width(const char *s)
{
	return cols_of(cli_esc(s));
}

/* The escaped text e cut to width columns as cli_cell describes, padded
 * when pad, into out (at least strlen(e) + width + 4 bytes, and at most
 * 4 * width + 1 bytes are used). */
static void fit(const char *e, size_t width, int flags, bool pad, char *out)
{
	size_t len = strlen(e), cols = cols_of(e), n = len;
	const char *from = e, *dots = "";
	if (cols > width) {
		size_t room = width > 3 ? width - 3 : width, c = 0;
		dots = width > 3 ? "..." : "";
		if (flags & CLI_TAIL) {
			for (c = cols; *from && c > room;
			     from += char_len(from))
				c -= char_cols(from);
			n = len - (size_t)(from - e);
		} else {
			const char *p = e;
			for (; *p && c + char_cols(p) <= room; p += char_len(p))
				c += char_cols(p);
			n = (size_t)(p - e);
		}
		cols = c + strlen(dots);
	}
	size_t fill = pad && cols < width ? width - cols : 0;
	char *w = out;
	if (flags & CLI_RIGHT) {
		memset(w, ' ', fill);
		w += fill;
	}
	if (flags & CLI_TAIL)
		w = stpcpy(w, dots);
	memcpy(w, from, n);
	w += n;
	if (!(flags & CLI_TAIL))
		w = stpcpy(w, dots);
	if (!(flags & CLI_RIGHT)) {
		memset(w, ' ', fill);
		w += fill;
	}
	*w = '\0';
}

const char *cli_cell(const char *s, size_t width, int flags)
{
	const char *e = cli_esc(s);
	char *out = slot(strlen(e) + width + 4);
	if (!out)
		return "?";
	fit(e, width, flags, true, out);
	return out;
}

size_t cli_stdout_width(void)
{
	if (!isatty(1))
		return 0;
	struct winsize ws;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	long c;
	const char *e = getenv("COLUMNS");
	return e && cli_parse_int(e, 1, 100000, &c) ? (size_t)c : 80;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static pthread_mutex_t draw_lock = PTHREAD_MUTEX_INITIALIZER;

/* Columns of the terminal on stderr, 80 when it does not say. */
static size_t stderr_cols(void)
{
	struct winsize ws;
	return ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
}

/* "12.3 MB" (one decimal below 100 MB) into buf. */
static void mbytes(double b, char *buf, size_t cap)
{
	double mb = b / (1024.0 * 1024.0);
	snprintf(buf, cap, mb < 100 ? "%.1f" : "%.0f", mb);
}

/* "1:05" or "2:03:04" for s seconds, "?" when unknown. */
static void clock_text(double s, char *buf, size_t cap)
{
	if (!(s >= 0 && s < 360000)) {
		snprintf(buf, cap, "?");
		return;
	}
	long t = (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

/* The line of a whole job: "[k/N] NAME METHOD [bar] pct% done/total MB
 * rate MB/s m:ss left", NAME cut to what the terminal leaves. The step's
 * fraction done/total of its tensor bytes is laid over its file size. */
static void draw_job(struct cli_progress *p, uint64_t done, uint64_t total,
		     double t)
{
	double frac = total ? (double)done / (double)total : 1;
	double all = (double)p->base + frac * (double)p->size;
	double pct = p->total ? all / (double)p->total : 1;
	double el = t - p->start, rate = el > 0 ? all / el : 0;
	char a[16], b[16], r[16], left[24], bar[16], tail[160];
	mbytes(all, a, sizeof a);
	mbytes((double)p->total, b, sizeof b);
	mbytes(rate, r, sizeof r);
	clock_text(rate > 0 ? ((double)p->total - all) / rate : -1, left,
		   sizeof left);
	int fill = (int)(pct * 10);
	for (int i = 0; i < 10; i++)
		bar[i] = i < fill ? '#' : ' ';
	bar[10] = '\0';
	int n = snprintf(tail, sizeof tail,
			 " %s [%s] %3d%% %s/%s MB %s MB/s %s left", p->method,
			 bar, (int)(pct * 100), a, b, r, left);
	int head = snprintf(NULL, 0, "[%zu/%zu] ", p->step, p->steps);
	size_t cols = stderr_cols(), used = (size_t)(head + n) + 1;
	size_t room = cols > used + 8 ? cols - used : 8;
	char name[4 * 40 + 8];
	fit(p->label, room < 40 ? room : 40, 0, false, name);
	fprintf(stderr, "\r[%zu/%zu] %s%s\033[K", p->step, p->steps, name,
		tail);
}

/* Called from worker threads: draws at most 10 times a second and never
 * makes a worker wait for another. */
static void draw(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	if (pthread_mutex_trylock(&draw_lock) != 0)
		return;
	double t = now();
	if (p->steps && (t - p->last_draw >= 0.1 || done == total)) {
		p->last_draw = t;
		draw_job(p, done, total, t);
		p->active = 1;
	} else if (t - p->last_draw >= 0.1 || done == total) {
		p->last_draw = t;
		int width = 30, fill = total ? (int)((double)done / total * width) : 0;
		char bar[64];
		for (int i = 0; i < width; i++)
			bar[i] = i < fill ? '#' : ' ';
		bar[width] = '\0';
		fprintf(stderr, "\r%s [%s] %3d%% %llu/%llu MB %.1f s\033[K",
			p->label, bar, total ? (int)(100.0 * done / total) : 100,
			(unsigned long long)(done >> 20),
			(unsigned long long)(total >> 20), t - p->start);
		p->active = 1;
	}
	pthread_mutex_unlock(&draw_lock);
}

/* Whether progress is drawn: stderr is a terminal and CI is not set. */
static bool progress_wanted(void)
{
	return isatty(2) && !getenv("CI");
}

const struct mp_progress *cli_progress_start(struct cli_progress *p,
					     const char *label)
{
	memset(p, 0, sizeof *p);
	/* escaped here: draw() runs in worker threads */
	const char *e = cli_esc(label);
	char *t = slot(strlen(e) + 40 + 4);
	if (t) {
		fit(e, 40, CLI_TAIL, false, t); /* at most 4 * 40 + 1 bytes */
		memcpy(p->label, t, strlen(t) + 1);
	}
	p->start = now();
	if (!progress_wanted())
		return NULL;
	p->cb.fn = draw;
	p->cb.ctx = p;
	return &p->cb;
}

void cli_progress_step(void *ctx, const struct mp_run_step *s)
{
	struct cli_progress *p = ctx;
	if (!progress_wanted())
		return;
	const char *e = cli_esc(s->name);
	char *t = slot(strlen(e) + 40 + 4);
	pthread_mutex_lock(&draw_lock);
	if (t)
		fit(e, 40, 0, false, t); /* at most 4 * 40 + 1 bytes */
	memcpy(p->label, t ? t : "?", t ? strlen(t) + 1 : 2);
	fit(cli_esc(s->method), 16, 0, false, p->method);
	p->step = s->step;
	p->steps = s->steps;
	p->base = s->done;
	p->size = s->size;
	p->total = s->total;
	double now_t = now();
	p->last_draw = now_t;
	draw_job(p, 0, 1, now_t);
	p->active = 1;
	pthread_mutex_unlock(&draw_lock);
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->active)
		fputs("\r\033[K", stderr);
	p->active = 0;
}

char *cli_registry_dir(const char *opt)
{
	return opt ? mp_strdup(opt) : mp_registry_default_dir();
}

char *cli_global_registry_dir(const char *opt)
{
	if (opt)
		return mp_strdup(opt);
	const char *e = getenv("MODELPRINT_GLOBAL_REGISTRY");
	return e && *e ? mp_strdup(e) : NULL;
}

void cli_print_json(const mp_json *j)
{
	char *s = mp_json_print(j, true);
	if (s) {
		puts(s);
		free(s);
	}
}

int cli_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

mp_status cli_write_json(const char *dir, const char *name, const mp_json *j,
			 struct mp_error *err)
{
	mp_status st = mp_dir_prepare(dir, "output directory", err);
	if (st != MP_OK)
		return st;
	char *path = mp_path_join(dir, name);
	char *text = mp_json_print(j, true);
	st = path && text ? mp_atomic_write(path, text, err)
			  : mp_error_set(err, MP_ENOMEM, "out of memory");
	free(text);
	free(path);
	return st;
}

mp_status cli_load_model_info(const char *path, const char *registry_dir,
			      struct mp_model_info_set **out,
			      struct mp_error *err)
{
	if (path)
		return mp_model_info_load(path, out, err);
	struct mp_registry *reg;
	mp_status st = mp_registry_load(registry_dir, &reg, err);
	if (st != MP_OK)
		return st;
	st = mp_model_info_from_registry(reg, out, err);
	mp_registry_free(reg);
	return st;
}

/* The signatures of file, or of architectures.json in the installed data
 * (else the source tree's); 1 after printing the error. */
int cli_arch_load(const char *file, struct mp_arch_set **out)
{
	struct mp_error err;
	char buf[4096];
	if (!file) {
		const char *roots[] = {MP_DATADIR, MP_SRCDATADIR};
		for (int i = 0; i < 2 && !file; i++) {
			snprintf(buf, sizeof buf, "%s/architectures.json",
				 roots[i]);
			struct stat st;
			if (stat(buf, &st) == 0)
				file = buf;
		}
		if (!file) {
			cli_error("no architectures.json in %s or %s",
				  MP_DATADIR, MP_SRCDATADIR);
			return 1;
		}
	}
	return mp_arch_load(file, out, &err) == MP_OK ? 0 : cli_fail(&err);
}
