/* escape.h — the one way text from files and users is made safe to show.
 * Every string that came from a file or a user passes through
 * mp_escape_term on its way to a terminal (tables, lists, error messages)
 * and through mp_escape_json_text on its way into JSON output. */
#ifndef MP_ESCAPE_H
#define MP_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Write s, made harmless for a terminal, into out (cap bytes, NUL
 * terminated; cap 0 writes nothing):
 *   C0 controls and DEL     -> \xNN       (ESC becomes \x1b)
 *   C1 controls U+0080..9F  -> \u0080..\u009f
 *   bidi overrides and line/paragraph separators (U+2028..202E,
 *   U+2066..2069)           -> \uNNNN
 *   bytes that are not valid UTF-8 (stray continuation bytes, overlong
 *   forms, surrogates, > U+10FFFF, cut sequences) -> \xNN, one per byte
 * Valid printable UTF-8 is copied unchanged. When the result does not fit,
 * it is cut at a character boundary and ends in "...". Returns the length
 * the whole escaped text needs (excluding the NUL), as snprintf does. NULL
 * s is shown as "(null)". */
size_t mp_escape_term(const char *s, char *out, size_t cap);

/* True when s is valid UTF-8 (the same rule as above). */
bool mp_utf8_valid(const char *s);

/* Printed JSON text made valid UTF-8 and harmless on a terminal without
 * changing its structure: JSON outside strings is ASCII, so every
 * invalid byte is inside a string and becomes the five characters \\xNN
 * (the text "\xNN" once decoded), and DEL, C1
 * controls, bidi overrides and line separators become \uNNNN escapes.
 * NULL when json needs no change (the common case) or on allocation
 * failure (*oom set); otherwise a heap copy. */
char *mp_escape_json_text(const char *json, bool *oom);

#endif
