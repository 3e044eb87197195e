/* cmd_tokenize.c — `modelprint tokenize MODEL TEXT...`: the token ids the
 * model's tokenizer gives each text. */
#include "cli.h"
#include "escape.h"
#include "json.h"
#include "tokenizer.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
	"usage: modelprint tokenize [--pieces] [--bos] [--json] MODEL TEXT...\n"
	"\n"
	"Print the token ids the tokenizer of MODEL gives each TEXT, one line\n"
	"per text, without special tokens. MODEL is a model (its GGUF\n"
	"tokenizer.ggml.* metadata, else the tokenizer.json in its\n"
	"directory), a tokenizer.json or a vocabulary GGUF.\n"
	"\n"
	"  --pieces   print each token as ID:PIECE (the vocabulary's text)\n"
	"  --bos      begin each text with the BOS token\n"
	"  --json     print a JSON document: the tokenizer, and per text its\n"
	"             ids and pieces\n"
	"  -h, --help this text\n";

/* A regular file that is a tokenizer by itself: *.json, or GGUF. */
static bool tokenizer_file(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	if (mp_ends_with(path, ".json") || mp_ends_with(path, ".gguf"))
		return true;
	FILE *f = fopen(path, "rb");
	char b[4] = {0};
	bool gguf = f && fread(b, 1, 4, f) == 4 && !memcmp(b, "GGUF", 4);
	if (f)
		fclose(f);
	return gguf;
}

static mp_status open_tokenizer(const char *path, struct mp_tokenizer **t,
				struct mp_error *err)
{
	if (tokenizer_file(path))
		return mp_tokenizer_open_file(path, t, err);
	struct mp_model *m;
	mp_status s = mp_model_open(path, &m, err);
	if (s != MP_OK)
		return s;
	s = mp_tokenizer_open(m, t, err);
	mp_model_free(m);
	return s;
}

static void print_line(const struct mp_tokenizer *t, const int32_t *ids,
		       size_t n, bool pieces)
{
	for (size_t i = 0; i < n; i++) {
		printf(i ? " %ld" : "%ld", (long)ids[i]);
		if (pieces)
			printf(":%s", cli_esc(mp_tokenizer_piece(t, ids[i])));
	}
	putchar('\n');
}

static bool add_json(mp_json *texts, const struct mp_tokenizer *t,
		     const char *text, const int32_t *ids, size_t n)
{
	mp_json *o = mp_json_object();
	if (!o || !mp_json_push(texts, o) || !mp_json_add_str(o, "text", text))
		return false;
	mp_json *a = mp_json_add_arr(o, "ids"), *p = mp_json_add_arr(o, "pieces");
	if (!a || !p)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!mp_json_push_num(a, ids[i]) ||
		    !mp_json_push_str(p, mp_tokenizer_piece(t, ids[i])))
			return false;
	return true;
}

static int print_json(mp_json *doc)
{
	char *s = mp_json_print(doc, true);
	bool oom = false;
	char *safe = s ? mp_escape_json_text(s, &oom) : NULL;
	if (!s || oom) {
		free(s);
		cli_error("out of memory");
		return CLI_EXIT_FAIL;
	}
	puts(safe ? safe : s);
	free(safe);
	free(s);
	return CLI_EXIT_OK;
}

int cmd_tokenize(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pieces", no_argument, NULL, 'p'},
		{"bos", no_argument, NULL, 'b'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	bool pieces = false, bos = false, json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pieces = true; break;
		case 'b': bos = true; break;
		case 'j': json = true; break;
		case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
		default: return cli_bad_option("tokenize", argv, opts);
		}
	}
	if (argc - optind < 2)
		return cli_usage_error("tokenize", "MODEL and at least one TEXT "
						   "are required");
	struct mp_error err;
	struct mp_tokenizer *t;
	if (open_tokenizer(argv[optind], &t, &err) != MP_OK)
		return cli_fail(&err);
	mp_json *doc = json ? mp_json_object() : NULL;
	mp_json *texts = NULL;
	bool ok = !json ||
		  (doc && mp_json_add_str(doc, "tokenizer", mp_tokenizer_kind(t)) &&
		   mp_json_add_num(doc, "vocab_size",
				   (double)mp_tokenizer_vocab_size(t)) &&
		   (texts = mp_json_add_arr(doc, "texts")));
	int rc = ok ? CLI_EXIT_OK : (cli_error("out of memory"), CLI_EXIT_FAIL);
	for (int i = optind + 1; i < argc && rc == CLI_EXIT_OK; i++) {
		int32_t *ids;
		size_t n;
		if (mp_tokenizer_encode(t, argv[i], strlen(argv[i]), bos, &ids,
					&n, &err) != MP_OK) {
			rc = cli_fail(&err);
			break;
		}
		if (!json)
			print_line(t, ids, n, pieces);
		else if (!add_json(texts, t, argv[i], ids, n))
			rc = (cli_error("out of memory"), CLI_EXIT_FAIL);
		free(ids);
	}
	if (json && rc == CLI_EXIT_OK)
		rc = print_json(doc);
	mp_json_free(doc);
	mp_tokenizer_free(t);
	if (rc == CLI_EXIT_OK && fflush(stdout) != 0)
		rc = (cli_error("cannot write the output"), CLI_EXIT_FAIL);
	return rc;
}
