/* SPDX-License-Identifier: MIT */
/* What /proc/PID/status says of a process's credentials and namespace pid. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "record.h"

/* Number index (from 0; -1: the last) of the line "key\tA\tB ..." in base. */
static bool field(const char *text, const char *key, int index, int base, unsigned long long *v)
{
	const char *p = strstr(text, key), *end;
	bool found = false;

	while (p && p != text && p[-1] != '\n')
		p = strstr(p + 1, key);
	if (!p)
		return false;
	p += strlen(key);
	end = strchr(p, '\n');
	if (!end)
		end = p + strlen(p);
	for (int i = 0;; i++) {
		char *next;
		unsigned long long x = strtoull(p, &next, base);

		if (next == p || next > end)
			return found;
		*v = x;
		found = true;
		if (i == index)
			return true;
		p = next;
	}
}

int proc_status__read(uint32_t pid, struct proc_status *st)
{
	char path[48], buf[8192];
	unsigned long long v;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	memset(st, 0, sizeof(*st));
	if (!field(buf, "Uid:", 0, 10, &v))
		return -1;
	st->uid = v;
	st->euid = field(buf, "Uid:", 1, 10, &v) ? v : st->uid;
	st->gid = field(buf, "Gid:", 0, 10, &v) ? v : 0;
	st->egid = field(buf, "Gid:", 1, 10, &v) ? v : st->gid;
	/* The innermost namespace's pid: the one the process knows itself by. */
	st->nspid = field(buf, "NSpid:", -1, 10, &v) ? v : pid;
	st->tgid = field(buf, "Tgid:", 0, 10, &v) ? v : pid;
	st->sig_caught = field(buf, "SigCgt:", 0, 16, &v) ? v : 0;
	return 0;
}

char *procfs__read(const char *path, size_t *len, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096;
	char *buf = NULL, *g;
	ssize_t n;

	*len = 0;
	if (fd < 0)
		return NULL;
	for (buf = malloc(cap); buf; buf = g) {
		n = read(fd, buf + *len, cap - *len - 1);
		if (n <= 0)
			break;
		*len += (size_t)n;
		g = buf;
		if (*len > max) {
			g = NULL;
		} else if (cap - *len < cap / 4) {
			g = realloc(buf, cap * 2);
			cap *= 2;
		}
		if (!g)
			free(buf);
	}
	if (buf && n < 0) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[*len] = 0;
	close(fd);
	return buf;
}

/* /proc/PID/stat (malloc'd), *fields at what follows the name: it may hold
 * anything but is in parentheses, so the fields follow the last ')'.  NULL if none. */
static char *read_stat(uint32_t pid, const char **fields)
{
	char path[64], *s, *after;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	if (!(s = procfs__read(path, &len, 4096)))
		return NULL;
	if (!(after = strrchr(s, ')'))) {
		free(s);
		return NULL;
	}
	*fields = after + 1;
	return s;
}

uint64_t procfs__start_ns(uint32_t pid)
{
	const char *after;
	char *s = read_stat(pid, &after);
	unsigned long long ticks = 0;
	struct timespec boot, mono;
	long hz = sysconf(_SC_CLK_TCK);
	int64_t ns;

	if (!s)
		return 0;
	/* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime priority nice num_threads itrealvalue starttime */
	if (sscanf(after, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			     &ticks) != 1 || hz <= 0) {
		free(s);
		return 0;
	}
	free(s);
	/* ticks since boot on CLOCK_BOOTTIME; the monotonic clock stops in suspend */
	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	ns = (int64_t)(ticks * (1000000000ULL / hz)) - ((boot.tv_sec - mono.tv_sec) * 1000000000LL +
							 (boot.tv_nsec - mono.tv_nsec));
	return ns > 0 ? (uint64_t)ns : 1;
}

bool procfs__exited(uint32_t pid)
{
	const char *after;
	char *s = read_stat(pid, &after);
	bool gone = !s || after[0] != ' ' || after[1] == 'Z' || after[1] == 'X';

	free(s);
	return gone;
}

bool procfs__read_mem(uint32_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	return process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}
