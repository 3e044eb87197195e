/* atomic_write.c — output files through an exclusive temporary and rename;
 * output directories. */
#include "atomic_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TRIES 100

/* Directory part of path (malloc'd): "." when path has no slash. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return mp_strdup(".");
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, path, n);
		d[n] = '\0';
	}
	return d;
}

static uint64_t random_u64(void)
{
	uint64_t r;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
		return r;
	static _Atomic uint64_t counter;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	r = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ ++counter << 48;
	return r * 0x9E3779B97F4A7C15ULL;
}

/* True when name is base.tmp.<pid>.<16 hex> (or its SQLite -wal, -shm or
 * -journal) of a process that is gone. */
static bool stale_tmp(const char *name, const char *base)
{
	size_t bl = strlen(base);
	if (strncmp(name, base, bl) != 0 || strncmp(name + bl, ".tmp.", 5))
		return false;
	const char *p = name + bl + 5;
	char *end;
	errno = 0;
	long pid = strtol(p, &end, 10);
	if (end == p || *end != '.' || errno || pid <= 0 || pid == getpid())
		return false;
	size_t hex = strspn(end + 1, "0123456789abcdef");
	const char *rest = end + 17;
	/* SQLite's side files of a database built at a temporary name */
	if (hex != 16 || (*rest && strcmp(rest, "-wal") && strcmp(rest, "-shm") &&
			  strcmp(rest, "-journal")))
		return false;
	return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/* Remove the temporaries of path left by dead processes; unlink removes a
 * symlink itself, never its target. Best effort. */
static void remove_stale(const char *dir, const char *base)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	int lfd = dup(dfd);
	DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (!d && lfd >= 0)
		close(lfd);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		if (stale_tmp(de->d_name, base))
			unlinkat(dfd, de->d_name, 0);
	if (d)
		closedir(d);
	close(dfd);
}

mp_status mp_atomic_open(struct mp_atomic *a, const char *path,
			 struct mp_error *err)
{
	memset(a, 0, sizeof *a);
	size_t n = strlen(path) + 48;
	char *dir = dir_of(path);
	a->path = mp_strdup(path);
	a->tmp = malloc(n);
	if (!dir || !a->path || !a->tmp) {
		free(dir);
		mp_atomic_abort(a);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	const char *slash = strrchr(path, '/');
	remove_stale(dir, slash ? slash + 1 : path);
	free(dir);
	int fd = -1;
	for (int i = 0; i < TRIES && fd < 0; i++) {
		snprintf(a->tmp, n, "%s.tmp.%ld.%016llx", path, (long)getpid(),
			 (unsigned long long)random_u64());
		fd = open(a->tmp,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		int e = errno;
		free(a->tmp);
		a->tmp = NULL; /* nothing of ours to remove */
		mp_atomic_abort(a);
		mp_error_set(err, e == EACCES ? MP_EPERM : MP_EIO,
			     "%s: cannot write: %s", path, strerror(e));
		errno = e;
		return e == EACCES ? MP_EPERM : MP_EIO;
	}
	if (!(a->fp = fdopen(fd, "w"))) {
		close(fd);
		mp_atomic_abort(a);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	return MP_OK;
}

void mp_atomic_abort(struct mp_atomic *a)
{
	if (a->fp)
		fclose(a->fp);
	if (a->tmp)
		unlink(a->tmp);
	free(a->tmp);
	free(a->path);
	memset(a, 0, sizeof *a);
}

mp_status mp_atomic_commit(struct mp_atomic *a, struct mp_error *err)
{
	int e = 0;
	if (fflush(a->fp) != 0 || ferror(a->fp))
		e = errno ? errno : EIO;
	else if (fsync(fileno(a->fp)) != 0)
		e = errno;
	int c = fclose(a->fp);
	a->fp = NULL;
	if (!e && c != 0)
		e = errno;
	if (!e && rename(a->tmp, a->path) != 0)
		e = errno;
	if (e) {
		mp_status st = mp_error_set(err, MP_EIO, "%s: cannot write: %s",
					    a->path, strerror(e));
		mp_atomic_abort(a);
		return st;
	}
	char *dir = dir_of(a->path);
	int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir);
	free(a->tmp);
	a->tmp = NULL; /* renamed: nothing to remove */
	mp_atomic_abort(a);
	return MP_OK;
}

mp_status mp_atomic_write(const char *path, const char *text,
			  struct mp_error *err)
{
	struct mp_atomic a;
	mp_status st = mp_atomic_open(&a, path, err);
	if (st != MP_OK)
		return st;
	size_t len = strlen(text);
	if (fwrite(text, 1, len, a.fp) != len) {
		st = mp_error_set(err, MP_EIO, "%s: cannot write: %s", path,
				  strerror(errno));
		mp_atomic_abort(&a);
		return st;
	}
	return mp_atomic_commit(&a, err);
}

/* mkdir -p; 0 or the errno of the failing step. */
static int mkdir_parents(const char *dir)
{
	char *p = mp_strdup(dir);
	if (!p)
		return ENOMEM;
	int e = 0;
	for (char *s = p + 1; *s && !e; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			e = errno;
		*s = '/';
	}
	if (!e && mkdir(p, 0777) != 0 && errno != EEXIST)
		e = errno;
	free(p);
	return e;
}

mp_status mp_mkdir_p(const char *dir, struct mp_error *err)
{
	int e = mkdir_parents(dir);
	if (e)
		return mp_error_set(err, e == EACCES ? MP_EPERM : MP_EIO,
				    "%s: cannot create: %s", dir, strerror(e));
	return MP_OK;
}

mp_status mp_dir_prepare(const char *dir, const char *what,
			 struct mp_error *err)
{
	int e = mkdir_parents(dir);
	struct stat st;
	if (!e && stat(dir, &st) != 0)
		e = errno;
	else if (!e && !S_ISDIR(st.st_mode))
		e = ENOTDIR;
	if (!e) {
		char *probe = mp_path_join(dir, ".write-probe");
		struct mp_atomic a;
		struct mp_error ignored;
		if (!probe)
			e = ENOMEM;
		else if (mp_atomic_open(&a, probe, &ignored) != MP_OK)
			e = errno;
		else
			mp_atomic_abort(&a);
		free(probe);
	}
	if (e)
		return mp_error_set(err, e == ENOMEM ? MP_ENOMEM : MP_EPERM,
				    "%s: cannot write the %s: %s", dir, what,
				    strerror(e));
	return MP_OK;
}
