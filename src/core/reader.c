/* reader.c — mmap-backed file views. */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

mp_status mp_file_open(struct mp_file *f, const char *path, struct mp_error *err)
{
	memset(f, 0, sizeof *f);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mp_error_set(err, errno == ENOENT ? MP_ENOENT : MP_EIO,
				    "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return mp_error_set(err, MP_EIO, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return mp_error_set(err, MP_EINVAL, "%s: not a regular file",
				    path);
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
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return mp_error_set(err, errno == ENOENT ? MP_ENOENT : MP_EIO,
				    "%s: %s", path, strerror(errno));
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
