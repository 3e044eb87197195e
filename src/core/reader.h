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

/* Map path read-only. Only a regular file is opened, and opening never
 * blocks (a FIFO fails with "PATH: not a regular file (a FIFO)"). On error
 * *f is left closed and err names the file. */
mp_status mp_file_open(struct mp_file *f, const char *path, struct mp_error *err);

/* A file a model names (a shard, an index's weight_map file, a file found
 * in the model's directory): it must resolve inside base. */
struct mp_named {
	const char *base; /* canonical model directory (mp_model_dir) */
	const char *who;  /* the model file or directory naming it */
	const char *what; /* "shard", "file", for messages */
	const char *name; /* how who names it (read from a file) */
};

/* mp_file_open for a file the model names; n NULL for a file the user
 * named (which may be a symlink to anywhere). A path that resolves (at the
 * check and again once opened) outside n->base fails with MP_EPERM: "WHO:
 * shard 'x.bin' resolves to '/etc/passwd', outside the model directory
 * 'BASE'". */
mp_status mp_file_open_named(struct mp_file *f, const char *path,
			     const struct mp_named *n, struct mp_error *err);

/* Check that path (or, when fd >= 0, the file open as fd) resolves inside
 * n->base; errors as mp_file_open_named. */
mp_status mp_path_check_inside(const char *path, int fd,
			       const struct mp_named *n, struct mp_error *err);

/* Open path for reading without blocking (O_NONBLOCK, cleared once the
 * file is known to be regular) and only when it is a regular file: *fd is
 * the descriptor (O_CLOEXEC), or -1 on error with err naming the file and
 * its kind ("PATH: not a regular file (a FIFO)"). */
mp_status mp_open_input(const char *path, int *fd, struct mp_error *err);

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

/* Read a whole small regular file (configs, JSON) into a NUL-terminated
 * heap buffer of at most max_bytes; opened as mp_open_input does. */
mp_status mp_read_text(const char *path, uint64_t max_bytes, char **out,
		       size_t *len, struct mp_error *err);

#endif
