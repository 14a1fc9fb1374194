/* SPDX-License-Identifier: MIT */
/*
 * JIT runtimes (Node --perf-basic-prof, Java agents, Python -X perf, LuaJIT)
 * describe their code in /tmp/perf-PID.map (PID as the process knows
 * itself).  Any user can put anything there, a link to a secret or a FIFO
 * among them: the file is read inside the process's root while it runs
 * (from this host's root after it exited), only if it is a regular file,
 * no link, owned by the process's user (or root, and readable by all), and
 * at most JIT_MAP_MAX bytes, and only if written since the process began
 * (a map left by an earlier process of that pid names other code).  A
 * HotSpot JVM writes none until asked (jvm.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "record.h"

#define JIT_MAP_MAX (256U << 20)

static bool owner_ok(const struct jit_image *im, const struct stat *st)
{
	if (!im->have_creds)
		return false;
	if (st->st_uid == im->uid || st->st_uid == im->euid)
		return true;
	return st->st_uid == 0 && (st->st_mode & S_IROTH);
}

/* Whether the file was last written before the process began (with 2 s for
 * the start's clock ticks and a clock set back meanwhile). */
static bool older_than(const struct jit_image *im, const struct stat *st)
{
	int64_t start_wall, written;

	if (!im->start)
		return false;	/* when it began is not known */
	start_wall = (int64_t)now_ns(CLOCK_REALTIME) - ((int64_t)now_ns(CLOCK_MONOTONIC) - (int64_t)im->start);
	written = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	return written < start_wall - 2000000000LL;
}

char *jitmaps__read_tmp(const struct jit_image *im, const char *fmt, size_t *len)
{
	char path[64];
	struct stat st;
	char *data = NULL;
	int fd;

	*len = 0;
	snprintf(path, sizeof(path), fmt, im->nspid ? im->nspid : im->pid);
	fd = im->gone ? -1 : safefile__open(im->pid, path, SAFEFILE_NO_LINKS, &st);
	/* Gone: this host's /tmp is its only if it shared our pid namespace. */
	if (fd < 0 && (!im->nspid || im->nspid == im->pid))
		fd = safefile__open(0, path, SAFEFILE_NO_LINKS, &st);
	if (fd < 0)
		return NULL;
	if (!owner_ok(im, &st))
		pr_warn("pid %u: %s belongs to uid %u, not the process's: not read", im->pid, path,
			(unsigned)st.st_uid);
	else if (st.st_nlink != 1)
		pr_warn("pid %u: %s has other names (hard links): not read", im->pid, path);
	else if (older_than(im, &st))
		pr_warn("pid %u: %s was last written before the process began (an earlier process's): not read",
			im->pid, path);
	else if (!(data = safefile__read(fd, &st, JIT_MAP_MAX, len)))
		pr_warn("pid %u: %s: %s", im->pid, path, strerror(errno));
	close(fd);
	return data;
}

/* HotSpot's interpreter as its perf map names it: interpreted Java frames
 * stand in for its frames (dfreport), even when the JVM wrote no map. */
static char *add_interpreter(char *data, size_t *len, const struct jit_image *im)
{
	char line[64];
	/* on a line of its own, after a map cut short in a line */
	int n = snprintf(line, sizeof(line), "%s%llx %llx Interpreter\n", *len && data[*len - 1] != '\n' ? "\n" : "",
			 (unsigned long long)im->interp_start, (unsigned long long)(im->interp_end - im->interp_start));
	char *more = realloc(data, *len + n + 1);

	if (!more)
		return data;
	memcpy(more + *len, line, n + 1);
	*len += n;
	return more;
}

void jitmaps__save(struct dfa_writer *w, const struct jit_image *im)
{
	char *data;
	size_t len = 0;

	data = jitmaps__read_tmp(im, "/tmp/perf-%u.map", &len);
	if (!data)
		len = 0;
	if (im->interp_end)
		data = add_interpreter(data, &len, im);
	if (data && len && dfa_writer__add_jit_map(w, im->pid, im->begin, data, len) != DFA_OK)
		pr_warn("pid %u: JIT map: %s", im->pid, dfa_writer__error(w));
	else if (data && len)
		pr_debug("pid %u: stored its JIT map (%zu bytes)", im->pid, len);
	free(data);
	/* dfprof's JVMTI agent: when each piece of code came and went. */
	data = jitmaps__read_tmp(im, "/tmp/dfprof-code-%u.log", &len);
	if (data && len && dfa_writer__add_jit_log(w, im->pid, im->begin, data, len) != DFA_OK)
		pr_warn("pid %u: JIT code log: %s", im->pid, dfa_writer__error(w));
	free(data);
}
