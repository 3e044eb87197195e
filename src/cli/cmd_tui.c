/* cmd_tui.c — `modelprint tui`: the interactive interface, its key table,
 * and a terminal-free screen dump for tests. */
#include "cli.h"
#include "term.h"
#include "view.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: modelprint tui [--registry DIR] [--results DIR|FILE]\n"
	"                      [--model-info FILE] [--keys]\n"
	"                      [--identify MODEL [--against REGISTRY]]\n"
	"                      [--sparsity MODEL] [--sweep SWEEP]\n"
	"                      [--screen KEYS [--size WxH]]\n"
	"\n"
	"Browse models, similarity heatmaps and model details in the\n"
	"terminal. Without options it opens your registry\n"
	"($MODELPRINT_REGISTRY, else ~/.local/share/modelprint) with the\n"
	"newest run output of ./modelprint-results and REGISTRY/results;\n"
	"without a registry, the bundled demo data (48 TF.js models).\n"
	"\n"
	"  --registry DIR   models and fingerprints\n"
	"  --results DIR    output directory of `modelprint run`\n"
	"                   (similarity_matrices.json, fingerprints.json), or\n"
	"                   its similarity_matrices.json\n"
	"  --model-info FILE  names, families and types (JSON array of\n"
	"                   model_id, family, model_type, display_name);\n"
	"                   default: the registry's\n"
	"  --identify MODEL open on where MODEL (a file or directory) comes\n"
	"                   from: its tensors fingerprint identified against\n"
	"                   the models of the registry (modelprint-identify(1))\n"
	"  --against DIR    the registry to identify against (same as\n"
	"                   --registry)\n"
	"  --sparsity MODEL open on the cluster explorer of MODEL's matrices:\n"
	"                   zeros, pruning pattern, Hamming-nearest features\n"
	"                   and their k-means clusters (modelprint-sparsity(1))\n"
	"  --sweep SWEEP    open on a sweep (a manifest or the directory of\n"
	"                   `sweep synth --out`): the heatmaps of its three\n"
	"                   metrics, accuracy by width, the profile of a\n"
	"                   model and the metric correlation\n"
	"                   (modelprint-sweep(1)); computed on open\n"
	"  --keys           print the key table (key, view, action) and exit\n"
	"  --screen KEYS    no terminal: replay the key script KEYS (e.g.\n"
	"                   'jj<Enter>') and print the screen as text\n"
	"  --size WxH       screen size for --screen (default 80x24)\n"
	"  -h, --help       this text\n"
	"\n"
	"Keys: press ? in the interface, or see man modelprint-tui.\n";

/* The demo directory: installed data first, else the source tree's. */
static const char *demo_dir(void)
{
	static char buf[4096];
	const char *roots[] = {MP_DATADIR, MP_SRCDATADIR};
	for (size_t i = 0; i < 2; i++) {
		struct stat sb;
		snprintf(buf, sizeof buf, "%s/demo/registry/models.json",
			 roots[i]);
		if (stat(buf, &sb) == 0) {
			snprintf(buf, sizeof buf, "%s/demo", roots[i]);
			return buf;
		}
	}
	return NULL;
}

static bool is_file(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static bool is_dir(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* mtime of dir/similarity_matrices.json, -1 without one. */
static double results_mtime(const char *dir)
{
	char path[4200];
	struct stat sb;
	snprintf(path, sizeof path, "%s/similarity_matrices.json", dir);
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return -1;
	return (double)sb.st_mtim.tv_sec + 1e-9 * (double)sb.st_mtim.tv_nsec;
}

/* The paths the interface reads, and the strings they point into. */
struct sources {
	char *registry; /* the default registry (malloc'd), or NULL */
	char reg[4200], res[4200], fps[4200], info[4200], dir[4200];
	char origin[512];
};

/* --results DIR means DIR/similarity_matrices.json; DIR/fingerprints.json
 * (or the one beside FILE) gives the detail view its fingerprints. */
static void results_paths(struct mp_tui_paths *p, struct sources *s)
{
	const char *r = p->results;
	if (is_dir(r)) {
		snprintf(s->res, sizeof s->res, "%s/similarity_matrices.json", r);
		snprintf(s->fps, sizeof s->fps, "%s/fingerprints.json", r);
		p->results = s->res;
	} else {
		const char *slash = strrchr(r, '/');
		int n = slash ? (int)(slash - r) : 1;
		snprintf(s->fps, sizeof s->fps, "%.*s/fingerprints.json", n,
			 slash ? r : ".");
	}
	if (is_file(s->fps))
		p->fingerprints = s->fps;
}

/* No options: the user's registry when there is one, with the
 * newer of ./modelprint-results (run's default --output-dir) and
 * REGISTRY/results; else the demo. */
static int resolve_default(struct mp_tui_paths *p, struct sources *s)
{
	s->registry = cli_registry_dir(NULL);
	if (!s->registry) {
		cli_error("out of memory");
		return CLI_EXIT_FAIL;
	}
	if (mp_registry_exists(s->registry)) {
		char own[4200];
		snprintf(own, sizeof own, "%s/results", s->registry);
		double t0 = results_mtime("modelprint-results"),
		       t1 = results_mtime(own);
		const char *dir = t0 < 0 && t1 < 0 ? NULL
				  : t0 >= t1       ? "modelprint-results" : own;
		p->registry = s->registry;
		if (dir) {
			snprintf(s->dir, sizeof s->dir, "%s", dir);
			p->results = s->dir;
			results_paths(p, s);
		}
		snprintf(s->origin, sizeof s->origin,
			 dir ? "your registry %s, results %s/"
			     : "your registry %s; no run output (--results DIR)%s",
			 s->registry, dir ? dir : "");
		p->origin = s->origin;
		return CLI_EXIT_OK;
	}
	const char *demo = demo_dir();
	if (!demo) {
		cli_error("the demo data is not installed (looked in %s "
			  "and %s)", MP_DATADIR, MP_SRCDATADIR);
		return CLI_EXIT_FAIL;
	}
	snprintf(s->reg, sizeof s->reg, "%s/registry", demo);
	snprintf(s->res, sizeof s->res, "%s/results/similarity_matrices.json",
		 demo);
	snprintf(s->info, sizeof s->info, "%s/model-info.json", demo);
	snprintf(s->origin, sizeof s->origin,
		 "demo data: no registry at %s",
		 s->registry);
	p->registry = s->reg;
	p->results = s->res;
	p->model_info = s->info;
	p->origin = s->origin;
	return CLI_EXIT_OK;
}

static int resolve(struct mp_tui_paths *p, struct sources *s)
{
	s->registry = NULL;
	if (!p->registry && !p->results && !p->model_info)
		return resolve_default(p, s);
	if (p->results)
		results_paths(p, s);
	return CLI_EXIT_OK;
}

static int print_keys(void)
{
	size_t n;
	const struct mp_keydef *k = mp_keymap(&n);
	for (size_t i = 0; i < n; i++)
		printf("%s\t%s\t%s\n", k[i].name, k[i].scope, k[i].help);
	return CLI_EXIT_OK;
}

static int screen(const struct mp_tui_paths *p, const char *script, int w,
		  int h)
{
	static int keys[4096];
	char bad[32];
	int nk = mp_keys_parse(script, keys, 4096, bad);
	if (nk < 0)
		return cli_usage_error("tui", "unknown key <%s> in --screen", bad);
	struct mp_error err;
	struct mp_tui_data *d;
	if (mp_tui_data_load(p, NULL, &d, &err) != MP_OK)
		return cli_fail(&err);
	struct mp_tui *t = mp_tui_new(d, mp_term_caps_from_env());
	struct mp_canvas *c = mp_canvas_new(w, h);
	char *text = NULL;
	if (t && ((p->identify &&
		   mp_tui_identify_file(t, p->identify, &err) != MP_OK) ||
		  (p->sparsity &&
		   mp_tui_sparsity_file(t, p->sparsity, &err) != MP_OK) ||
		  (p->sweep && mp_tui_sweep_file(t, p->sweep, &err) != MP_OK))) {
		mp_tui_free(t);
		mp_canvas_free(c);
		mp_tui_data_free(d);
		return cli_fail(&err);
	}
	if (t && c) {
		mp_tui_draw(t, c); /* views learn the screen size */
		for (int i = 0; i < nk && !t->quit; i++) {
			mp_tui_key(t, keys[i]);
			mp_tui_draw(t, c);
		}
		text = mp_canvas_to_text(c);
	}
	if (text)
		fputs(text, stdout);
	else
		cli_error("out of memory");
	free(text);
	mp_canvas_free(c);
	mp_tui_free(t);
	mp_tui_data_free(d);
	return text ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cmd_tui(int argc, char **argv)
{
	static const struct option opts[] = {
		{"registry", required_argument, NULL, 'r'},
		{"results", required_argument, NULL, 'R'},
		{"model-info", required_argument, NULL, 'i'},
		{"identify", required_argument, NULL, 'I'},
		{"against", required_argument, NULL, 'a'},
		{"sparsity", required_argument, NULL, 'S'},
		{"sweep", required_argument, NULL, 'W'},
		{"keys", no_argument, NULL, 'k'},
		{"screen", required_argument, NULL, 's'},
		{"size", required_argument, NULL, 'z'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct mp_tui_paths p = {0};
	const char *script = NULL;
	int w = 80, h = 24, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
		case 'a':
			if (p.registry)
				return cli_usage_error("tui", "give the registry "
							      "once (--registry "
							      "or --against)");
			p.registry = optarg;
			break;
		case 'I': p.identify = optarg; break;
		case 'S': p.sparsity = optarg; break;
		case 'W': p.sweep = optarg; break;
		case 'R': p.results = optarg; break;
		case 'i': p.model_info = optarg; break;
		case 'k': return print_keys();
		case 's': script = optarg; break;
		case 'z':
			if (sscanf(optarg, "%dx%d", &w, &h) != 2 || w < 20 ||
			    h < 6 || w > 1000 || h > 1000)
				return cli_usage_error("tui", "bad --size '%s' "
							      "(WxH, at least 20x6)",
						       optarg);
			break;
		case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
		default: return cli_bad_option("tui", argv, opts);
		}
	}
	if (optind < argc)
		return cli_usage_error("tui", "unexpected argument '%s'",
				       argv[optind]);
	if ((p.identify != NULL) + (p.sparsity != NULL) + (p.sweep != NULL) > 1)
		return cli_usage_error("tui", "give one of --identify, "
					      "--sparsity and --sweep");
	struct sources src;
	int rc = resolve(&p, &src);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (script)
		rc = screen(&p, script, w, h);
	else if (!isatty(0) || !isatty(1)) {
		cli_error("tui needs a terminal: stdin and stdout must be a "
			  "terminal (use --screen KEYS for a text dump)");
		rc = CLI_EXIT_FAIL;
	} else {
		rc = mp_term_run(&p);
	}
	free(src.registry);
	return rc;
}
