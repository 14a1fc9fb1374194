/* SPDX-License-Identifier: MIT */
/*
 * Two threads that go through three spans in turn, each doing its own
 * function (two on the CPU, one asleep), and work outside any span.
 *   otelctx tls SECONDS        publishes the thread context (otelpub.c)
 *   otelctx otlp SECONDS FILE  publishes nothing; writes its spans to FILE
 *                              as OTLP JSON lines (the collector's file exporter)
 * Built with -DOTEL_DLOPEN, it loads the publisher with dlopen($OTELPUB)
 * after it started (its TLS then may be dynamic, in each thread's DTV).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "otelpub.h"

#ifdef OTEL_DLOPEN
#include <dlfcn.h>
static void (*enter_fn)(struct otel_thread_ctx_record *, const uint8_t *, const uint8_t *, const char *);
static void (*leave_fn)(void);
static void (*publish_fn)(const char *const *);
#define otel_enter enter_fn
#define otel_leave leave_fn
#define otel_publish_process_ctx publish_fn

static void load_publisher(void)
{
	void *h = getenv("OTELPUB") ? dlopen(getenv("OTELPUB"), RTLD_NOW) : NULL;

	if (!h || !(enter_fn = dlsym(h, "otel_enter")) || !(leave_fn = dlsym(h, "otel_leave")) ||
	    !(publish_fn = dlsym(h, "otel_publish_process_ctx"))) {
		fprintf(stderr, "otelctx: cannot load $OTELPUB: %s\n", dlerror());
		exit(1);
	}
}
#else
static void load_publisher(void)
{
}
#endif

#define SPAN_MS 40
#define MAX_SPANS 4096

struct span_log {
	uint8_t trace[16], span[8];
	uint64_t start, end;
};

struct worker {
	pthread_t th;
	int index;
	pid_t tid;
	struct span_log log[MAX_SPANS];
	int n;
};

static int publish;
static double seconds;
static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void spin(double s)
{
	double end = now() + s;

	while (now() < end)
		for (int i = 0; i < 20000; i++)
			sink += i * 7;
}

__attribute__((noinline)) void work_a(void) { spin(SPAN_MS / 1e3); }
/* With OTELCTX_ALLOC set, work_b also allocates (for memory samples in a span). */
static int allocate;

__attribute__((noinline)) void work_b(void)
{
	if (allocate)
		for (int i = 0; i < 64; i++) {
			char *p = malloc(16384 + i);

			if (p) {
				p[0] = (char)i;
				sink += p[0];
			}
			free(p);
		}
	spin(SPAN_MS / 1e3);
}
__attribute__((noinline)) void wait_c(void) { usleep(SPAN_MS * 1000); }
__attribute__((noinline)) void outside(void) { spin(SPAN_MS / 1e3); }

/* Trace k (1, 2, 3) of thread w; span k of it: distinct ids, known to the test. */
static void ids(int w, int k, uint8_t trace[16], uint8_t span[8])
{
	memset(trace, 0x11 * k, 16);
	trace[15] = (uint8_t)w;
	memset(span, 0xa0 + 0x11 * (k - 1), 8);
	span[7] = (uint8_t)w;
}

static void in_span(struct worker *w, int k, void (*fn)(void))
{
	static __thread struct otel_thread_ctx_record rec;
	struct span_log *l = w->n < MAX_SPANS ? &w->log[w->n++] : &w->log[MAX_SPANS - 1];
	static const char *const routes[] = { "", "GET /a", "GET /b", "GET /c" };

	ids(w->index, k, l->trace, l->span);
	l->start = wall_ns();
	if (publish)
		otel_enter(&rec, l->trace, l->span, routes[k]);
	fn();
	if (publish)
		otel_leave();
	l->end = wall_ns();
}

static void *run(void *arg)
{
	struct worker *w = arg;
	double end = now() + seconds;

	w->tid = gettid();
	while (now() < end) {
		in_span(w, 1, work_a);
		in_span(w, 2, work_b);
		in_span(w, 3, wait_c);
		outside();
	}
	return NULL;
}

static void hex(FILE *f, const uint8_t *b, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

/* One line per thread: resourceSpans / scopeSpans / spans. */
static void write_otlp(FILE *f, const struct worker *w)
{
	fprintf(f, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"process.pid\",\"value\":{\"intValue\":\"%d\"}}]},"
		"\"scopeSpans\":[{\"scope\":{\"name\":\"otelctx\"},\"spans\":[", getpid());
	for (int i = 0; i < w->n; i++) {
		const struct span_log *l = &w->log[i];

		fprintf(f, "%s{\"traceId\":\"", i ? "," : "");
		hex(f, l->trace, 16);
		fprintf(f, "\",\"spanId\":\"");
		hex(f, l->span, 8);
		fprintf(f, "\",\"name\":\"work\",\"kind\":1,\"startTimeUnixNano\":\"%llu\",\"endTimeUnixNano\":\"%llu\","
			"\"attributes\":[{\"key\":\"thread.id\",\"value\":{\"intValue\":\"%d\"}}]}",
			(unsigned long long)l->start, (unsigned long long)l->end, w->tid);
	}
	fprintf(f, "]}]}]}\n");
}

int main(int argc, char **argv)
{
	static struct worker w[2];
	FILE *out = NULL;

	if (argc < 3 || (strcmp(argv[1], "tls") && strcmp(argv[1], "otlp")) || (!strcmp(argv[1], "otlp") && argc < 4)) {
		fprintf(stderr, "usage: otelctx tls|otlp SECONDS [FILE]\n");
		return 2;
	}
	publish = !strcmp(argv[1], "tls");
	allocate = getenv("OTELCTX_ALLOC") != NULL;
	if (publish) {
		load_publisher();
		static const char *const keys[] = { "http.route", NULL };

		otel_publish_process_ctx(keys);
	}
	seconds = atof(argv[2]);
	if (!publish && !(out = fopen(argv[3], "w")))
		return 1;
	for (int i = 0; i < 2; i++) {
		w[i].index = i;
		pthread_create(&w[i].th, NULL, run, &w[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(w[i].th, NULL);
	if (out) {
		for (int i = 0; i < 2; i++)
			write_otlp(out, &w[i]);
		fclose(out);
	}
	return 0;
}
