/* mapguard.c — SIGBUS on a shrunk mapping becomes a jump back to the
 * thread's innermost guard. */
#include "mapguard.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

static struct sigaction previous;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Thread_local struct mp_mapguard *volatile current;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct mp_mapguard *g = current;
	if (g) {
		g->addr = si->si_addr;
		current = g->prev;
		siglongjmp(g->jb, 1);
	}
	if (previous.sa_flags & SA_SIGINFO) {
		previous.sa_sigaction(sig, si, uc);
	} else if (previous.sa_handler != SIG_DFL &&
		   previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
	} else {
		/* the faulting access runs again and gets the default action */
		struct sigaction dfl;
		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGBUS, &dfl, NULL);
	}
}

static void install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags =
	    SA_SIGINFO | SA_NODEFER; /* siglongjmp leaves it unblocked */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &previous);
}

void mp_mapguard_push(struct mp_mapguard *g)
{
	pthread_once(&once, install);
	g->addr = NULL;
	g->prev = current;
	current = g;
}

void mp_mapguard_end(struct mp_mapguard *g)
{
	current = g->prev;
}

const char *mp_mapguard_file(const void *addr, const struct mp_file *files,
			     size_t n)
{
	const uint8_t *a = addr;
	for (size_t i = 0; a && i < n; i++)
		if (files[i].data && a >= files[i].data &&
		    (uint64_t)(a - files[i].data) < files[i].size)
			return files[i].path;
	return NULL;
}

mp_status mp_mapguard_error(const char *file, struct mp_error *err)
{
	return mp_error_set(err, MP_EIO, "%s changed size while being read",
			    file ? file : "a mapped file");
}

bool mp_mapguard_copy(void *dst, const void *src, size_t n, const void **fault)
{
	struct mp_mapguard g;
	if (MP_MAPGUARD_BEGIN(&g)) {
		*fault = g.addr;
		return false;
	}
	memcpy(dst, src, n);
	mp_mapguard_end(&g);
	return true;
}
