/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

static const char *log_prog = "dfprof";
/* warnings show by default; each -v adds a level */
static int log_level = LOG_WARN;

void log_init(const char *prog, int verbosity)
{
	log_prog = prog;
	log_level = LOG_WARN + verbosity;
}

int log_verbosity(void)
{
	return log_level - LOG_WARN;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };
	va_list ap;

	if ((int)level > log_level)
		return;
	fprintf(stderr, "%s: %s", log_prog, tag[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
