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
	"usage: modelprint tui [--registry DIR] [--results FILE]\n"
	"                      [--model-info FILE] [--keys]\n"
	"                      [--screen KEYS [--size WxH]]\n"
	"\n"
	"Browse models, similarity heatmaps and model details in the\n"
	"terminal. Without --registry and --results it opens the bundled demo\n"
	"data (48 TF.js models).\n"
	"\n"
	"  --registry DIR   models and fingerprints (default: the demo's)\n"
	"  --results FILE   similarity_matrices.json of `modelprint run`\n"
	"  --model-info FILE  names, families and types (JSON array of\n"
	"                   model_id, family, model_type, display_name);\n"
	"                   default: the registry's\n"
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
		{"keys", no_argument, NULL, 'k'},
		{"screen", required_argument, NULL, 's'},
		{"size", required_argument, NULL, 'z'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct mp_tui_paths p = {NULL, NULL, NULL};
	const char *script = NULL;
	int w = 80, h = 24, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': p.registry = optarg; break;
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
	char reg[4200], res[4200], info[4200];
	if (!p.registry && !p.results && !p.model_info) {
		const char *demo = demo_dir();
		if (!demo) {
			cli_error("the demo data is not installed (looked in %s "
				  "and %s)", MP_DATADIR, MP_SRCDATADIR);
			return CLI_EXIT_FAIL;
		}
		snprintf(reg, sizeof reg, "%s/registry", demo);
		snprintf(res, sizeof res, "%s/results/similarity_matrices.json",
			 demo);
		snprintf(info, sizeof info, "%s/model-info.json", demo);
		p.registry = reg;
		p.results = res;
		p.model_info = info;
	}
	if (script)
		return screen(&p, script, w, h);
	if (!isatty(0) || !isatty(1)) {
		cli_error("tui needs a terminal: stdin and stdout must be a "
			  "terminal (use --screen KEYS for a text dump)");
		return CLI_EXIT_FAIL;
	}
	return mp_term_run(&p);
}
