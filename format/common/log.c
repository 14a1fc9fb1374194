/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

static const char *log_prog = "dfprof";
/* warnings show by default; each -v adds a level */
static int log_level = LOG_WARN;
static int status_tty = -1;	/* whether stderr is a terminal; -1: not asked yet */
static bool status_shown;	/* a status line is on the terminal, without its newline */

static double progress_start, progress_last;
/* A progress line only for work that takes longer than this (DFPROF_PROGRESS_AFTER overrides, for tests). */
static double progress_after = 2.0;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void log_init(const char *prog, int verbosity)
{
	const char *after = getenv("DFPROF_PROGRESS_AFTER");

	log_prog = prog;
	log_level = LOG_WARN + verbosity;
	progress_start = now_s();
	if (after && *after)
		progress_after = atof(after);
}

int log_verbosity(void)
{
	return log_level - LOG_WARN;
}

/* A message starts on a clean line: the status line is erased first (and drawn again by its next update). */
static void status_erase(void)
{
	if (status_shown)
		fputs("\r\033[K", stderr);
	status_shown = false;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };
	va_list ap;

	if ((int)level > log_level)
		return;
	status_erase();
	fprintf(stderr, "%s: %s", log_prog, tag[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool log_status_wanted(void)
{
	if (status_tty < 0)
		status_tty = isatty(STDERR_FILENO);
	return status_tty > 0;
}

void log_status(const char *fmt, ...)
{
	va_list ap;

	if (!log_status_wanted())
		return;
	fprintf(stderr, "\r\033[K%s: ", log_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	status_shown = true;
}

void log_progress(const char *what, uint64_t done, uint64_t total)
{
	double t;

	if (!log_status_wanted())
		return;
	t = now_s();
	if (t - progress_start < progress_after || t - progress_last < 0.2)
		return;
	progress_last = t;
	log_status("%s: %llu of %llu (%.0f%%)", what, (unsigned long long)done, (unsigned long long)total,
		   total ? 100.0 * done / total : 100.0);
}

void log_status_end(void)
{
	status_erase();
	fflush(stderr);
}
