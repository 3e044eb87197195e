/* cmd_registry.c — `modelprint registry add|list|show|rm`. */
#include "cli.h"
#include "model.h"
#include "registry.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint registry [--registry DIR] [--global-registry DIR]\n"
	"                           [--write-to-registry] SUBCOMMAND\n"
	"\n"
	"  add PATH [--id ID] [--name NAME] [--family F] [--type T] [--json]\n"
	"           register a model (file or directory); prints its id\n"
	"  list [--json]      every registered model\n"
	"  show ID [--json]   one model and its stored fingerprints\n"
	"  rm ID              remove a model and its fingerprints\n"
	"\n"
	"  --registry DIR         default $MODELPRINT_REGISTRY, else\n"
	"                         ~/.local/share/modelprint\n"
	"  --global-registry DIR  default $MODELPRINT_GLOBAL_REGISTRY\n"
	"  --write-to-registry    add/rm act on the global registry (it must\n"
	"                         be writable)\n"
	"  -h, --help             this text\n";

static mp_json *model_json(const struct mp_reg_model *m)
{
	mp_json *o = mp_json_object();
	mp_json_add_str(o, "id", m->id);
	mp_json_add_str(o, "name", m->name);
	mp_json_add_str(o, "family", m->family);
	mp_json_add_str(o, "type", m->type);
	mp_json_add_str(o, "path", m->path);
	mp_json_add_str(o, "format", m->format);
	mp_json *fs = mp_json_add_arr(o, "files");
	for (size_t i = 0; i < m->nfiles; i++) {
		mp_json *f = mp_json_object();
		mp_json_add_str(f, "path", m->files[i]);
		mp_json_add_str(f, "sha256", m->sha256[i]);
		mp_json_push(fs, f);
	}
	return o;
}

static int do_add(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},
		{"name", required_argument, NULL, 'n'},
		{"family", required_argument, NULL, 'f'},
		{"type", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *id = NULL;
	struct mp_reg_model rm = {.name = "", .family = "", .type = ""};
	int json = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': id = optarg; break;
		case 'n': rm.name = optarg; break;
		case 'f': rm.family = optarg; break;
		case 't': rm.type = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
		default: return cli_bad_option("registry", argv, opts);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("registry", "add needs one model path");
	char abs[PATH_MAX];
	if (!realpath(argv[optind], abs)) {
		cli_error("%s: no such file or directory", argv[optind]);
		return CLI_EXIT_FAIL;
	}
	struct mp_error err;
	struct mp_model *m;
	if (mp_model_open(abs, &m, &err) != MP_OK)
		return cli_fail(&err);
	rm.path = abs;
	rm.format = (char *)m->format;
	rm.nfiles = m->nfiles;
	rm.files = calloc(m->nfiles + 1, sizeof *rm.files);
	rm.sha256 = calloc(m->nfiles + 1, sizeof *rm.sha256);
	char (*hex)[MP_SHA256_HEX] = calloc(m->nfiles + 1, sizeof *hex);
	int rc = CLI_EXIT_FAIL;
	if (!rm.files || !rm.sha256 || !hex) {
		cli_error("out of memory");
		goto out;
	}
	if (!*rm.name)
		rm.name = strrchr(abs, '/') ? strrchr(abs, '/') + 1 : abs;
	for (size_t i = 0; i < m->nfiles; i++) {
		if (mp_fp_hash_file(&m->files[i], hex[i], &err) != MP_OK) {
			cli_fail(&err);
			goto out;
		}
		rm.files[i] = m->files[i].path;
		rm.sha256[i] = hex[i];
	}
	char *got;
	if (mp_registry_add(dir, &rm, id, &got, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	if (json) {
		rm.id = got;
		mp_json *j = model_json(&rm);
		cli_print_json(j);
		mp_json_free(j);
	} else {
		printf("%s\n", cli_esc(got));
	}
	free(got);
	rc = CLI_EXIT_OK;
out:
	free(rm.files);
	free(rm.sha256);
	free(hex);
	mp_model_free(m);
	return rc;
}

static int do_list_show(const char *dir, int show, int argc, char **argv)
{
	int json = 0;
	const char *id = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		} else if (show && !id && argv[i][0] != '-')
			id = argv[i];
		else
			return cli_usage_error("registry", "unexpected '%s'", argv[i]);
	}
	if (show && !id)
		return cli_usage_error("registry", "show needs a model id");
	struct mp_error err;
	struct mp_registry *r;
	if (mp_registry_load(dir, &r, &err) != MP_OK)
		return cli_fail(&err);
	int rc = CLI_EXIT_OK;
	if (show) {
		const struct mp_reg_model *m = mp_registry_find(r, id);
		if (!m) {
			cli_error("%s: no model with id '%s'", dir, id);
			mp_registry_free(r);
			return CLI_EXIT_FAIL;
		}
		mp_json *j = model_json(m);
		mp_json *fps = mp_json_add_arr(j, "fingerprints");
		for (const char *const *me = mp_method_names(); *me; me++) {
			struct mp_fingerprint *fp;
			if (mp_registry_get_fp(dir, id, *me, &fp, NULL) == MP_OK) {
				mp_json_push_str(fps, *me);
				mp_fp_free(fp);
			}
		}
		if (json) {
			cli_print_json(j);
		} else {
			printf("id:      %s\nname:    %s\nfamily:  %s\ntype:    %s\n"
			       "format:  %s\npath:    %s\n",
			       cli_esc(m->id), cli_esc(m->name),
			       cli_esc(m->family), cli_esc(m->type),
			       cli_esc(m->format), cli_esc(m->path));
			for (size_t i = 0; i < m->nfiles; i++)
				printf("file:    %s  %s\n",
				       cli_esc(m->sha256[i]),
				       cli_esc(m->files[i]));
			printf("fingerprints:");
			for (size_t i = 0; i < mp_json_size(fps); i++)
				printf(" %s", mp_json_str(mp_json_at(fps, i)));
			printf("%s\n", mp_json_size(fps) ? "" : " none");
		}
		mp_json_free(j);
	} else if (json) {
		mp_json *a = mp_json_array();
		for (size_t i = 0; i < r->nmodels; i++)
			mp_json_push(a, model_json(&r->models[i]));
		cli_print_json(a);
		mp_json_free(a);
	} else {
		printf("%-6s %-32s %-16s %-10s %-11s %s\n", "ID", "NAME", "FAMILY",
		       "TYPE", "FORMAT", "PATH");
		for (size_t i = 0; i < r->nmodels; i++) {
			const struct mp_reg_model *m = &r->models[i];
			printf("%s %s %s %s %s %s\n", cli_cell(m->id, 6, 0),
			       cli_cell(m->name, 32, 0),
			       cli_cell(m->family, 16, 0),
			       cli_cell(m->type, 10, 0),
			       cli_cell(m->format, 11, 0), cli_esc(m->path));
		}
	}
	mp_registry_free(r);
	return rc;
}

/* The registry options may stand before or after the subcommand
 * ("registry --registry D list" and "registry list --registry D"): they are
 * taken out of argv wherever they are, and the rest is compacted in place. */
int cmd_registry(int argc, char **argv)
{
	const char *regopt = NULL, *globopt = NULL;
	int write_global = 0, i = 0, kept = 1;
	for (int a = 1; a < argc; a++) {
		const char **slot = !strcmp(argv[a], "--registry") ? &regopt
				    : !strcmp(argv[a], "--global-registry")
					? &globopt
					: NULL;
		if (slot) {
			if (a + 1 >= argc)
				return cli_usage_error("registry",
						       "%s needs a directory",
						       argv[a]);
			*slot = argv[++a];
		} else if (!strcmp(argv[a], "--write-to-registry")) {
			write_global = 1;
		} else {
			argv[kept++] = argv[a];
		}
	}
	argc = kept;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		}
		return cli_usage_error("registry", "bad option '%s'", argv[i]);
	}
	if (i >= argc)
		return cli_usage_error("registry", "needs a subcommand: add, list, "
						   "show or rm");
	const char *sub = argv[i];
	int sargc = argc - i;
	char **sargv = argv + i;
	int writes = !strcmp(sub, "add") || !strcmp(sub, "rm");
	char *dir;
	struct mp_error err;
	if (write_global) {
		dir = cli_global_registry_dir(globopt);
		if (!dir)
			return cli_usage_error("registry",
					       "--write-to-registry needs a global "
					       "registry (--global-registry DIR or "
					       "$MODELPRINT_GLOBAL_REGISTRY)");
		if (writes && mp_registry_check_writable(dir, &err) != MP_OK) {
			cli_error("refusing --write-to-registry: %s", err.msg);
			free(dir);
			return CLI_EXIT_FAIL;
		}
	} else {
		dir = cli_registry_dir(regopt);
	}
	int rc;
	if (!strcmp(sub, "add"))
		rc = do_add(dir, sargc, sargv);
	else if (!strcmp(sub, "list"))
		rc = do_list_show(dir, 0, sargc, sargv);
	else if (!strcmp(sub, "show"))
		rc = do_list_show(dir, 1, sargc, sargv);
	else if (!strcmp(sub, "rm")) {
		if (sargc != 2)
			rc = cli_usage_error("registry", "rm needs one model id");
		else if (mp_registry_remove(dir, sargv[1], &err) != MP_OK)
			rc = cli_fail(&err);
		else
			rc = CLI_EXIT_OK;
	} else {
		static const char *const subs[] = {"add", "list", "show", "rm"};
		const char *near = cli_nearest(sub, subs, 4);
		rc = near ? cli_usage_error("registry", "unknown subcommand "
							"'%s'; did you mean "
							"'%s'?", sub, near)
			  : cli_usage_error("registry", "unknown subcommand '%s' "
							"(add, list, show, rm)",
					    sub);
	}
	free(dir);
	return rc;
}
