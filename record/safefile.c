/* SPDX-License-Identifier: MIT */
/*
 * Files a recorded process controls, opened by a recorder that runs as root:
 * resolved inside the process's own root (openat2 RESOLVE_IN_ROOT, so no
 * link leads out of it), first as an O_PATH handle that is checked to be a
 * regular file before anything is opened for reading (a FIFO or a device is
 * never opened), with the last component's link refused where asked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "record.h"

static int openat2_path(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = { .flags = flags, .resolve = resolve };

	return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Reopens an O_PATH handle of a regular file for reading (it never blocks). */
static int reopen_regular(int pfd, struct stat *st)
{
	char self[40];
	struct stat again;
	int fd;

	if (fstat(pfd, st) || !S_ISREG(st->st_mode)) {
		errno = S_ISREG(st->st_mode) ? errno : EINVAL;
		return -1;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &again) || again.st_dev != st->st_dev || again.st_ino != st->st_ino) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

int safefile__open(uint32_t pid, const char *path, unsigned flags, struct stat *st)
{
	char root[32];
	int rootfd = AT_FDCWD, pfd, fd = -1, e;
	uint64_t resolve = RESOLVE_NO_MAGICLINKS;

	if (pid) {
		snprintf(root, sizeof(root), "/proc/%u/root", pid);
		rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			return -1;
		resolve |= RESOLVE_IN_ROOT;
	}
	if (flags & SAFEFILE_NO_LINKS)
		resolve |= RESOLVE_NO_SYMLINKS;
	pfd = openat2_path(rootfd, path, O_PATH | O_CLOEXEC | ((flags & SAFEFILE_NO_LINKS) ? O_NOFOLLOW : 0),
			   resolve);
	if (pfd >= 0) {
		fd = reopen_regular(pfd, st);
		e = errno;
		close(pfd);
		errno = e;
	}
	if (rootfd >= 0) {
		e = errno;
		close(rootfd);
		errno = e;
	}
	return fd;
}

void safefile__map_files(char *buf, size_t len, uint32_t pid, uint64_t start, uint64_t end)
{
	snprintf(buf, len, "/proc/%u/map_files/%llx-%llx", pid, (unsigned long long)start, (unsigned long long)end);
}

int safefile__open_proc(const char *proc_link, struct stat *st)
{
	int pfd, fd, e;

	/* The kernel's own link (/proc/PID/map_files/...): to the very file the process maps. */
	pfd = open(proc_link, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	fd = reopen_regular(pfd, st);
	e = errno;
	close(pfd);
	errno = e;
	return fd;
}

char *safefile__read(int fd, const struct stat *st, size_t max, size_t *len)
{
	size_t want = (size_t)st->st_size, got = 0;
	char *buf;

	*len = 0;
	if ((uint64_t)st->st_size > max) {
		errno = EFBIG;
		return NULL;
	}
	buf = malloc(want + 1);
	if (!buf)
		return NULL;
	/* No more than fstat said: a file that grows meanwhile is cut there. */
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = 0;
	*len = got;
	return buf;
}
