/* ident_declared.c — what the unknown says of its own origin (GGUF
 * general.base_model.*, general.architecture), set beside identify's
 * measured answer, and whether the two agree (identify.h).
 *
 * Names are compared as words: lowercase runs of letters and digits,
 * without the words every model name shares ("model", "gguf", ...). Two
 * names agree when at least half of the declared name's words are words
 * of the parent (a word matches another that it begins, so "fixture"
 * matches "fixtures"), and the size words ("7b", "70b", "135m") of the
 * two, when both have some, are the same. The parent's words come from
 * its name, id, path and what its own metadata says it is. */
#include "ident_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAXW 48
#define WLEN 24

struct words {
	char w[MAXW][WLEN];
	int n;
};

static bool generic(const char *w)
{
	static const char *const g[] = {"model", "models",	"gguf", "bin",
					"safetensors", "hf", "the", "of", NULL};
	for (int i = 0; g[i]; i++)
		if (!strcmp(w, g[i]))
			return true;
	return false;
}

static void add_words(struct words *ws, const char *s)
{
	while (s && *s) {
		while (*s && !isalnum((unsigned char)*s))
			s++;
		char w[WLEN];
		size_t n = 0;
		while (isalnum((unsigned char)*s)) {
			if (n + 1 < WLEN)
				w[n++] = (char)tolower((unsigned char)*s);
			s++;
		}
		w[n] = 0;
		if (n && !generic(w) && ws->n < MAXW)
			memcpy(ws->w[ws->n++], w, n + 1);
	}
}

/* "7b", "1.5b" (as "1", "5b"), "135m": a number of parameters. */
static bool size_word(const char *w)
{
	size_t n = strlen(w);
	if (n < 2 || (w[n - 1] != 'b' && w[n - 1] != 'm'))
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		if (!isdigit((unsigned char)w[i]))
			return false;
	return true;
}

static bool has_word(const struct words *ws, const char *w)
{
	size_t n = strlen(w);
	for (int i = 0; i < ws->n; i++) {
		size_t m = strlen(ws->w[i]);
		if (!strcmp(ws->w[i], w) ||
		    (n >= 4 && m >= 4 &&
		     !strncmp(ws->w[i], w, n < m ? n : m)))
			return true;
	}
	return false;
}

static bool agree(const struct words *declared, const struct words *parent)
{
	int hits = 0, words = 0;
	bool dsize = false, psize = false, size_met = false;
	for (int i = 0; i < declared->n; i++) {
		const char *w = declared->w[i];
		if (size_word(w)) {
			dsize = true;
			size_met |= has_word(parent, w);
			continue;
		}
		words++;
		hits += has_word(parent, w);
	}
	for (int i = 0; i < parent->n; i++)
		psize |= size_word(parent->w[i]);
	if (dsize && psize && !size_met)
		return false;
	return words ? 2 * hits >= words : size_met;
}

/* Architecture names compared on their letters and digits: "phi3" is
 * "Phi-3", "llama" begins "LLaMA-2". */
static bool same_arch(const char *declared, const char *signature)
{
	char x[64], y[64];
	size_t n = 0, m = 0;
	for (; *declared && n + 1 < sizeof x; declared++)
		if (isalnum((unsigned char)*declared))
			x[n++] = (char)tolower((unsigned char)*declared);
	for (; signature && *signature && m + 1 < sizeof y; signature++)
		if (isalnum((unsigned char)*signature))
			y[m++] = (char)tolower((unsigned char)*signature);
	x[n] = y[m] = 0;
	return n && m && (strstr(y, x) || strstr(x, y));
}

static const char *meta(const struct mp_fingerprint *fp, const char *key)
{
	return fp ? mp_meta_get(fp->meta, fp->nmeta, key) : NULL;
}

static void append(char *buf, size_t cap, const char *sep, const char *s)
{
	size_t n = strlen(buf);
	if (s && *s)
		snprintf(buf + n, cap - n, "%s%s", n ? sep : "", s);
}

/* The declared base models "organization/name version", "; " between. */
static void declared_base(const struct mp_fingerprint *u,
			  struct mp_ident_declared *d, struct words *ws)
{
	for (int i = 0; i < 8; i++) {
		char k[64], one[200] = "";
		const char *v;
		snprintf(k, sizeof k, "general.base_model.%d.organization", i);
		append(one, sizeof one, "", v = meta(u, k));
		add_words(ws, v);
		snprintf(k, sizeof k, "general.base_model.%d.name", i);
		append(one, sizeof one, "/", v = meta(u, k));
		add_words(ws, v);
		snprintf(k, sizeof k, "general.base_model.%d.version", i);
		append(one, sizeof one, " ", meta(u, k));
		if (!one[0])
			continue;
		append(d->base, sizeof d->base, "; ", one);
		snprintf(k, sizeof k, "general.base_model.%d.repo_url", i);
		if (!d->repo[0] && (v = meta(u, k)))
			snprintf(d->repo, sizeof d->repo, "%s", v);
	}
}

void ident_declared(struct ident_ctx *c)
{
	struct mp_ident_result *res = c->res;
	struct mp_ident_declared *d = &res->declared;
	*d = (struct mp_ident_declared){.agrees = -1, .arch_agrees = -1};
	struct words dw = {0}, pw = {0};
	declared_base(c->u, d, &dw);
	const char *arch = meta(c->u, "general.architecture");
	if (arch)
		snprintf(d->arch, sizeof d->arch, "%s", arch);
	if (d->base[0] && res->match && res->relation.kind != MP_ID_MERGE) {
		const struct mp_ident_ref *p = &c->refs[res->relation.parent];
		add_words(&pw, p->name);
		add_words(&pw, p->id);
		add_words(&pw, p->path);
		add_words(&pw, meta(p->fp, "general.name"));
		add_words(&pw, meta(p->fp, "general.base_model.0.name"));
		d->agrees = agree(&dw, &pw);
	}
	const struct mp_arch_result *a = res->arch;
	if (d->arch[0] && a && a->known && a->n)
		d->arch_agrees = same_arch(d->arch, a->m[0].name) ||
				 same_arch(d->arch, a->m[0].family);
	/* a fallback says how the tensors are laid out, not whose they
	 * are: a Gemma or Qwen2 of no published size shows "LLaMA-style
	 * decoder" without contradicting its file (no opinion) */
	if (d->arch_agrees == 0 && a->m[0].fallback)
		d->arch_agrees = -1;
}
