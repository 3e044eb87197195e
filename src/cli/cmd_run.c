/* cmd_run.c — `modelprint run`: an experiment from a config file. */
#include "cli.h"
#include "experiment.h"
#include "metric.h"
#include "mpi_pairs.h"
#include "shard.h"

#include <ctype.h>
#include <stdarg.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: modelprint run --config FILE [--use-existing]\n"
	"                      [--write-to-registry] [--exact]\n"
	"                      [--output-dir DIR] [--registry LOC]\n"
	"                      [--global-registry LOC] [--threads N]\n"
	"                      [--matrix-format json|binary]\n"
	"       modelprint run --config FILE --shard K/N|auto --registry LOC\n"
	"                      [--threads N]\n"
	"\n"
	"Fingerprint every model of the config with every method, compute the\n"
	"similarity matrix of every metric, and write fingerprints.json and\n"
	"similarity_matrices.json into the output directory. With --shard,\n"
	"fingerprint only shard K of N of the models (a stable split by model\n"
	"id) into the registry, each model in one transaction, skipping those\n"
	"stored already, and compute no matrices: a later --use-existing run\n"
	"computes them (see `modelprint slurm`). Started by mpirun (an MPI\n"
	"build), the ranks share out the pairs of every matrix and rank 0\n"
	"writes the files one process would.\n"
	"\n"
	"  --config FILE          experiment config (models, methods,\n"
	"                         method_args, metrics)\n"
	"  --use-existing         take fingerprints already in the registry\n"
	"  --write-to-registry    store computed fingerprints in the global\n"
	"                         registry, each model's in one transaction\n"
	"                         (checked first: needs write privileges)\n"
	"  --exact                cosine and pearson over the full tensors\n"
	"  --output-dir DIR       default ./modelprint-results\n"
	"  --registry LOC         where model ids are resolved (a directory,\n"
	"                         a SQLite file or a postgresql:// URL)\n"
	"  --global-registry LOC  default $MODELPRINT_GLOBAL_REGISTRY\n"
	"  --shard K/N            shard K of N, 1 <= K <= N; 'auto': from\n"
	"                         SLURM_ARRAY_TASK_ID, _MIN, _MAX, _COUNT\n"
	"  --threads N            worker threads (default: all CPUs)\n"
	"  --matrix-format F      json (default) or binary: also write each\n"
	"                         matrix as a binary similarity-matrix file\n"
	"                         (float64) METHOD.METRIC.mpsim beside the\n"
	"                         JSON\n"
	"  -h, --help             this text\n";

static void print_matrix(const struct mp_simmatrix *s)
{
	printf("\n%s / %s (%s)\n", cli_esc(s->method), cli_esc(s->metric),
	       s->higher_is_more_alike ? "higher is more alike"
				       : "lower is more alike");
	char est[160];
	printf("%s\n", cli_esc(mp_simmatrix_estimate_text(s, est, sizeof est)));
	size_t show = s->n < 12 ? s->n : 12;
	printf("%8s", "");
	for (size_t j = 0; j < show; j++)
		printf(" %s", cli_cell(s->ids[j], 9, CLI_RIGHT));
	printf("%s\n", show < s->n ? " ..." : "");
	for (size_t i = 0; i < show; i++) {
		printf("%s", cli_cell(s->ids[i], 8, CLI_RIGHT));
		for (size_t j = 0; j < show; j++) {
			double v = s->value[i * s->n + j];
			if (isnan(v))
				printf(" %9s", "-");
			else
				printf(" %9.6g", v);
		}
		printf("\n");
	}
	if (show < s->n)
		printf("(%zu of %zu models shown; all in the matrices file)\n",
		       show, s->n);
}

/* DIR/METHOD.METRIC.mpsim (characters other than letters, digits, '-'
 * and '_' of the names as '_'), float64. */
static mp_status write_binary(const char *dir, const struct mp_simmatrix *m,
			      struct mp_error *err)
{
	char name[256];
	snprintf(name, sizeof name, "%.100s.%.100s.mpsim", m->method,
		 m->metric);
	for (char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			*p = '_';
	char *path = mp_path_join(dir, name);
	mp_status st = path ? mp_simmatrix_bin_write(m, path, 8, err)
			    : mp_error_set(err, MP_ENOMEM, "out of memory");
	if (st == MP_OK)
		printf("wrote %s\n", cli_esc(path));
	free(path);
	return st;
}

/* A notice from the run: on its own line of stderr, below the progress
 * bar (which redraws itself). */
static void notice(void *ctx, const char *msg)
{
	cli_progress_end(ctx);
	cli_error("%s", msg);
}

static int run_with(const char *config, const char *regopt,
		    const char *globopt, const char *shard, bool binary,
		    struct mp_run_opts *op);

/* An error on rank 0 (or in one process); other ranks, which met the
 * same one, stay silent. */
static void rank_fail(bool quiet, const struct mp_error *err)
{
	if (!quiet)
		cli_fail(err);
}

__attribute__((format(printf, 2, 3))) static void
rank_error(bool quiet, const char *fmt, ...)
{
	if (quiet)
		return;
	char msg[MP_ERRMSG_MAX + 512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_error("%s", msg);
}

/* The test hook MODELPRINT_TEST_MPI_DIE_RANK=N (modelprint-run(1)): rank
 * N dies with _exit(9) once it has computed its first tile. */
static void die_hook(void *ctx, size_t tile)
{
	(void)tile;
	fprintf(stderr, "modelprint: rank %d: test hook "
			"MODELPRINT_TEST_MPI_DIE_RANK: exiting\n",
		*(const int *)ctx);
	_exit(9);
}

/* Under mpirun, a rank that fails makes mpirun stop the others with
 * SIGTERM: they say so on stderr (one line each, prepared beforehand:
 * only write(2) in the handler). Rank 0 writes its files only once every
 * rank's pairs arrived, each atomically. */
static char aborted_msg[128];
static void on_abort(int sig)
{
	(void)sig;
	ssize_t w = write(2, aborted_msg, strlen(aborted_msg));
	(void)w;
	_exit(CLI_EXIT_FAIL);
}

/* Under mpirun: MPI started and the rank in o, the hook armed; options
 * MPI does not take refused (a usage error from rank 0 only). */
static int mpi_options(bool shard, struct mp_run_opts *o)
{
	struct mp_error err;
	if (mp_mpi_start(&o->mpi_rank, &o->mpi_size, &err) != MP_OK) {
		cli_error("started by mpirun, but %s", err.msg);
		return CLI_EXIT_FAIL;
	}
	if (shard || o->write_to_registry) {
		if (o->mpi_rank == 0)
			cli_usage_error("run", "%s is for one process a task, "
					       "not under mpirun",
					shard ? "--shard" : "--write-to-registry");
		return CLI_EXIT_USAGE;
	}
	if (o->mpi_rank == 0) /* one line, from rank 0 */
		snprintf(aborted_msg, sizeof aborted_msg,
			 "modelprint: stopped by mpirun (another rank "
			 "failed): no results written\n");
	struct sigaction sa = {.sa_handler = on_abort};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	const char *die = getenv("MODELPRINT_TEST_MPI_DIE_RANK");
	static int rank;
	rank = o->mpi_rank;
	if (die && *die && atoi(die) == o->mpi_rank) {
		o->tile_done = die_hook;
		o->tile_ctx = &rank;
	}
	return CLI_EXIT_OK;
}

/* --shard SPEC into o (K/N, or auto from the Slurm array variables), and
 * the options that make no sense with it refused. */
static int shard_options(const char *spec, const char *outopt, bool exact,
			 struct mp_run_opts *o)
{
	struct mp_error err;
	mp_status st;
	if (strcmp(spec, "auto") == 0) {
		struct mp_shard_env e = {
			.task_id = getenv("SLURM_ARRAY_TASK_ID"),
			.task_min = getenv("SLURM_ARRAY_TASK_MIN"),
			.task_max = getenv("SLURM_ARRAY_TASK_MAX"),
			.task_count = getenv("SLURM_ARRAY_TASK_COUNT"),
			.task_step = getenv("SLURM_ARRAY_TASK_STEP")};
		st = mp_shard_from_env(&e, &o->shard_k, &o->shard_n, &err);
	} else {
		st = mp_shard_parse(spec, &o->shard_k, &o->shard_n, &err);
	}
	if (st != MP_OK)
		return cli_usage_error("run", "%s", err.msg);
	if (outopt || exact)
		return cli_usage_error("run", "--shard computes no matrices: "
					      "%s belongs to the --use-existing "
					      "run after the shards",
				       outopt ? "--output-dir" : "--exact");
	return CLI_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"use-existing", no_argument, NULL, 'u'},
		{"write-to-registry", no_argument, NULL, 'w'},
		{"exact", no_argument, NULL, 'e'},
		{"output-dir", required_argument, NULL, 'o'},
		{"registry", required_argument, NULL, 'r'},
		{"global-registry", required_argument, NULL, 'g'},
		{"threads", required_argument, NULL, 't'},
		{"matrix-format", required_argument, NULL, 'M'},
		{"shard", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *config = NULL, *regopt = NULL, *globopt = NULL;
	const char *shard = NULL, *outopt = NULL;
	struct mp_run_opts o = {.output_dir = "modelprint-results"};
	long threads = 0;
	bool binary = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'u': o.use_existing = true; break;
		case 'w': o.write_to_registry = true; break;
		case 'e': o.exact = true; break;
		case 'o': outopt = o.output_dir = optarg; break;
		case 's': shard = optarg; break;
		case 'r': regopt = optarg; break;
		case 'g': globopt = optarg; break;
		case 't':
			if (!cli_parse_int(optarg, 0, 1024, &threads))
				return cli_usage_error("run", "--threads needs 0..1024");
			break;
		case 'M':
			if (strcmp(optarg, "json") && strcmp(optarg, "binary"))
				return cli_usage_error("run", "--matrix-format "
							      "is json or "
							      "binary, not "
							      "'%s'",
						       optarg);
			binary = !strcmp(optarg, "binary");
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option("run", argv, opts);
		}
	}
	if (!config)
		return cli_usage_error("run", "--config FILE is required");
	if (optind < argc)
		return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
	if (shard) {
		int u = shard_options(shard, outopt, o.exact, &o);
		if (u != CLI_EXIT_OK)
			return u;
	}
	o.threads = (int)threads;
	if (mp_mpi_launched()) {
		int u = mpi_options(shard != NULL, &o);
		if (u != CLI_EXIT_OK) {
			mp_mpi_stop();
			return o.mpi_rank == 0 ? u : CLI_EXIT_OK; /* as run_with */
		}
	}
	int rc = run_with(config, regopt, globopt, shard, binary, &o);
	mp_mpi_stop();
	return rc;
}

/* The run itself, once the options are read; under mpirun only rank 0
 * prints. */
static int run_with(const char *config, const char *regopt,
		    const char *globopt, const char *shard, bool binary,
		    struct mp_run_opts *op)
{
	struct mp_run_opts o = *op;
	bool quiet = o.mpi_rank != 0;
	char *global = cli_global_registry_dir(globopt);
	if (shard && !regopt && !global)
		return cli_usage_error("run", "--shard needs the registry to "
					      "write to (--registry LOC or "
					      "--global-registry LOC)");
	if (o.write_to_registry && !global)
		return cli_usage_error("run", "--write-to-registry needs a global "
					      "registry (--global-registry LOC or "
					      "$MODELPRINT_GLOBAL_REGISTRY)");
	char *regdir = regopt ? mp_strdup(regopt)
			      : global ? mp_strdup(global) : cli_registry_dir(NULL);
	struct mp_error err;
	int rc = CLI_EXIT_FAIL;
	struct mp_registry *reg = NULL;
	struct mp_regdb *db = NULL;
	struct mp_config *cfg = NULL;
	struct mp_run_result res = {0};
	if (shard && globopt && strcmp(global, regdir) != 0) {
		rank_error(quiet, "--shard writes to the registry where models are "
			  "resolved (%s), not %s; use one registry",
			  regdir, global);
		goto out;
	}
	if (o.write_to_registry && !shard && strcmp(global, regdir) != 0) {
		rank_error(quiet, "--write-to-registry writes to the global registry %s, "
			  "but models are resolved in %s; use one registry",
			  global, regdir);
		goto out;
	}
	/* Before any long work: a registry we may not write is refused now,
	 * naming the missing privilege or the read-only file. */
	if ((o.write_to_registry || shard) &&
	    (mp_regdb_open(regdir, true, &db, &err) != MP_OK ||
	     mp_regdb_check_write(db, &err) != MP_OK)) {
		rank_error(quiet, "refusing %s: %s",
			  shard ? "--shard" : "--write-to-registry", err.msg);
		goto out;
	}
	mp_status pre = db ? MP_OK : mp_regdb_open(regdir, false, &db, &err);
	if (pre == MP_OK)
		pre = mp_regdb_list(db, NULL, &reg, &err);
	if (pre == MP_OK)
		pre = mp_config_load(config, reg, &cfg, &err);
	/* under mpirun, a failure on any rank (even one rank's alone) is
	 * every rank's, and rank 0 reports it */
	if (o.mpi_size > 1)
		pre = mp_mpi_agree(pre, &err);
	if (pre != MP_OK) {
		rank_fail(quiet, &err);
		goto out;
	}
	o.registry = db;
	struct cli_progress pr;
	o.progress = cli_progress_start(&pr, "fingerprinting");
	o.step = cli_progress_step;
	if (quiet) { /* one progress bar: rank 0's */
		o.progress = NULL;
		o.step = NULL;
	}
	o.step_ctx = &pr;
	o.notice = notice;
	o.notice_ctx = &pr;
	mp_status st = mp_experiment_run(cfg, &o, &res, &err);
	cli_progress_end(&pr);
	if (st != MP_OK) {
		rank_fail(quiet, &err);
		goto out;
	}
	if (quiet) {
		rc = CLI_EXIT_OK;
		goto out;
	}
	if (shard) {
		printf("shard %u/%u: %zu models done, %zu skipped (already in "
		       "the registry), %zu in other shards\n",
		       o.shard_k, o.shard_n, res.models_done,
		       res.models_skipped, res.models_other);
		printf("fingerprints: %zu computed, %zu reused", res.computed,
		       res.reused);
		if (res.not_applicable)
			printf(", %zu not applicable", res.not_applicable);
		printf("\n");
		rc = CLI_EXIT_OK;
		goto out;
	}
	printf("fingerprints: %zu computed, %zu reused", res.computed,
	       res.reused);
	if (res.stale)
		printf(" (%zu stored ones were stale and recomputed)", res.stale);
	if (res.not_applicable)
		printf(", %zu not applicable (their cells undefined)",
		       res.not_applicable);
	printf("\n");
	printf("wrote %s\nwrote %s\n", cli_esc(res.fingerprints_path),
	       cli_esc(res.matrices_path));
	/* read back one matrix at a time, without a JSON tree */
	struct mp_simmatrix_file *f;
	if (mp_simmatrix_file_open(res.matrices_path, &f, &err) != MP_OK) {
		rank_fail(quiet, &err);
		goto out;
	}
	for (size_t i = 0; i < f->n; i++) {
		struct mp_simmatrix *m;
		if (mp_simmatrix_file_get(f, i, &m, &err) != MP_OK) {
			mp_simmatrix_file_close(f);
			rank_fail(quiet, &err);
			goto out;
		}
		print_matrix(m);
		st = binary ? write_binary(o.output_dir, m, &err) : MP_OK;
		mp_simmatrix_free(m);
		if (st != MP_OK) {
			mp_simmatrix_file_close(f);
			rank_fail(quiet, &err);
			goto out;
		}
	}
	mp_simmatrix_file_close(f);
	rc = CLI_EXIT_OK;
out:
	/* Under mpirun the ranks other than 0 met the failure rank 0
	 * reports and exits 1 for: they exit 0, lest mpirun stop rank 0
	 * before it has said why. */
	if (quiet)
		rc = CLI_EXIT_OK;
	mp_run_result_done(&res);
	mp_config_free(cfg);
	mp_registry_free(reg);
	mp_regdb_close(db);
	free(regdir);
	free(global);
	return rc;
}
