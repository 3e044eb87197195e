/* arch_default.c — the installed signatures: architectures.json in the
 * data directory, else the source tree's (for running from the build
 * tree). */
#include "arch.h"

#include <stdio.h>
#include <sys/stat.h>

mp_status mp_arch_load_default(const char *file, struct mp_arch_set **out,
			       struct mp_error *err)
{
	char buf[4096];
	*out = NULL;
	if (!file) {
		const char *roots[] = {MP_DATADIR, MP_SRCDATADIR};
		for (int i = 0; i < 2 && !file; i++) {
			struct stat st;
			snprintf(buf, sizeof buf, "%s/architectures.json",
				 roots[i]);
			if (stat(buf, &st) == 0)
				file = buf;
		}
		if (!file)
			return mp_error_set(err, MP_ENOENT,
					    "no architectures.json in %s or %s",
					    MP_DATADIR, MP_SRCDATADIR);
	}
	return mp_arch_load(file, out, err);
}
