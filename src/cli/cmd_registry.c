/* cmd_registry.c — `modelprint registry add|list|show|rm|export|import|
 * init`. */
#include "cli.h"
#include "model.h"
#include "registry.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint registry [--registry LOC] [--global-registry LOC]\n"
	"                           [--write-to-registry] SUBCOMMAND\n"
	"\n"
	"  add PATH [--id ID] [--name NAME] [--family F] [--type T] [--force]\n"
	"           [--fingerprint] [--json]  register a model (file or\n"
	"                     directory); prints its id; a model already\n"
	"                     registered is refused unless --force;\n"
	"                     --fingerprint also stores its tensors\n"
	"                     fingerprint (what identify compares)\n"
	"  list [--family F] [--type T] [--name GLOB] [--format FMT] [--json]\n"
	"                     the registered models the filters keep\n"
	"  show ID [--json]   one model and its stored fingerprints\n"
	"  rm ID              remove a model and its fingerprints (its id is\n"
	"                     never given to another model)\n"
	"  export DIR         write the registry as models.json and\n"
	"                     fingerprints/ in a new directory\n"
	"  import LOC         add the models of another registry\n"
	"  init [--global LOC]  create the registry (a PostgreSQL one: the\n"
	"                     schema and the roles modelprint_reader and\n"
	"                     modelprint_writer; run once by an administrator)\n"
	"\n"
	"LOC is a directory (its registry.db), a SQLite file, or a\n"
	"postgresql:// URL.\n"
	"  --registry LOC         default $MODELPRINT_REGISTRY, else\n"
	"                         ~/.local/share/modelprint\n"
	"  --global-registry LOC  default $MODELPRINT_GLOBAL_REGISTRY\n"
	"  --write-to-registry    act on the global registry (add, rm, import\n"
	"                         need its writer privileges)\n"
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
	if (m->added && *m->added)
		mp_json_add_str(o, "added", m->added);
	mp_json *fs = mp_json_add_arr(o, "files");
	for (size_t i = 0; i < m->nfiles; i++) {
		mp_json *f = mp_json_object();
		mp_json_add_str(f, "path", m->files[i]);
		mp_json_add_str(f, "sha256", m->sha256[i]);
		if (m->sizes)
			mp_json_add_num(f, "size", (double)m->sizes[i]);
		mp_json_push(fs, f);
	}
	return o;
}

/* Open the registry (for writing when write), failing on the CLI. */
static struct mp_regdb *open_or_fail(const char *loc, bool write)
{
	struct mp_error err;
	struct mp_regdb *db;
	if (mp_regdb_open(loc, write, &db, &err) != MP_OK) {
		cli_fail(&err);
		return NULL;
	}
	return db;
}

static int do_add(const char *loc, int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},
		{"name", required_argument, NULL, 'n'},
		{"family", required_argument, NULL, 'f'},
		{"type", required_argument, NULL, 't'},
		{"force", no_argument, NULL, 'F'},
		{"fingerprint", no_argument, NULL, 'P'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *id = NULL;
	struct mp_reg_model rm = {.name = "", .family = "", .type = ""};
	int json = 0, want_fp = 0, c;
	unsigned flags = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': id = optarg; break;
		case 'n': rm.name = optarg; break;
		case 'f': rm.family = optarg; break;
		case 't': rm.type = optarg; break;
		case 'F': flags |= MP_REG_FORCE; break;
		case 'P': want_fp = 1; break;
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
	rm.sizes = calloc(m->nfiles + 1, sizeof *rm.sizes);
	char (*hex)[MP_SHA256_HEX] = calloc(m->nfiles + 1, sizeof *hex);
	int rc = CLI_EXIT_FAIL;
	struct mp_regdb *db = NULL;
	struct mp_fingerprint *fp = NULL;
	if (!rm.files || !rm.sha256 || !rm.sizes || !hex) {
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
		rm.sizes[i] = m->files[i].size;
	}
	char *got;
	if (!(db = open_or_fail(loc, true)))
		goto out;
	/* the fingerprint first: a model that cannot be read is not added */
	if (want_fp) {
		struct cli_progress pr;
		mp_status st = mp_fp_compute(m, "tensors", NULL, 0,
					     cli_progress_start(&pr, abs), &fp,
					     &err);
		cli_progress_end(&pr);
		if (st != MP_OK) {
			cli_fail(&err);
			goto out;
		}
	}
	if (mp_regdb_add(db, &rm, id, flags, &got, &err) != MP_OK) {
		cli_fail(&err);
		goto out;
	}
	if (fp && mp_regdb_put_fp(db, got, fp, &err) != MP_OK) {
		cli_error("%s (model %s is registered without its "
			  "fingerprint)",
			  err.msg, got);
		free(got);
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
	mp_fp_free(fp);
	mp_regdb_close(db);
	free(rm.files);
	free(rm.sha256);
	free(rm.sizes);
	free(hex);
	mp_model_free(m);
	return rc;
}

static void print_table(const struct mp_registry *r)
{
	printf("%-6s %-32s %-16s %-10s %-11s %s\n", "ID", "NAME", "FAMILY",
	       "TYPE", "FORMAT", "PATH");
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct mp_reg_model *m = &r->models[i];
		printf("%s %s %s %s %s %s\n", cli_cell(m->id, 6, 0),
		       cli_cell(m->name, 32, 0), cli_cell(m->family, 16, 0),
		       cli_cell(m->type, 10, 0), cli_cell(m->format, 11, 0),
		       cli_esc(m->path));
	}
}

static int do_list(const char *loc, int argc, char **argv)
{
	static const struct option opts[] = {
		{"family", required_argument, NULL, 'f'},
		{"type", required_argument, NULL, 't'},
		{"name", required_argument, NULL, 'n'},
		{"format", required_argument, NULL, 'F'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct mp_reg_filter f = {0};
	int json = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': f.family = optarg; break;
		case 't': f.type = optarg; break;
		case 'n': f.name_glob = optarg; break;
		case 'F': f.format = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
		default: return cli_bad_option("registry", argv, opts);
		}
	}
	if (optind < argc)
		return cli_usage_error("registry", "unexpected '%s'", argv[optind]);
	struct mp_error err;
	struct mp_regdb *db = open_or_fail(loc, false);
	struct mp_registry *r;
	if (!db)
		return CLI_EXIT_FAIL;
	if (mp_regdb_list(db, &f, &r, &err) != MP_OK) {
		mp_regdb_close(db);
		return cli_fail(&err);
	}
	if (json) {
		mp_json *a = mp_json_array();
		for (size_t i = 0; i < r->nmodels; i++)
			mp_json_push(a, model_json(&r->models[i]));
		cli_print_json(a);
		mp_json_free(a);
	} else {
		print_table(r);
	}
	mp_registry_free(r);
	mp_regdb_close(db);
	return CLI_EXIT_OK;
}

static int do_show(const char *loc, int argc, char **argv)
{
	int json = 0;
	const char *id = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		} else if (!id && argv[i][0] != '-')
			id = argv[i];
		else
			return cli_usage_error("registry", "unexpected '%s'", argv[i]);
	}
	if (!id)
		return cli_usage_error("registry", "show needs a model id");
	struct mp_error err;
	struct mp_regdb *db = open_or_fail(loc, false);
	struct mp_reg_model *m;
	char **methods = NULL;
	if (!db)
		return CLI_EXIT_FAIL;
	if (mp_regdb_get(db, id, &m, &err) != MP_OK ||
	    mp_regdb_fp_methods(db, id, &methods, &err) != MP_OK) {
		mp_regdb_close(db);
		return cli_fail(&err);
	}
	mp_json *j = model_json(m);
	mp_json *fps = mp_json_add_arr(j, "fingerprints");
	for (size_t i = 0; methods[i]; i++)
		mp_json_push_str(fps, methods[i]);
	if (json) {
		cli_print_json(j);
	} else {
		printf("id:      %s\nname:    %s\nfamily:  %s\ntype:    %s\n"
		       "format:  %s\npath:    %s\n",
		       cli_esc(m->id), cli_esc(m->name), cli_esc(m->family),
		       cli_esc(m->type), cli_esc(m->format), cli_esc(m->path));
		if (m->added && *m->added)
			printf("added:   %s\n", cli_esc(m->added));
		for (size_t i = 0; i < m->nfiles; i++)
			printf("file:    %s  %s\n", cli_esc(m->sha256[i]),
			       cli_esc(m->files[i]));
		printf("fingerprints:");
		for (size_t i = 0; methods[i]; i++)
			printf(" %s", cli_esc(methods[i]));
		printf("%s\n", methods[0] ? "" : " none");
	}
	mp_json_free(j);
	mp_strv_free(methods);
	mp_reg_model_free(m);
	mp_regdb_close(db);
	return CLI_EXIT_OK;
}

/* rm, export, import: one argument each. */
static int do_one_arg(const char *loc, const char *sub, int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_text, stdout);
		return CLI_EXIT_OK;
	}
	const char *what = !strcmp(sub, "rm") ? "a model id"
			   : !strcmp(sub, "export") ? "a new directory"
						    : "a registry";
	if (argc != 2)
		return cli_usage_error("registry", "%s needs %s", sub, what);
	struct mp_error err;
	struct mp_regdb *db = open_or_fail(loc, strcmp(sub, "export") != 0);
	if (!db)
		return CLI_EXIT_FAIL;
	mp_status st;
	if (!strcmp(sub, "rm")) {
		st = mp_regdb_remove(db, argv[1], &err);
	} else if (!strcmp(sub, "export")) {
		st = mp_regdb_export(db, argv[1], &err);
	} else {
		size_t added, skipped;
		st = mp_regdb_import(db, argv[1], &added, &skipped, &err);
		if (st == MP_OK)
			printf("imported %zu models (%zu already there)\n", added,
			       skipped);
	}
	mp_regdb_close(db);
	return st == MP_OK ? CLI_EXIT_OK : cli_fail(&err);
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
						       "%s needs a location",
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
						   "show, rm, export, import or "
						   "init");
	const char *sub = argv[i];
	int sargc = argc - i;
	char **sargv = argv + i;
	static const char *const subs[] = {"add",    "list",   "show", "rm",
					   "export", "import", "init"};
	size_t k = 0;
	while (k < 7 && strcmp(sub, subs[k]) != 0)
		k++;
	if (k == 7) {
		const char *near = cli_nearest(sub, subs, 7);
		return near ? cli_usage_error("registry", "unknown subcommand "
							  "'%s'; did you mean "
							  "'%s'?", sub, near)
			    : cli_usage_error("registry", "unknown subcommand "
							  "'%s' (add, list, show, "
							  "rm, export, import, "
							  "init)",
					      sub);
	}
	int writes = !strcmp(sub, "add") || !strcmp(sub, "rm") ||
		     !strcmp(sub, "import");
	char *loc;
	struct mp_error err;
	bool global = write_global || (!strcmp(sub, "init") && globopt);
	if (global) {
		loc = cli_global_registry_dir(globopt);
		if (!loc)
			return cli_usage_error("registry",
					       "--write-to-registry needs a global "
					       "registry (--global-registry LOC or "
					       "$MODELPRINT_GLOBAL_REGISTRY)");
	} else {
		loc = cli_registry_dir(regopt);
	}
	int rc = CLI_EXIT_OK;
	if (!strcmp(sub, "init")) {
		const char *target = loc;
		if (sargc == 3 && !strcmp(sargv[1], "--global"))
			target = sargv[2];
		else if (sargc != 1)
			rc = cli_usage_error("registry", "usage: registry init "
							 "[--global LOC]");
		if (sargc == 1 || target != loc)
			rc = mp_regdb_init(target, &err) != MP_OK
				     ? cli_fail(&err)
				     : printf("initialised %s\n", cli_esc(target)) < 0;
		free(loc);
		return rc;
	}
	if (write_global && writes) {
		/* before hashing any file: refuse without the privileges */
		struct mp_regdb *db;
		if (mp_regdb_open(loc, true, &db, &err) != MP_OK ||
		    mp_regdb_check_write(db, &err) != MP_OK) {
			cli_error("refusing --write-to-registry: %s", err.msg);
			mp_regdb_close(db);
			free(loc);
			return CLI_EXIT_FAIL;
		}
		mp_regdb_close(db);
	}
	if (!strcmp(sub, "add"))
		rc = do_add(loc, sargc, sargv);
	else if (!strcmp(sub, "list"))
		rc = do_list(loc, sargc, sargv);
	else if (!strcmp(sub, "show"))
		rc = do_show(loc, sargc, sargv);
	else
		rc = do_one_arg(loc, sub, sargc, sargv);
	free(loc);
	return rc;
}
