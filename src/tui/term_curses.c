/* term_curses.c — the curses front end: copies the app's canvas to the
 * screen, turns curses keys and mouse events into MP_KEY_* codes, shows
 * load progress, and ends curses on every exit path. */
#include "escape.h"
#include "term.h"
#include "view.h"

#include <curses.h>
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

struct term {
	struct mp_caps caps;
	bool direct; /* COLORS are 24-bit RGB values */
	struct mp_canvas *canvas;
};

struct mp_caps mp_term_caps_from_env(void)
{
	struct mp_caps c = {256, false, true};
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		c.colors = 0;
	return c;
}

static const unsigned char basic_rgb[8][3] = {
	{0, 0, 0},   {205, 0, 0},   {0, 205, 0},   {205, 205, 0},
	{0, 0, 238}, {205, 0, 205}, {0, 205, 205}, {229, 229, 229}};

/* RGB of an xterm-256 palette index. */
static void palette_rgb(uint32_t i, int rgb[3])
{
	static const int lv[6] = {0, 95, 135, 175, 215, 255};
	if (i < 8) {
		for (int k = 0; k < 3; k++)
			rgb[k] = basic_rgb[i][k];
	} else if (i < 16) {
		for (int k = 0; k < 3; k++)
			rgb[k] = basic_rgb[i - 8][k] ? 255 : 127;
	} else if (i < 232) {
		i -= 16;
		rgb[0] = lv[i / 36];
		rgb[1] = lv[i / 6 % 6];
		rgb[2] = lv[i % 6];
	} else {
		rgb[0] = rgb[1] = rgb[2] = 8 + 10 * (int)(i - 232);
	}
}

static int nearest(int rgb[3], int first, int last)
{
	int best = first;
	long bd = -1;
	for (int i = first; i <= last; i++) {
		int p[3];
		palette_rgb((uint32_t)i, p);
		long d = 0;
		for (int k = 0; k < 3; k++)
			d += (long)(p[k] - rgb[k]) * (p[k] - rgb[k]);
		if (bd < 0 || d < bd) {
			bd = d;
			best = i;
		}
	}
	return best;
}

/* A canvas colour as a curses colour number. */
static int curses_color(const struct term *tm, uint32_t c)
{
	if (c == MP_COLOR_DEFAULT)
		return -1;
	int rgb[3];
	if (c & MP_RGB_FLAG) {
		rgb[0] = (int)(c >> 16 & 0xff);
		rgb[1] = (int)(c >> 8 & 0xff);
		rgb[2] = (int)(c & 0xff);
	} else {
		if (!tm->direct && c < (uint32_t)(tm->caps.colors >= 256 ? 256 : 8))
			return (int)c;
		palette_rgb(c & 0xff, rgb);
	}
	if (tm->direct)
		return rgb[0] << 16 | rgb[1] << 8 | rgb[2];
	return tm->caps.colors >= 256 ? nearest(rgb, 16, 255) : nearest(rgb, 0, 7);
}

static void blit(const struct term *tm, const struct mp_canvas *c)
{
	for (int y = 0; y < c->h && y < LINES; y++)
		for (int x = 0; x < c->w && x < COLS; x++) {
			const struct mp_cell *cell = &c->cells[(size_t)y * c->w + x];
			wchar_t wc[2] = {(wchar_t)cell->ch, 0};
			attr_t a = A_NORMAL;
			if (cell->st.attr & MP_ATTR_BOLD)
				a |= A_BOLD;
			if (cell->st.attr & MP_ATTR_REVERSE)
				a |= A_REVERSE;
			if (cell->st.attr & MP_ATTR_UNDERLINE)
				a |= A_UNDERLINE;
			if (cell->st.attr & MP_ATTR_DIM)
				a |= A_DIM;
			int pair = 0;
			if (tm->caps.colors &&
			    (cell->st.fg != MP_COLOR_DEFAULT ||
			     cell->st.bg != MP_COLOR_DEFAULT)) {
				pair = alloc_pair(curses_color(tm, cell->st.fg),
						  curses_color(tm, cell->st.bg));
				if (pair < 0)
					pair = 0;
			}
			cchar_t cc;
			setcchar(&cc, wc, a, 0, &pair);
			/* the bottom-right cell may return ERR: harmless */
			mvadd_wch(y, x, &cc);
		}
}

static void progress_screen(const char *what, size_t done, size_t total)
{
	int w = COLS < 60 ? COLS - 4 : 56, y = LINES / 2, x = (COLS - w) / 2;
	erase();
	mvprintw(y - 1, x, "modelprint: loading %s %zu/%zu", what, done, total);
	int fill = total ? (int)((double)done / (double)total * w) : w;
	move(y, x);
	for (int i = 0; i < w; i++)
		addch(i < fill ? '#' : '.');
	mvprintw(y + 1, x, "Ctrl-C to stop");
	refresh();
}

static bool on_progress(void *ctx, const char *what, size_t done, size_t total)
{
	(void)ctx;
	if (done == 0 || done == total || done % 16 == 0)
		progress_screen(what, done, total);
	return !got_signal;
}

static void on_busy(void *ctx, const char *what)
{
	(void)ctx;
	mvprintw(LINES - 1, 0, "%s ...", what);
	clrtoeol();
	refresh();
}

static int map_key(int r, wint_t wch)
{
	if (r == KEY_CODE_YES) {
		switch (wch) {
		case KEY_UP: return MP_KEY_UP;
		case KEY_DOWN: return MP_KEY_DOWN;
		case KEY_LEFT: return MP_KEY_LEFT;
		case KEY_RIGHT: return MP_KEY_RIGHT;
		case KEY_PPAGE: return MP_KEY_PGUP;
		case KEY_NPAGE: return MP_KEY_PGDN;
		case KEY_HOME: return MP_KEY_HOME;
		case KEY_END: return MP_KEY_END;
		case KEY_ENTER: return MP_KEY_ENTER;
		case KEY_BACKSPACE: return MP_KEY_BACKSPACE;
		case KEY_RESIZE: return MP_KEY_RESIZE;
		case KEY_MOUSE: return MP_KEY_MOUSE;
		case KEY_F(1): return MP_KEY_F1;
		case KEY_F(10): return MP_KEY_F10;
		default: return -1;
		}
	}
	switch (wch) {
	case '\n':
	case '\r': return MP_KEY_ENTER;
	case 27: return MP_KEY_ESC;
	case 127:
	case 8: return MP_KEY_BACKSPACE;
	case '\t': return MP_KEY_TAB;
	default: return (int)wch;
	}
}

static int loop(struct term *tm, struct mp_tui *t)
{
	bool dirty = true;
	while (!t->quit && !got_signal) {
		if (dirty) {
			if ((tm->canvas->w != COLS || tm->canvas->h != LINES) &&
			    !mp_canvas_resize(tm->canvas, COLS, LINES))
				return 1;
			mp_tui_draw(t, tm->canvas);
			blit(tm, tm->canvas);
			refresh();
			dirty = false;
		}
		wint_t wch;
		int r = wget_wch(stdscr, &wch);
		if (r == ERR)
			continue; /* timeout: look at the signal flag */
		int key = map_key(r, wch);
		dirty = true;
		if (key == MP_KEY_MOUSE) {
			MEVENT ev;
			if (getmouse(&ev) != OK)
				continue;
			if (ev.bstate & BUTTON4_PRESSED)
				mp_tui_key(t, MP_KEY_WHEEL_UP);
			else if (ev.bstate & BUTTON5_PRESSED)
				mp_tui_key(t, MP_KEY_WHEEL_DOWN);
			else if (ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED))
				mp_tui_click(t, ev.x, ev.y);
		} else if (key == MP_KEY_RESIZE) {
			clearok(stdscr, TRUE);
		} else if (key == MP_KEY_CTRL('l')) {
			clearok(stdscr, TRUE);
			mp_tui_key(t, key);
		} else if (key >= 0) {
			mp_tui_key(t, key);
		}
	}
	return 0;
}

/* The terminal named by $TERM can address the cursor and clear the screen
 * (terminfo cup and clear), without which curses draws nothing usable.
 * Asked of a screen on /dev/null, so the terminal sees nothing of it; an
 * unknown terminal passes (newterm then says it cannot open it). */
static bool can_address(void)
{
	FILE *null = fopen("/dev/null", "w");
	if (!null)
		return true;
	SCREEN *probe = newterm(NULL, null, stdin);
	bool ok = true;
	if (probe) {
		const char *need[] = {"cup", "clear"};
		for (size_t i = 0; i < 2; i++) {
			char *s = tigetstr(need[i]);
			if (!s || s == (char *)-1 || !*s)
				ok = false;
		}
		endwin();
		delscreen(probe);
	}
	fclose(null);
	return ok;
}

int mp_term_run(const struct mp_tui_paths *paths)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (!can_address()) { /* TERM=dumb and the like */
		char tb[256];
		mp_escape_term(getenv("TERM") ? getenv("TERM") : "(TERM unset)",
			       tb, sizeof tb);
		fprintf(stderr,
			"modelprint: the terminal '%s' cannot move the cursor or "
			"clear the screen, which the interface needs; run it in "
			"a terminal such as TERM=xterm-256color, or use the "
			"command-line tools (modelprint analyze, compare, "
			"registry list)\n",
			tb);
		return 1;
	}
	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		char tb[256];
		mp_escape_term(getenv("TERM") ? getenv("TERM") : "(TERM unset)",
			       tb, sizeof tb);
		fprintf(stderr, "modelprint: cannot open the terminal '%s' "
			"(try TERM=xterm-256color)\n", tb);
		return 1;
	}
	struct term tm = {{0, false, false}, false, NULL};
	const char *nc = getenv("NO_COLOR");
	if (has_colors() && !(nc && *nc) && start_color() == OK) {
		use_default_colors();
		tm.caps.colors = COLORS >= 256 ? 256 : COLORS >= 8 ? 8 : 0;
		tm.direct = COLORS >= 0x1000000;
		tm.caps.truecolor = tm.direct;
	}
	const char *cs = nl_langinfo(CODESET);
	tm.caps.unicode = cs && !strcmp(cs, "UTF-8");
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	timeout(100);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED |
			  BUTTON5_PRESSED,
		  NULL);
	mouseinterval(0);

	struct mp_tui_data *data = NULL;
	struct mp_tui *t = NULL;
	struct mp_error err = {""};
	struct mp_tui_progress prog = {on_progress, NULL};
	int rc = 0;
	progress_screen("data", 0, 1);
	if (mp_tui_data_load(paths, &prog, &data, &err) != MP_OK) {
		rc = 1;
	} else if (!(t = mp_tui_new(data, tm.caps)) ||
		   !(tm.canvas = mp_canvas_new(COLS, LINES))) {
		snprintf(err.msg, sizeof err.msg, "out of memory");
		rc = 1;
	} else {
		t->busy = on_busy;
		if (paths->identify &&
		    mp_tui_identify_file(t, paths->identify, &err) != MP_OK)
			rc = 1;
		else if (paths->sparsity &&
			 mp_tui_sparsity_file(t, paths->sparsity, &err) != MP_OK)
			rc = 1;
		else if (paths->sweep &&
			 mp_tui_sweep_file(t, paths->sweep, &err) != MP_OK)
			rc = 1;
		else if ((rc = loop(&tm, t)))
			snprintf(err.msg, sizeof err.msg, "out of memory");
	}
	erase();
	refresh();
	endwin();
	delscreen(scr);
	mp_tui_free(t);
	mp_canvas_free(tm.canvas);
	mp_tui_data_free(data);
	if (got_signal) {
		fprintf(stderr, "modelprint: interrupted\n");
		return 128 + got_signal;
	}
	if (rc) { /* core messages may quote names from files */
		char safe[4 * sizeof err.msg];
		mp_escape_term(err.msg, safe, sizeof safe);
		fprintf(stderr, "modelprint: %s\n", safe);
	}
	return rc;
}
