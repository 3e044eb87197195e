/* cli.c — error output, progress bars and small helpers for the commands. */
#include "cli.h"
#include "modelinfo.h"
#include "atomic_write.h"
#include "registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("modelprint: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
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
	fputs("modelprint: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (cmd)
		fprintf(stderr, "\ntry 'modelprint %s --help'\n", cmd);
	else
		fprintf(stderr, "\ntry 'modelprint --help'\n");
	va_end(ap);
	return CLI_EXIT_USAGE;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static pthread_mutex_t draw_lock = PTHREAD_MUTEX_INITIALIZER;

/* Called from worker threads: draws at most 10 times a second and never
 * makes a worker wait for another. */
static void draw(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	if (pthread_mutex_trylock(&draw_lock) != 0)
		return;
	double t = now();
	if (t - p->last_draw >= 0.1 || done == total) {
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

const struct mp_progress *cli_progress_start(struct cli_progress *p,
					     const char *label)
{
	memset(p, 0, sizeof *p);
	p->label = label;
	p->start = now();
	if (!isatty(2) || getenv("CI"))
		return NULL;
	p->cb.fn = draw;
	p->cb.ctx = p;
	return &p->cb;
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

const char *cli_fit_tail(const char *s, size_t width, char *buf)
{
	size_t n = strlen(s);
	if (n <= width || width < 4)
		return s;
	const char *t = s + n - (width - 3);
	while ((*t & 0xC0) == 0x80) /* UTF-8 continuation byte */
		t++;
	snprintf(buf, width + 1, "...%s", t);
	return buf;
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
