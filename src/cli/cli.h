/* cli.h — shared helpers of the command-line front end: error output,
 * option conventions, progress bars, registry location. Only src/cli and
 * src/tui print or exit. Exit codes: 0 success, 1 failure, 2 usage error. */
#ifndef MP_CLI_H
#define MP_CLI_H

#include "fingerprint.h"
#include "json.h"
#include "mp.h"

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
int cmd_run(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_correlate(int argc, char **argv);
int cmd_tui(int argc, char **argv);

/* Print "modelprint: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print err->msg as one line and return CLI_EXIT_FAIL. */
int cli_fail(const struct mp_error *err);
/* Print a usage error plus "try 'modelprint CMD --help'", return 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A progress bar on stderr, drawn only when stderr is a terminal (and
 * CI is not set). cli_progress_start returns the callback to hand to the
 * core; cli_progress_end clears the line. */
struct cli_progress {
	struct mp_progress cb;
	const char *label;
	int active;
	double last_draw;
	double start;
};
const struct mp_progress *cli_progress_start(struct cli_progress *p,
					     const char *label);
void cli_progress_end(struct cli_progress *p);

/* Registry directory: opt if non-NULL, else the default (caller frees). */
char *cli_registry_dir(const char *opt);
/* Global registry: opt, else $MODELPRINT_GLOBAL_REGISTRY, else NULL. */
char *cli_global_registry_dir(const char *opt);

/* Print j (pretty) on stdout followed by a newline, free nothing. */
void cli_print_json(const mp_json *j);

/* s fitted to width columns for a table: s itself when it fits, else
 * "..." and its tail (where long tensor names and paths differ). buf holds
 * at least width + 1 bytes; a UTF-8 sequence is never cut. */
const char *cli_fit_tail(const char *s, size_t width, char *buf);

/* Model info from a model-info file (path non-NULL) or else from the
 * registry at registry_dir. */
struct mp_model_info_set;
mp_status cli_load_model_info(const char *path, const char *registry_dir,
			      struct mp_model_info_set **out,
			      struct mp_error *err);

/* Create dir if needed and write j (pretty) to dir/name atomically. */
mp_status cli_write_json(const char *dir, const char *name, const mp_json *j,
			 struct mp_error *err);

/* Parse a positive integer option value; false on garbage. */
int cli_parse_int(const char *s, long min, long max, long *out);

#endif
