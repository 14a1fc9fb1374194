/* SPDX-License-Identifier: MIT */
/* One small logger for both tools: errors always, the rest by -v count. */
#ifndef DF_LOG_H
#define DF_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_init(const char *prog, int verbosity);
int log_verbosity(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A status line on stderr, redrawn in place; only when stderr is a terminal.
 * Messages erase it first; log_status_end erases it for good. */
#include <stdbool.h>
bool log_status_wanted(void);
void log_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_status_end(void);
#include <stdint.h>
/* A progress line for work that has taken over two seconds so far, redrawn at most five times a second. */
void log_progress(const char *what, uint64_t done, uint64_t total);

#define pr_err(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
