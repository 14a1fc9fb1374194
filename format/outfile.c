/* SPDX-License-Identifier: MIT */
/*
 * Output files that cannot be turned against their writer: a new file made
 * beside the target (O_CREAT|O_EXCL|O_NOFOLLOW, so no planted link or FIFO
 * is ever opened), renamed over the target only when the caller says the
 * output is good.  rename() replaces a link at the target rather than
 * following it, and a failed run leaves an existing target as it was.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dfa_private.h"

struct dfa_outfile {
	char *path, *tmp;
	int fd;
	bool committed;
	char err[512];
};

#define FAIL(f, code, ...) (dfa_errorf((f)->err, sizeof((f)->err), __VA_ARGS__), (code))

/* "DIR/.BASE.XXXXXX": the base is cut so the name stays within NAME_MAX. */
static char *temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dir_len = slash ? (int)(slash - path + 1) : 0;
	uint64_t r = 0;
	char *s;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r ^= (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&r;
	if (asprintf(&s, "%.*s.%.200s.%012llx", dir_len, path, base,
		     (unsigned long long)(r & 0xffffffffffffULL)) < 0)
		return NULL;
	return s;
}

struct dfa_outfile *dfa_outfile__new(void)
{
	struct dfa_outfile *f = calloc(1, sizeof(*f));

	if (f)
		f->fd = -1;
	return f;
}

int dfa_outfile__create(struct dfa_outfile *f, const char *path, mode_t mode)
{
	const char *base = strrchr(path, '/');
	struct stat st;

	base = base ? base + 1 : path;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return FAIL(f, DFA_FAILED, "%s: not a file name", path);
	/* Said early, in the words the user knows, rather than by rename(). */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return FAIL(f, DFA_FAILED, "%s: is a directory", path);
	f->path = strdup(path);
	if (!f->path)
		return FAIL(f, DFA_FATAL, "out of memory");
	for (int tries = 0; tries < 16; tries++) {
		free(f->tmp);
		f->tmp = temp_name(path);
		if (!f->tmp)
			return FAIL(f, DFA_FATAL, "out of memory");
		f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (f->fd >= 0 || errno != EEXIST)
			break;
	}
	if (f->fd < 0)
		return FAIL(f, DFA_FAILED, "%s: %s", path, strerror(errno));
	/* The mode asked for, whatever the umask; never more. */
	if (fchmod(f->fd, mode & 0777))
		return FAIL(f, DFA_FAILED, "%s: %s", path, strerror(errno));
	return DFA_OK;
}

int dfa_outfile__fd(const struct dfa_outfile *f)
{
	return f->fd;
}

const char *dfa_outfile__path(const struct dfa_outfile *f)
{
	return f->path ? f->path : "";
}

int dfa_outfile__commit(struct dfa_outfile *f)
{
	if (f->committed)
		return DFA_OK;
	if (!f->tmp)
		return FAIL(f, DFA_FAILED, "no file to commit");
	if (rename(f->tmp, f->path))
		return FAIL(f, DFA_FAILED, "%s: %s", f->path, strerror(errno));
	f->committed = true;
	return DFA_OK;
}

bool dfa_outfile__committed(const struct dfa_outfile *f)
{
	return f->committed;
}

/* The descriptor is the caller's once taken (fdopen, say): not closed here then. */
int dfa_outfile__take_fd(struct dfa_outfile *f)
{
	int fd = f->fd;

	f->fd = -1;
	return fd;
}

const char *dfa_outfile__error(const struct dfa_outfile *f)
{
	return f->err;
}

void dfa_outfile__free(struct dfa_outfile *f)
{
	if (!f)
		return;
	if (f->tmp && !f->committed)
		unlink(f->tmp);
	if (f->fd >= 0)
		close(f->fd);
	free(f->tmp);
	free(f->path);
	free(f);
}
