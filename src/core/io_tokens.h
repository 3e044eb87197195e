/* io_tokens.h — the probe and target lists of the input_output method:
 * one entry per line (a trailing CR dropped, empty lines skipped), later
 * duplicates of a line dropped; an entry "#123" is the raw token id 123,
 * any other the line's text encoded with the model's tokenizer without
 * special tokens. Ids outside the vocabulary are dropped, and an entry
 * left with no id, or holding a character the tokenizer cannot encode,
 * is skipped. */
#ifndef MP_IO_TOKENS_H
#define MP_IO_TOKENS_H

#include "mp.h"
#include "tokenizer.h"

struct mp_io_list {
	int32_t *ids;  /* entry i is ids[off[i] .. off[i+1]) */
	size_t *off;   /* [n + 1], off[0] = 0 */
	size_t n;      /* usable entries */
	size_t skipped, duplicates; /* skipped counts unencodable too */
	size_t unencodable;
	char sha256[MP_SHA256_HEX]; /* of the file */
};

/* Read the list at path; tok may be NULL (then a text entry is an error
 * naming the line). Errors name the file. Free with mp_io_list_free. */
mp_status mp_io_list_read(const char *path, const struct mp_tokenizer *tok,
			  size_t vocab, struct mp_io_list *out,
			  struct mp_error *err);
void mp_io_list_free(struct mp_io_list *l);

#endif
