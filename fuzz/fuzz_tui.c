/* fuzz_tui.c — libFuzzer harness for the interface: the input is a
 * similarity-matrices file, a NUL byte, then keys (bytes 1..14 stand for
 * the named keys MP_KEY_UP.., 15 for a mouse click at the next two bytes,
 * 16..19 for MP_KEY_F1.., 20 for Ctrl-D).
 * Every view is driven through the keys on an 80x24 and a 23x7 canvas
 * with and without colour. */
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static void rm_path(void)
{
	unlink(path);
}

static void drive(struct mp_tui_data *d, struct mp_caps caps, int w, int h,
		  const uint8_t *k, size_t nk)
{
	struct mp_tui *t = mp_tui_new(d, caps);
	struct mp_canvas *c = mp_canvas_new(w, h);
	if (!t || !c)
		abort();
	mp_tui_draw(t, c);
	for (size_t i = 0; i < nk && !t->quit; i++) {
		if (k[i] == 15 && i + 2 < nk) {
			mp_tui_click(t, k[i + 1] % (w + 2) - 1, k[i + 2] % (h + 2) - 1);
			i += 2;
		} else if (k[i] >= 1 && k[i] <= 14) {
			mp_tui_key(t, MP_KEY_BASE + k[i]);
		} else if (k[i] >= 16 && k[i] <= 19) {
			mp_tui_key(t, MP_KEY_F1 + k[i] - 16);
		} else if (k[i] == 20) {
			mp_tui_key(t, MP_KEY_CTRL('d'));
		} else {
			mp_tui_key(t, k[i]);
		}
		mp_tui_draw(t, c);
	}
	free(mp_canvas_to_text(c));
	mp_tui_free(t);
	mp_canvas_free(c);
	struct mp_error err;
	if (d->nmats)
		mp_tui_data_select(d, 0, NULL, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		snprintf(path, sizeof path, "/tmp/mpfuzzt.%d.json", (int)getpid());
		atexit(rm_path);
	}
	const uint8_t *nul = memchr(data, 0, size);
	size_t flen = nul ? (size_t)(nul - data) : size;
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(data, 1, flen, f);
	fclose(f);
	const uint8_t *keys = nul ? nul + 1 : data + size;
	size_t nk = nul ? size - flen - 1 : 0;
	if (nk > 400)
		nk = 400;
	struct mp_tui_paths p = {NULL, path, NULL};
	struct mp_tui_data *d;
	struct mp_error err;
	if (mp_tui_data_load(&p, NULL, &d, &err) != MP_OK)
		return 0;
	drive(d, (struct mp_caps){256, false, true}, 80, 24, keys, nk);
	drive(d, (struct mp_caps){0, false, false}, 23, 7, keys, nk);
	mp_tui_data_free(d);
	return 0;
}
