/* cmd_slurm.c — `modelprint slurm`: the sbatch scripts of a sharded
 * experiment (a job array of `run --shard auto` and a final `run
 * --use-existing` after it), printed, or written and submitted. */
#include "atomic_write.h"
#include "cli.h"
#include "experiment.h"
#include "slurm.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: modelprint slurm --config FILE --tasks N [--partition P]\n"
	"                        [--time T] [--registry LOC |\n"
	"                        --global-registry LOC] [--dir DIR]\n"
	"                        [--submit] [--json]\n"
	"\n"
	"Print the sbatch scripts that run an experiment on a Slurm cluster:\n"
	"a job array of N tasks, task K running `modelprint run --shard auto`\n"
	"(shard K of N of the config's models into the registry), and a final\n"
	"step, submitted with --dependency=afterok on the array, running\n"
	"`modelprint run --use-existing` to compute the matrices into\n"
	"DIR/results. With --submit, write the scripts into DIR, submit them\n"
	"with sbatch and print both job ids.\n"
	"\n"
	"  --config FILE          experiment config\n"
	"  --tasks N              array tasks (shards), 1 to 1000000\n"
	"  --partition P          sbatch --partition of both jobs\n"
	"  --time T               sbatch --time of each job (e.g. 2:00:00)\n"
	"  --registry LOC         registry the tasks write to and the final\n"
	"                         step reads (a SQLite file or a\n"
	"                         postgresql:// URL; all tasks must reach it)\n"
	"  --global-registry LOC  the same; default $MODELPRINT_GLOBAL_REGISTRY\n"
	"  --dir DIR              scripts, logs and results (default\n"
	"                         ./modelprint-slurm)\n"
	"  --submit               write the scripts and submit them (sbatch\n"
	"                         from PATH)\n"
	"  --json                 paths, script texts and job ids as JSON\n"
	"  -h, --help             this text\n";

/* An absolute form of path: realpath when it exists, else joined to the
 * working directory (caller frees). */
static char *absolute(const char *path)
{
	char *r = realpath(path, NULL);
	if (r || path[0] == '/')
		return r ? r : mp_strdup(path);
	char cwd[PATH_MAX];
	return getcwd(cwd, sizeof cwd) ? mp_path_join(cwd, path) : NULL;
}

/* Run sbatch with args (NULL-terminated, args[0] = "sbatch"); its
 * stdout and stderr into *out (caller frees); the exit status, or -1 when
 * it could not be run (errno). */
static int run_sbatch(char *const args[], char **out)
{
	int fd[2];
	*out = NULL;
	if (pipe(fd) != 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		close(fd[0]);
		close(fd[1]);
		execvp(args[0], args);
		dprintf(2, "cannot run %s: %s\n", args[0], strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	size_t len = 0, cap = 256;
	char *buf = malloc(cap);
	ssize_t r;
	char chunk[512];
	while (buf && (r = read(fd[0], chunk, sizeof chunk)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (len + (size_t)r + 1 > cap && len < (1u << 20)) {
			char *nb = realloc(buf, cap = 2 * (len + (size_t)r + 1));
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		if (len + (size_t)r + 1 <= cap) {
			memcpy(buf + len, chunk, (size_t)r);
			len += (size_t)r;
		}
	}
	close(fd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (buf)
		buf[len] = '\0';
	*out = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Submit script (with dependency when non-NULL) and put its job id in id;
 * a failure is one error line with what sbatch said. */
static int submit(const char *script, const char *dependency, char id[32])
{
	char dep[64];
	char *args[5] = {"sbatch", "--parsable", NULL, NULL, NULL};
	if (dependency) {
		snprintf(dep, sizeof dep, "--dependency=afterok:%s", dependency);
		args[2] = dep;
		args[3] = (char *)script;
	} else {
		args[2] = (char *)script;
	}
	char *out;
	int rc = run_sbatch(args, &out);
	struct mp_error err;
	if (rc == 0 && out && mp_slurm_job_id(out, id, &err) == MP_OK) {
		free(out);
		return CLI_EXIT_OK;
	}
	/* what sbatch said, on one line */
	size_t len = out ? strlen(out) : 0;
	while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	for (char *p = out; p && *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (rc == 0 && out)
		mp_slurm_job_id(out, id, &err);
	if (rc == 0 && out)
		cli_error("%s: %s", script, err.msg);
	else if (rc < 0)
		cli_error("%s: cannot run sbatch: %s", script, strerror(errno));
	else
		cli_error("%s: sbatch exited %d: %s", script, rc,
			  out ? out : "(no output)");
	free(out);
	return CLI_EXIT_FAIL;
}

/* Write the two scripts into dir (paths into *apath, *fpath) and submit
 * them, the final one after the array. */
static int write_and_submit(const char *dir, const char *array,
			    const char *final, char **apath, char **fpath,
			    char aid[32], char fid[32])
{
	struct mp_error err;
	*apath = mp_path_join(dir, "fingerprints.sbatch");
	*fpath = mp_path_join(dir, "matrices.sbatch");
	if (!*apath || !*fpath) {
		cli_error("out of memory");
		return CLI_EXIT_FAIL;
	}
	if (mp_dir_prepare(dir, "script directory", &err) != MP_OK ||
	    mp_atomic_write(*apath, array, &err) != MP_OK ||
	    mp_atomic_write(*fpath, final, &err) != MP_OK)
		return cli_fail(&err);
	int rc = submit(*apath, NULL, aid);
	if (rc == CLI_EXIT_OK)
		rc = submit(*fpath, aid, fid);
	if (rc != CLI_EXIT_OK && aid[0])
		cli_error("the array job %s was submitted; cancel it with "
			  "scancel %s",
			  aid, aid);
	return rc;
}

/* text, line by line, escaped for the terminal. */
static void print_lines(const char *text)
{
	char *copy = mp_strdup(text), *save = NULL;
	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save))
		printf("%s\n", cli_esc(l));
	free(copy);
}

static void print_text(const char *dir, const char *array, const char *final)
{
	printf("# --- %s/fingerprints.sbatch ---\n", cli_esc(dir));
	print_lines(array);
	printf("# --- %s/matrices.sbatch ---\n", cli_esc(dir));
	print_lines(final);
	printf("# --- submit them (or run this command with --submit) ---\n"
	       "# job=$(sbatch --parsable %s/fingerprints.sbatch)\n"
	       "# sbatch --dependency=afterok:${job%%%%;*} %s/matrices.sbatch\n",
	       cli_esc(dir), cli_esc(dir));
}

int cmd_slurm(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"tasks", required_argument, NULL, 'n'},
		{"partition", required_argument, NULL, 'p'},
		{"time", required_argument, NULL, 't'},
		{"registry", required_argument, NULL, 'r'},
		{"global-registry", required_argument, NULL, 'g'},
		{"dir", required_argument, NULL, 'd'},
		{"submit", no_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *config = NULL, *regopt = NULL, *globopt = NULL;
	const char *diropt = "modelprint-slurm";
	struct mp_slurm_job job = {0};
	bool do_submit = false, json = false;
	long tasks = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'n':
			if (!cli_parse_int(optarg, 1, 1000000, &tasks))
				return cli_usage_error("slurm", "--tasks needs 1..1000000");
			break;
		case 'p': job.partition = optarg; break;
		case 't': job.time = optarg; break;
		case 'r': regopt = optarg; break;
		case 'g': globopt = optarg; break;
		case 'd': diropt = optarg; break;
		case 's': do_submit = true; break;
		case 'j': json = true; break;
		case 'h':
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option("slurm", argv, opts);
		}
	}
	if (optind < argc)
		return cli_usage_error("slurm", "unexpected argument '%s'",
				       argv[optind]);
	if (!config)
		return cli_usage_error("slurm", "--config FILE is required");
	if (!tasks)
		return cli_usage_error("slurm", "--tasks N is required");
	if (regopt && globopt && strcmp(regopt, globopt) != 0)
		return cli_usage_error("slurm", "--registry and "
						"--global-registry name two "
						"registries; give one");
	char *global = cli_global_registry_dir(globopt);
	const char *reg = regopt ? regopt : global;
	if (!reg) {
		free(global);
		return cli_usage_error("slurm", "the tasks need a registry to "
						"write to (--registry LOC or "
						"--global-registry LOC)");
	}
	int rc = CLI_EXIT_FAIL;
	struct mp_error err;
	struct mp_config *cfg = NULL;
	char *exe = realpath("/proc/self/exe", NULL);
	char *cfgabs = absolute(config), *dir = absolute(diropt);
	char *regabs = mp_registry_is_url(reg) ? mp_strdup(reg) : absolute(reg);
	char *array = NULL, *final = NULL, *apath = NULL, *fpath = NULL;
	char aid[32] = "", fid[32] = "";
	if (!exe || !cfgabs || !dir || !regabs) {
		cli_error("cannot find the absolute paths of the program, the "
			  "config or the directory");
		goto out;
	}
	if (mp_config_load(config, NULL, &cfg, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	job.modelprint = exe;
	job.config = cfgabs;
	job.registry = regabs;
	job.dir = dir;
	job.tasks = (unsigned)tasks;
	if (mp_slurm_scripts(&job, &array, &final, &err) != MP_OK) {
		rc = cli_usage_error("slurm", "%s", err.msg);
		goto out;
	}
	if (do_submit) {
		rc = write_and_submit(dir, array, final, &apath, &fpath, aid, fid);
		if (rc != CLI_EXIT_OK)
			goto out;
	}
	rc = CLI_EXIT_OK;
	if (json) {
		mp_json *j = mp_json_object();
		mp_json_add_str(j, "dir", dir);
		mp_json_add_num(j, "tasks", (double)tasks);
		mp_json_add_str(j, "array_script_text", array);
		mp_json_add_str(j, "final_script_text", final);
		if (do_submit) {
			mp_json_add_str(j, "array_script", apath);
			mp_json_add_str(j, "final_script", fpath);
			mp_json_add_str(j, "array_job", aid);
			mp_json_add_str(j, "final_job", fid);
		}
		cli_print_json(j);
		mp_json_free(j);
	} else if (do_submit) {
		printf("wrote %s\nwrote %s\n", cli_esc(apath), cli_esc(fpath));
		printf("array job %s (%ld tasks), final step %s after it\n", aid,
		       tasks, fid);
		printf("logs in %s, matrices in %s/results\n", cli_esc(dir),
		       cli_esc(dir));
	} else {
		print_text(dir, array, final);
	}
out:
	mp_config_free(cfg);
	free(exe);
	free(cfgabs);
	free(dir);
	free(regabs);
	free(global);
	free(array);
	free(final);
	free(apath);
	free(fpath);
	return rc;
}
