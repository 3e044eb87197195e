/* term.h — running the interface on a real terminal (term_curses.c, the
 * only includer of curses.h). */
#ifndef MP_TERM_H
#define MP_TERM_H

#include "tui_data.h"

/* Open the terminal, load the data with a progress screen, run until the
 * user quits or SIGINT/SIGTERM/SIGHUP arrives, and restore the terminal on
 * every path. Errors are printed after the terminal is restored. Returns
 * the exit status: 0, 1 on failure, 128+signal when interrupted. */
int mp_term_run(const struct mp_tui_paths *paths);

/* What the terminal named by $TERM could show, without opening it: used
 * for --screen output. NO_COLOR set means no colours. */
struct mp_caps mp_term_caps_from_env(void);

#endif
