/* SPDX-License-Identifier: MIT */
/*
 * --rotate: the archives of a continuous recording, one per interval, in one
 * directory.  Each is named by the host and its start, so names sort by
 * time; an archive takes its name only once complete (dfa_writer__finish),
 * so the directory holds finished archives and at most one temporary file.
 * --keep deletes the oldest of this host's archives, and only regular files
 * of exactly that name form: nothing else in the directory is touched.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "record.h"

/* HOST-YYYYmmddTHHMMSS.mmmZ.dfa */
#define STAMP_LEN 20

struct rotation {
	char *dir;
	int dirfd;
	char host[64];		/* the host name as file names have it */
	uint64_t keep_archives, keep_bytes;
};

struct rotation *rotation__new(const char *dir, const char *host, uint64_t keep_archives, uint64_t keep_bytes)
{
	struct rotation *rot = calloc(1, sizeof(*rot));
	struct stat st;
	size_t i;

	if (!rot)
		return NULL;
	rot->dirfd = -1;
	rot->keep_archives = keep_archives;
	rot->keep_bytes = keep_bytes;
	/* A name from uname(2) may hold anything: only these bytes go into a file name. */
	for (i = 0; host[i] && i + 1 < sizeof(rot->host); i++)
		rot->host[i] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", host[i]) ?
			host[i] : '_';
	if (!i)
		rot->host[i++] = '_';
	rot->host[i] = 0;
	/* Without its trailing slashes, so that a link there is not followed either. */
	rot->dir = strdup(dir);
	if (!rot->dir)
		goto fail;
	for (i = strlen(rot->dir); i > 1 && rot->dir[i - 1] == '/'; i--)
		rot->dir[i - 1] = 0;
	if (mkdir(rot->dir, 0700) && errno != EEXIST) {
		pr_err("%s: cannot make the directory: %s", dir, strerror(errno));
		goto fail;
	}
	rot->dirfd = open(rot->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rot->dirfd < 0) {
		int err = errno;

		pr_err("%s: %s", dir, !lstat(rot->dir, &st) && S_ISLNK(st.st_mode) ?
		       "a symbolic link (--rotate takes the directory itself)" : err == ENOTDIR ?
		       "not a directory (--rotate writes archives into one)" : strerror(err));
		goto fail;
	}
	/* Later archives are made after dfrecord has dropped its privileges,
	 * and another user could rename or replace what dfrecord deletes. */
	if (fstat(rot->dirfd, &st) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		pr_err("%s: with --rotate the directory must be dfrecord's own (owned by uid %u, not writable by "
		       "others)", dir, (unsigned)geteuid());
		goto fail;
	}
	return rot;
fail:
	rotation__free(rot);
	return NULL;
}

void rotation__free(struct rotation *rot)
{
	if (!rot)
		return;
	if (rot->dirfd >= 0)
		close(rot->dirfd);
	free(rot->dir);
	free(rot);
}

char *rotation__path(const struct rotation *rot, uint64_t wall_ns)
{
	time_t t = wall_ns / 1000000000ULL;
	struct tm tm;
	char stamp[32], *path;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	if (asprintf(&path, "%s/%s-%s.%03uZ.dfa", rot->dir, rot->host, stamp,
		     (unsigned)(wall_ns / 1000000ULL % 1000)) < 0)
		return NULL;
	return path;
}

/* Whether name is one of this host's archives. */
static bool is_archive(const struct rotation *rot, const char *name)
{
	size_t h = strlen(rot->host), n = strlen(name);
	const char *s = name + h + 1;

	if (n != h + 1 + STAMP_LEN + 4 || strncmp(name, rot->host, h) || name[h] != '-' || strcmp(s + STAMP_LEN, ".dfa"))
		return false;
	for (int i = 0; i < STAMP_LEN; i++) {
		char c = s[i];
		bool ok = i == 8 ? c == 'T' : i == 15 ? c == '.' : i == 19 ? c == 'Z' : c >= '0' && c <= '9';

		if (!ok)
			return false;
	}
	return true;
}

struct kept {
	char *name;
	uint64_t bytes;
};

static int newest_first(const void *a, const void *b)
{
	return strcmp(((const struct kept *)b)->name, ((const struct kept *)a)->name);
}

void rotation__prune(const struct rotation *rot)
{
	struct kept *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t bytes = 0;
	struct dirent *de;
	int fd;
	DIR *d;

	if (!rot->keep_archives && !rot->keep_bytes)
		return;
	fd = dup(rot->dirfd);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		pr_warn("%s: cannot list the archives: %s", rot->dir, strerror(errno));
		return;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;

		if (!is_archive(rot, de->d_name) || fstatat(rot->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) || array_grow(&v, &cap, n + 1, sizeof(*v), 64))
			continue;
		v[n].name = strdup(de->d_name);
		v[n].bytes = (uint64_t)st.st_size;
		if (v[n].name)
			n++;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), newest_first);
	for (size_t i = 0; i < n; i++) {
		bytes += v[i].bytes;
		if ((rot->keep_archives && i >= rot->keep_archives) || (rot->keep_bytes && bytes > rot->keep_bytes && i)) {
			if (unlinkat(rot->dirfd, v[i].name, 0) && errno != ENOENT)
				pr_warn("%s/%s: cannot delete: %s", rot->dir, v[i].name, strerror(errno));
			else
				pr_info("%s/%s: deleted (--keep)", rot->dir, v[i].name);
		}
		free(v[i].name);
	}
	free(v);
}
