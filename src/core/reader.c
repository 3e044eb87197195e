/* reader.c — mmap-backed file views. */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
			     : "not a file";
}

mp_status mp_open_input(const char *path, int *fd, struct mp_error *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (*fd < 0)
		return mp_error_set(err, errno == ENOENT ? MP_ENOENT : MP_EIO,
				    "%s: %s", path, strerror(errno));
	struct stat st;
	int e = fstat(*fd, &st) != 0 ? errno : 0;
	if (!e && S_ISREG(st.st_mode)) {
		int fl = fcntl(*fd, F_GETFL);
		if (fl != -1 && fcntl(*fd, F_SETFL, fl & ~O_NONBLOCK) != -1)
			return MP_OK;
		e = errno;
	}
	close(*fd);
	*fd = -1;
	if (e)
		return mp_error_set(err, MP_EIO, "%s: %s", path, strerror(e));
	return mp_error_set(err, MP_EINVAL, "%s: not a regular file (%s)",
			    path, kind_of(st.st_mode));
}

/* The canonical path of the file open as fd (what was really opened,
 * whatever happened to path since), else of path. */
static char *resolved(const char *path, int fd)
{
	char link[64], buf[PATH_MAX + 1];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = fd >= 0 ? readlink(link, buf, PATH_MAX) : -1;
	if (n > 0 && buf[0] == '/') {
		buf[n] = '\0';
		return mp_strdup(buf);
	}
	return realpath(path, NULL);
}

mp_status mp_path_check_inside(const char *path, int fd,
			       const struct mp_named *n, struct mp_error *err)
{
	char nb[MP_NAME_SHOW + 8], pb[MP_NAME_SHOW + 8];
	char *real = resolved(path, fd);
	if (!real)
		return mp_error_set(err, errno == ENOENT ? MP_ENOENT : MP_EIO,
				    "%s: %s '%s': %s", n->who, n->what,
				    mp_printable(n->name, nb), strerror(errno));
	size_t bl = strlen(n->base);
	bool inside = strncmp(real, n->base, bl) == 0 &&
		      (real[bl] == '/' || !strcmp(n->base, "/"));
	mp_status s = MP_OK;
	if (!inside)
		s = mp_error_set(err, MP_EPERM,
				 "%s: %s '%s' resolves to '%s', outside the "
				 "model directory '%s'",
				 n->who, n->what, mp_printable(n->name, nb),
				 mp_printable(real, pb), n->base);
	free(real);
	return s;
}

/* Map the regular file open as fd (closed here). */
static mp_status map_fd(struct mp_file *f, const char *path, int fd,
			struct mp_error *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return mp_error_set(err, MP_EIO, "%s: %s", path, strerror(e));
	}
	f->path = mp_strdup(path);
	if (!f->path) {
		close(fd);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	f->size = (uint64_t)st.st_size;
	if (f->size > 0) {
		void *p = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE,
			       fd, 0);
		if (p == MAP_FAILED) {
			int e = errno;
			close(fd);
			mp_file_close(f);
			return mp_error_set(err, MP_EIO, "%s: cannot map: %s",
					    path, strerror(e));
		}
		f->data = p;
	}
	close(fd);
	return MP_OK;
}

mp_status mp_file_open_named(struct mp_file *f, const char *path,
			     const struct mp_named *n, struct mp_error *err)
{
	memset(f, 0, sizeof *f);
	int fd = -1;
	mp_status s = n ? mp_path_check_inside(path, -1, n, err) : MP_OK;
	if (s == MP_OK)
		s = mp_open_input(path, &fd, err);
	/* path may have changed since the check: check what was opened */
	if (s == MP_OK && n && (s = mp_path_check_inside(path, fd, n, err)))
		close(fd);
	return s == MP_OK ? map_fd(f, path, fd, err) : s;
}

mp_status mp_file_open(struct mp_file *f, const char *path, struct mp_error *err)
{
	return mp_file_open_named(f, path, NULL, err);
}

void mp_file_close(struct mp_file *f)
{
	if (f->data)
		munmap((void *)f->data, (size_t)f->size);
	free(f->path);
	memset(f, 0, sizeof *f);
}

mp_status mp_file_range(const struct mp_file *f, uint64_t off, uint64_t len,
			const uint8_t **out, struct mp_error *err)
{
	uint64_t end;
	if (!mp_add_u64(off, len, &end) || end > f->size)
		return mp_error_set(err, MP_ETRUNC,
				    "%s: bytes %llu..%llu lie outside the file "
				    "(%llu bytes)",
				    f->path, (unsigned long long)off,
				    (unsigned long long)off + len,
				    (unsigned long long)f->size);
	*out = f->data ? f->data + off : (const uint8_t *)"";
	return MP_OK;
}

void mp_file_release(const struct mp_file *f, uint64_t off, uint64_t len)
{
	if (!f->data || len == 0)
		return;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = off - off % (uint64_t)page;
	uint64_t end = off + len;
	if (end > f->size)
		end = f->size;
	end -= end % (uint64_t)page;
	if (end > start)
		madvise((void *)(f->data + start), (size_t)(end - start),
			MADV_DONTNEED);
}

void mp_file_prefetch(const struct mp_file *f, uint64_t off, uint64_t len)
{
#ifdef MADV_POPULATE_READ
	if (!f->data || off >= f->size || len == 0)
		return;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = off - off % (uint64_t)page;
	uint64_t end = len < f->size - off ? off + len : f->size;
	madvise((void *)(f->data + start), (size_t)(end - start),
		MADV_POPULATE_READ);
#else
	(void)f, (void)off, (void)len;
#endif
}

mp_status mp_read_text(const char *path, uint64_t max_bytes, char **out,
		       size_t *len, struct mp_error *err)
{
	*out = NULL;
	int fd;
	mp_status os = mp_open_input(path, &fd, err);
	if (os != MP_OK)
		return os;
	FILE *fp = fdopen(fd, "rb");
	if (!fp) {
		close(fd);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	mp_status st = MP_OK;
	while (buf) {
		if (n + 1 >= cap) {
			if (cap >= max_bytes) {
				st = mp_error_set(err, MP_ERANGE,
						  "%s: larger than %llu bytes",
						  path,
						  (unsigned long long)max_bytes);
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, fp);
		n += r;
		if (r == 0) {
			if (ferror(fp))
				st = mp_error_set(err, MP_EIO, "%s: read error",
						  path);
			break;
		}
	}
	fclose(fp);
	if (!buf)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	if (st != MP_OK) {
		free(buf);
		return st;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return MP_OK;
}
