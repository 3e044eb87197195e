/* atomic_write.h — every output file (registry tables and fingerprints,
 * -o files, --output-dir results, text and HTML reports) is written here:
 * a temporary <file>.tmp.<pid>.<random> in the target's directory, created
 * O_CREAT|O_EXCL|O_NOFOLLOW with mode 0644 (so a planted symlink or file is
 * never followed or reused), fsync, rename over <file> (a symlink at <file>
 * is replaced, not followed), fsync of the directory. Temporaries of
 * processes that no longer exist are removed (never followed) on the next
 * write of the same file. A struct mp_atomic owns its FILE and names until
 * mp_atomic_commit or mp_atomic_abort. */
#ifndef MP_ATOMIC_WRITE_H
#define MP_ATOMIC_WRITE_H

#include "mp.h"

#include <stdio.h>

struct mp_atomic {
	FILE *fp;   /* write the contents here */
	char *path; /* the target */
	char *tmp;  /* the temporary */
};

/* Create the temporary for path; errors name path ("PATH: cannot write:
 * Permission denied", MP_EPERM or MP_EIO) and leave errno set. On error *a
 * is left empty. */
mp_status mp_atomic_open(struct mp_atomic *a, const char *path,
			 struct mp_error *err);

/* Flush, fsync and rename the temporary over the target, then fsync the
 * directory. Releases *a whatever the outcome; on error the temporary is
 * removed and err names the target. */
mp_status mp_atomic_commit(struct mp_atomic *a, struct mp_error *err);

/* Drop the temporary and release *a; safe on an empty struct. */
void mp_atomic_abort(struct mp_atomic *a);

/* Write text to path: open, write, commit. */
mp_status mp_atomic_write(const char *path, const char *text,
			  struct mp_error *err);

/* Create dir (and its parents) with mode 0777 before umask; errors name
 * dir ("DIR: cannot create: Permission denied"). */
mp_status mp_mkdir_p(const char *dir, struct mp_error *err);

/* Create dir if needed and check a file can be created in it, changing
 * nothing else; what says what it is for the message: "DIR: cannot write
 * the output directory: Permission denied" (MP_EPERM). */
mp_status mp_dir_prepare(const char *dir, const char *what,
			 struct mp_error *err);

#endif
