/* mp.h — status codes, error messages and checked arithmetic shared by the
 * whole core. Library functions return mp_status (0 ok, negative error) and
 * fill a struct mp_error the caller owns; they never print or exit. */
#ifndef MP_H
#define MP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_STATUS_LIST(X)                                                     \
	X(MP_OK, 0, "ok")                                                     \
	X(MP_ENOMEM, -1, "out of memory")                                     \
	X(MP_EIO, -2, "I/O error")                                            \
	X(MP_EFORMAT, -3, "malformed file")                                   \
	X(MP_ETRUNC, -4, "truncated file")                                    \
	X(MP_EDTYPE, -5, "unsupported dtype")                                 \
	X(MP_ERANGE, -6, "value out of range")                                \
	X(MP_EJSON, -7, "invalid JSON")                                       \
	X(MP_ENOENT, -8, "not found")                                         \
	X(MP_EINVAL, -9, "invalid argument")                                  \
	X(MP_EPERM, -10, "permission denied")                                 \
	X(MP_ELOCK, -11, "lock failed")                                       \
	X(MP_EUNDEF, -12, "undefined")                                        \
	X(MP_EMANY, -13, "several models where one was expected")            \
	X(MP_EEXIST, -14, "already exists")                                   \
	X(MP_ENOTAPPLIC, -15, "method does not apply to the model")

typedef enum {
#define MP_X_ENUM(name, value, text) name = value,
	MP_STATUS_LIST(MP_X_ENUM)
#undef MP_X_ENUM
} mp_status;

/* Short English text for a status; never NULL. */
const char *mp_status_str(mp_status st);

#define MP_ERRMSG_MAX 512

/* One error message, filled by the function that failed. Messages name the
 * file and the problem: "model.safetensors: header length 9000 exceeds file
 * size 1200". */
struct mp_error {
	char msg[MP_ERRMSG_MAX];
};

/* Format a message into err (NULL err is allowed) and return st. */
mp_status mp_error_set(struct mp_error *err, mp_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Checked size arithmetic: return false on overflow, *out undefined then. */
static inline bool mp_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}
static inline bool mp_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}

/* Duplicate a string; NULL on allocation failure. */
char *mp_strdup(const char *s);

/* Join dir and name with one '/'; NULL on allocation failure. */
char *mp_path_join(const char *dir, const char *name);

/* True when s ends with suffix. */
bool mp_ends_with(const char *s, const char *suffix);

/* True for a relative path with no ".." component: a file named inside a
 * model file must stay below that file's directory. */
bool mp_path_is_safe_relative(const char *p);

/* A terminal-safe copy of a name read from a file (mp_escape_term's
 * rules), cut to about MP_NAME_SHOW bytes ending in "...", for one-line
 * messages. */
#define MP_NAME_SHOW 80
const char *mp_printable(const char *s, char buf[MP_NAME_SHOW + 8]);

/* The value of a hexadecimal digit (either case), or -1. */
int mp_hex_digit(char c);

/* Lowercase hex of n bytes into out (2n+1 chars). */
void mp_hex(const uint8_t *bytes, size_t n, char *out);

#define MP_SHA256_LEN 32
#define MP_SHA256_HEX 65

#endif
