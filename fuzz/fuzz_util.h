/* fuzz_util.h — helpers shared by the libFuzzer harnesses (header-only, one
 * copy per harness binary): a fresh temporary directory per input, files
 * written into it, the input split into named parts, and the check that a
 * rejected input got one printable error line. Harness code may abort();
 * the library never does. */
#ifndef MP_FUZZ_UTIL_H
#define MP_FUZZ_UTIL_H

#include "mp.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parts of a multi-file input are separated by this; each part starts with
 * its file name up to the first '\n' (see fuzz/fuzz_model.c). */
#define FUZZ_SEP "@@MPF@@"
#define FUZZ_SEP_LEN 7
#define FUZZ_MAX_PARTS 8
#define FUZZ_NAME_MAX 64

struct fuzz_part {
	char name[FUZZ_NAME_MAX + 1];
	const uint8_t *data;
	size_t len;
};

/* Remove path and, when it is a directory, everything below it (symlinks
 * are removed, never followed). */
static inline void fuzz_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d))) {
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				char p[4096];
				snprintf(p, sizeof p, "%s/%s", path, e->d_name);
				fuzz_rm_rf(p);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

static char fuzz_base[64];

static inline void fuzz_rm_base(void)
{
	fuzz_rm_rf(fuzz_base);
}

/* The harness's directory /tmp/<tag>.XXXXXX into dir (at least 64 bytes),
 * removed with what it holds when the process exits normally; call once. */
static inline void fuzz_mkdtemp(char *dir, size_t cap, const char *tag)
{
	snprintf(dir, cap, "/tmp/%s.XXXXXX", tag);
	if (!mkdtemp(dir))
		abort();
	snprintf(fuzz_base, sizeof fuzz_base, "%s", dir);
	atexit(fuzz_rm_base);
}

/* Write n bytes to dir/name (replacing it); aborts when it cannot. */
static inline void fuzz_write(const char *dir, const char *name, const uint8_t *data,
		       size_t n)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	unlink(p);
	FILE *f = fopen(p, "wb");
	if (!f)
		abort();
	if (n && fwrite(data, 1, n, f) != n)
		abort();
	if (fclose(f) != 0)
		abort();
}

/* Split data at FUZZ_SEP into at most FUZZ_MAX_PARTS parts (the last one
 * takes the rest). Each part's name is its first line, kept to
 * [A-Za-z0-9._-] (other bytes become '_', a leading '.' too, so no name
 * leaves the directory), at most FUZZ_NAME_MAX bytes; a part without a
 * '\n' or with an empty name gets def_name(i). Returns the part count
 * (at least 1). */
static inline size_t fuzz_split(const uint8_t *data, size_t size,
			 struct fuzz_part *parts,
			 const char *(*def_name)(size_t i))
{
	size_t n = 0;
	const uint8_t *p = data, *end = data + size;
	while (n < FUZZ_MAX_PARTS) {
		const uint8_t *q = NULL;
		if (n + 1 < FUZZ_MAX_PARTS)
			q = memmem(p, (size_t)(end - p), FUZZ_SEP, FUZZ_SEP_LEN);
		const uint8_t *stop = q ? q : end;
		struct fuzz_part *pt = &parts[n];
		const uint8_t *nl = memchr(p, '\n', (size_t)(stop - p));
		size_t k = 0;
		if (nl) {
			for (const uint8_t *c = p; c < nl && k < FUZZ_NAME_MAX;
			     c++) {
				char ch = (char)*c;
				bool ok = (ch >= 'a' && ch <= 'z') ||
					  (ch >= 'A' && ch <= 'Z') ||
					  (ch >= '0' && ch <= '9') ||
					  ch == '_' || ch == '-' ||
					  (ch == '.' && k > 0);
				pt->name[k++] = ok ? ch : '_';
			}
			p = nl + 1;
		}
		pt->name[k] = '\0';
		if (k == 0)
			snprintf(pt->name, sizeof pt->name, "%s", def_name(n));
		pt->data = p;
		pt->len = (size_t)(stop - p);
		n++;
		if (!q)
			break;
		p = q + FUZZ_SEP_LEN;
	}
	return n;
}

/* A failed call must leave one non-empty line in err with no control
 * characters (C0, DEL, C1 in UTF-8): the CLI prints it as it is. Aborts
 * (a finding) otherwise. FUZZ_VERBOSE in the environment prints it. */
static inline void fuzz_check_error(mp_status st, const struct mp_error *err)
{
	if (st == MP_OK)
		return;
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz: rejected: %s\n", err->msg);
	const unsigned char *m = (const unsigned char *)err->msg;
	if (!m[0]) {
		fprintf(stderr, "fuzz: status %d with an empty error message\n",
			(int)st);
		abort();
	}
	for (size_t i = 0; m[i]; i++) {
		if (m[i] < 0x20 || m[i] == 0x7f ||
		    (m[i] == 0xc2 && m[i + 1] >= 0x80 && m[i + 1] <= 0x9f)) {
			fprintf(stderr,
				"fuzz: control byte 0x%02x at %zu in error "
				"message: %s\n",
				m[i], i, err->msg);
			abort();
		}
	}
}

#endif
