/* tok_int.h — private to tok_*.c: the tokenizer's tables. */
#ifndef MP_TOK_INT_H
#define MP_TOK_INT_H

#include "tokenizer.h"

enum tok_type { TOK_SPM, TOK_BPE };
enum tok_pre { PRE_GPT2, PRE_LLAMA3, PRE_QWEN2 };

/* A string -> int32 hash map over borrowed keys (open addressing). */
struct tok_map {
	const char **keys;
	uint32_t *lens;
	int32_t *vals;
	size_t cap; /* a power of two, or 0 */
};

struct mp_tokenizer {
	enum tok_type type;
	enum tok_pre pre;
	char kind[32];
	size_t n;	/* vocabulary size */
	char **piece;	/* [n] owned */
	float *score;	/* [n] (SPM by score), or NULL */
	int32_t *ttype; /* [n] GGUF token types (1 normal, 6 byte), or NULL */
	struct tok_map ids; /* piece -> id */
	char **merge;	    /* [nmerge] "left right", owned */
	size_t nmerge;
	struct tok_map ranks; /* "left right" -> rank */
	bool by_rank;	      /* SPM merges by merge rank, not score */
	bool space_prefix;    /* SPM: a "▁" before the text */
	bool ignore_merges;   /* BPE: a whole word in the vocab is one token */
	int32_t bos, unk;
	int32_t byte_tok[256]; /* SPM byte fallback tokens, -1 when absent */
};

/* Map functions; put fails only when out of memory (false). */
bool mp_tok_map_init(struct tok_map *m, size_t n);
bool mp_tok_map_put(struct tok_map *m, const char *key, int32_t val);
int32_t mp_tok_map_get(const struct tok_map *m, const char *key, size_t len);
void mp_tok_map_free(struct tok_map *m);

/* A tokenizer with vocabulary size n (pieces to fill), or NULL. */
struct mp_tokenizer *mp_tok_new(size_t n);
/* After the pieces (and merges) are filled: build the maps and the byte
 * tokens; where names the file in errors. */
mp_status mp_tok_finish(struct mp_tokenizer *t, const char *where,
			struct mp_error *err);

/* Readers: data[0..size) of a GGUF file; a tokenizer.json path. */
mp_status mp_tok_from_gguf(const uint8_t *data, uint64_t size,
			   const char *where, struct mp_tokenizer **out,
			   struct mp_error *err);
mp_status mp_tok_from_json(const char *path, struct mp_tokenizer **out,
			   struct mp_error *err);

/* A growing id list. */
struct tok_ids {
	int32_t *v;
	size_t n, cap;
};
bool mp_tok_push(struct tok_ids *o, int32_t id);

/* BPE merging of the word s[0..len) (by merge rank of the pair when
 * by_rank, else by score of the merged token), its tokens appended to o. */
mp_status mp_tok_merge(const struct mp_tokenizer *t, const char *s, size_t len,
		       bool by_rank, struct tok_ids *o, struct mp_error *err);

/* Encoders: append the tokens of text[0..len) to o. */
mp_status mp_tok_spm_encode(const struct mp_tokenizer *t, const char *text,
			    size_t len, struct tok_ids *o,
			    struct mp_error *err);
mp_status mp_tok_bpe_encode(const struct mp_tokenizer *t, const char *text,
			    size_t len, struct tok_ids *o,
			    struct mp_error *err);

/* The next UTF-8 character of s[0..len) (len > 0): its code point and
 * byte length; an invalid byte is one character of code point
 * 0xFFFFFFFF (never a letter, number or space). */
uint32_t mp_tok_utf8(const char *s, size_t len, size_t *clen);

/* Unicode classes (tok_unicode.c, generated): general categories L*, N*,
 * and White_Space. */
bool mp_tok_is_letter(uint32_t cp);
bool mp_tok_is_number(uint32_t cp);
bool mp_tok_is_space(uint32_t cp);

#endif
