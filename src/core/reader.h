/* reader.h — a read-only memory map of one file with bounds-checked access.
 * The struct owns the mapping and its path copy; pointers returned by
 * mp_file_range are borrowed until mp_file_close. */
#ifndef MP_READER_H
#define MP_READER_H

#include "mp.h"

struct mp_file {
	char *path;          /* owned copy, used in error messages */
	const uint8_t *data; /* [size] mapped bytes; NULL when size == 0 */
	uint64_t size;
};

/* Map path read-only. On error *f is left closed and err names the file. */
mp_status mp_file_open(struct mp_file *f, const char *path, struct mp_error *err);

/* Unmap and free; safe on a zeroed or already closed struct. */
void mp_file_close(struct mp_file *f);

/* Borrow bytes [off, off+len) or fail with MP_ETRUNC naming the file and
 * the range when they are not all inside the file. */
mp_status mp_file_range(const struct mp_file *f, uint64_t off, uint64_t len,
			const uint8_t **out, struct mp_error *err);

/* Tell the kernel the range will not be needed soon (releases page cache
 * residency from this process's RSS). Never fails. */
void mp_file_release(const struct mp_file *f, uint64_t off, uint64_t len);

/* Map the range's pages now, in one call, where the kernel can
 * (MADV_POPULATE_READ): cheaper than a page fault per few pages when the
 * range is about to be read whole. Never fails. */
void mp_file_prefetch(const struct mp_file *f, uint64_t off, uint64_t len);

/* Read a whole small file (configs, JSON) into a NUL-terminated heap buffer
 * of at most max_bytes. */
mp_status mp_read_text(const char *path, uint64_t max_bytes, char **out,
		       size_t *len, struct mp_error *err);

#endif
