/* report_html_int.h — the page frame of report_html.c shared with the
 * other self-contained pages (report_sweep.c): a growing text buffer,
 * numbers and strings written for a JS literal context, and the page
 * with the error recorder and the self-test record. Internal to core. */
#ifndef MP_REPORT_HTML_INT_H
#define MP_REPORT_HTML_INT_H

#include "mp.h"

#include <locale.h>

/* A growing NUL-terminated text; oom set (and writes dropped) once an
 * allocation failed. Zero-initialise. */
struct mp_hbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

/* Append s. */
void mp_hbuf_puts(struct mp_hbuf *b, const char *s);
/* Append v in its shortest round-trip form, null when not finite. */
void mp_hbuf_num(struct mp_hbuf *b, double v);
/* Append s as a double-quoted JS string of printable ASCII (safe in a
 * <script> element and in an attribute). */
void mp_hbuf_jstr(struct mp_hbuf *b, const char *s);
/* The page up to the data object (window.MP={), title and subtitle
 * HTML-escaped; the caller then writes the object's members. */
void mp_hbuf_page_begin(struct mp_hbuf *b, const char *title, const char *sub);
/* Close the data object and append the script js; end the page. */
void mp_hbuf_page_end(struct mp_hbuf *b, const char *js);
/* Write b to path atomically (MP_ENOMEM when b->oom) and free it. */
mp_status mp_hbuf_finish(struct mp_hbuf *b, const char *path,
			 struct mp_error *err);

/* Numbers in the C locale between enter and leave, whatever the caller's. */
struct mp_hbuf_locale {
	locale_t c, old;
};
void mp_hbuf_locale_enter(struct mp_hbuf_locale *l);
void mp_hbuf_locale_leave(struct mp_hbuf_locale *l);

#endif
