/* cli.h — shared helpers of the command-line front end: error output,
 * option conventions, progress bars, registry location. Only src/cli and
 * src/tui print or exit. Exit codes: 0 success, 1 failure, 2 usage error. */
#ifndef MP_CLI_H
#define MP_CLI_H

#include "fingerprint.h"
#include "json.h"
#include "mp.h"

#include <getopt.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* One subcommand: run gets argv with argv[0] = command name. */
struct cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

int cmd_fingerprint(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_identify(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_slurm(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_correlate(int argc, char **argv);
int cmd_matrix(int argc, char **argv);
int cmd_sparsity(int argc, char **argv);
/* `sparsity profile FILE [--parent PARENT] [--threads N] [--json]`
 * (cmd_sparsity_profile.c, options parsed by cmd_sparsity; threads 0: one
 * per CPU). */
int cli_sparsity_profile(const char *file, const char *parent, int threads,
			 bool json);
/* `sparsity report ...`: argv[0] = "report" (cmd_sparsity_report.c). */
int cli_sparsity_report(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_tui(int argc, char **argv);

/* Print "modelprint: <message>" on stderr as one line. The whole
 * formatted message goes through mp_escape_term, so names and paths from
 * files or arguments (and core messages quoting them) reach the terminal
 * escaped. Every error of the program is printed by this function. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print err->msg with cli_error and return CLI_EXIT_FAIL. */
int cli_fail(const struct mp_error *err);
/* Print a usage error (escaped like cli_error) plus "try 'modelprint CMD
 * --help'", return 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The usage error for the option getopt_long just refused (argv[optind-1]:
 * unknown, or missing its value); getopt's own messages are off (main.c
 * clears opterr) since they would print the option unescaped. With
 * opts (the getopt_long table, or NULL), a mistyped long option gets
 * "did you mean '--NAME'?". */
int cli_bad_option(const char *cmd, char **argv, const struct option *opts);
/* The one of names[0..n) nearest to word by edit distance, when near
 * enough to be a typo (1 edit for words up to 4 characters, 2 up to 8,
 * else 3); NULL otherwise. */
const char *cli_nearest(const char *word, const char *const *names, size_t n);

/* The names of the fingerprint methods of this build, from the method
 * table, joined by sep ("tensors, spectral"); a static buffer, valid
 * until the next call. Help texts and errors list methods with it. */
const char *cli_method_list(const char *sep);

/* Text from a file or a user, made safe for the terminal (mp_escape_term).
 * The result lives in one of CLI_ESC_SLOTS rotating buffers, valid until
 * that many more calls (a cli_cell takes two): enough for one printf.
 * Never NULL ("?" when out of memory). Main thread only. */
#define CLI_ESC_SLOTS 16
const char *cli_esc(const char *s);

/* A table cell: s escaped as by cli_esc, then cut to at most width
 * columns on a character boundary ("..." marks the cut: "head..." or,
 * with CLI_TAIL, "...tail" where long tensor names and paths differ) and
 * padded with spaces to exactly width columns (on the left with
 * CLI_RIGHT). Columns are counted with wcwidth (1 where it does not
 * know). Same buffers as cli_esc. */
enum { CLI_TAIL = 1, CLI_RIGHT = 2 };
const char *cli_cell(const char *s, size_t width, int flags);
/* Columns s takes once escaped. */
size_t cli_width(const char *s);
/* Columns of the terminal on stdout (its window size, else $COLUMNS,
 * else 80); 0 when stdout is not a terminal (no limit: pipes and files
 * get the full table). */
size_t cli_stdout_width(void);

/* A progress bar on stderr, drawn only when stderr is a terminal (and
 * CI is not set). cli_progress_start returns the callback to hand to the
 * core; cli_progress_end clears the line. */
struct cli_progress {
	struct mp_progress cb;
	char label[4 * 40 + 1]; /* escaped, at most 40 columns */
	int active;
	double last_draw;
	double start;
	/* a whole job, set by cli_progress_step (steps 0: one file) */
	size_t step, steps;
	uint64_t base, size, total; /* as in struct mp_run_step */
	char method[4 * 16 + 1];    /* escaped, at most 16 columns */
};
const struct mp_progress *cli_progress_start(struct cli_progress *p,
					     const char *label);
/* The step callback of mp_run_opts (ctx: the struct cli_progress): from
 * then on the bar shows the whole job, "[k/N] NAME METHOD [bar] pct%
 * done/total MB rate MB/s m:ss left", fitted to the terminal. Does
 * nothing when progress is not drawn. Main thread only. */
struct mp_run_step;
void cli_progress_step(void *ctx, const struct mp_run_step *s);
void cli_progress_end(struct cli_progress *p);

/* Registry directory: opt if non-NULL, else the default (caller frees). */
char *cli_registry_dir(const char *opt);
/* Global registry: opt, else $MODELPRINT_GLOBAL_REGISTRY, else NULL. */
char *cli_global_registry_dir(const char *opt);

/* Print j (pretty) on stdout followed by a newline, free nothing. */
void cli_print_json(const mp_json *j);

/* Model info from a model-info file (path non-NULL) or else from the
 * registry at registry_dir. */
struct mp_model_info_set;
mp_status cli_load_model_info(const char *path, const char *registry_dir,
			      struct mp_model_info_set **out,
			      struct mp_error *err);

/* Create dir if needed and write j (pretty) to dir/name atomically. */
mp_status cli_write_json(const char *dir, const char *name, const mp_json *j,
			 struct mp_error *err);

/* The architecture signatures of file, or (file NULL) of
 * architectures.json in the installed data, else the source tree's; 1
 * after printing the error, 0 with *out set. */
struct mp_arch_set;
int cli_arch_load(const char *file, struct mp_arch_set **out);

/* Parse a positive integer option value; false on garbage. */
int cli_parse_int(const char *s, long min, long max, long *out);

#endif
