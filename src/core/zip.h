/* zip.h — reading zip archives that are mapped files (.npz, torch.save):
 * the end-of-central-directory record, the central directory and each
 * member's local header checked against the file; stored members borrowed
 * from the map, deflated ones inflated with zlib (CRC-32 checked) into
 * buffers a model owns. ZIP64, multi-disk and encrypted archives or
 * members are refused. */
#ifndef MP_ZIP_H
#define MP_ZIP_H

#include "model.h"

/* One member, checked: its data lies before the central directory. */
struct mp_zip_entry {
	char *name;	 /* owned, NUL-terminated (may hold no NUL) */
	size_t name_len; /* bytes of the name as stored */
	unsigned method; /* 0 stored, 8 deflate */
	unsigned flags;	 /* general purpose bit flags */
	uint32_t crc;
	uint64_t clen, ulen;
	uint64_t data_off; /* offset of the member's data in the file */
};

struct mp_zip {
	const struct mp_file *f;
	struct mp_zip_entry *e;
	size_t n;
	struct mp_zip_entry **sorted; /* [n] by name, for mp_zip_find */
	uint64_t cd_off; /* the central directory: members end before it */
};

/* Read the central directory of f into z (z->f = f). Only the directory
 * structure is checked here; mp_zip_check checks a member. Errors name
 * f->path: not a zip, ZIP64, multi-disk, malformed directory. */
mp_status mp_zip_open(const struct mp_file *f, struct mp_zip *z,
		      struct mp_error *err);
void mp_zip_free(struct mp_zip *z);

/* Check member e of z before reading it (where names it for errors):
 * ZIP64 sizes, encryption, method other than stored/deflate, a stored size
 * mismatch, the local header against the directory, data past the member
 * area. Fills e->data_off. */
mp_status mp_zip_check(const struct mp_zip *z, struct mp_zip_entry *e,
		       const char *where, struct mp_error *err);

/* The bytes of checked member e: borrowed from the map when stored,
 * inflated into a buffer m owns when deflated (*budget, the bytes still
 * allowed to inflate for the model, is decreased). */
mp_status mp_zip_read(struct mp_model *m, const struct mp_zip *z,
		      const struct mp_zip_entry *e, uint64_t *budget,
		      const uint8_t **out, const char *where,
		      struct mp_error *err);

/* The member named name, NULL when absent (O(log n)). */
struct mp_zip_entry *mp_zip_find(const struct mp_zip *z, const char *name);

#endif
