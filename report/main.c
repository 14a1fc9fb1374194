/* SPDX-License-Identifier: MIT */
/* dfreport: symbolize and analyze a .dfa archive, offline, from the archive alone. */
#define _GNU_SOURCE
#include <argp.h>
#include <time.h>
#include <libelf.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "log.h"
#include "report.h"
#include "clickhouse.h"

const char *argp_program_version = "dfreport " PACKAGE_VERSION;

static const char doc[] =
	"Report on a .dfa archive written by dfrecord, using nothing but the archive.\v"
	"EXAMPLES:\n"
	"  dfreport                              top functions by self time, from ./prof.dfa\n"
	"  dfreport --flame prof.dfa             interactive flame graph in prof.svg\n"
	"  dfreport --html prof.dfa              one page: flame graph, table, time heat map (prof.html)\n"
	"  dfreport --folded --comm nginx prof.dfa | flamegraph.pl > nginx.svg\n"
	"  dfreport --info prof.dfa              metadata, losses, archive size, symbol coverage\n"
	"  dfreport --time 2.5:4 --pid 1234 prof.dfa\n"
	"  dfreport --flame --diff before.dfa -o what-changed.svg after.dfa\n"
	"  dfreport --callers '^malloc$' prof.dfa   who calls malloc, merged\n"
	"  dfreport --pprof prof.dfa && go tool pprof -top prof.pb.gz\n"
	"  dfreport --spans prof.dfa                  trace spans by CPU and wait time\n"
	"  dfreport --flame --trace 4bf92f3577b34da6a3ce929d0e0e4736 prof.dfa\n"
	"  dfreport --spans-from spans.jsonl --span 00f067aa0ba902b7 --folded prof.dfa\n"
	"  dfreport --clickhouse http://127.0.0.1:8123/ --export /var/lib/dfprof/*.dfa\n"
	"  dfreport --clickhouse http://127.0.0.1:8123/ --host web1 --time 2026-12-01T10:00,2026-12-01T11:00 --flame\n"
	"  dfreport --clickhouse http://127.0.0.1:8123/ --host web2 --diff web1 --flame   two hosts compared\n"
	"\n"
	"EXIT STATUS:\n"
	"  0  report written\n"
	"  1  error (unreadable or corrupt archive, cannot write output, ClickHouse unreachable or refusing)\n"
	"  2  usage error";

static const char args_doc[] = "[ARCHIVE]\n--clickhouse URL --export ARCHIVE...\n--clickhouse URL [FILTERS] [MODE]";

enum { OPT_FOLDED = 0x100, OPT_FLAME, OPT_INFO, OPT_TOP, OPT_EVENT, OPT_PID, OPT_TID, OPT_COMM,
       OPT_TIME, OPT_LIMIT, OPT_TITLE, OPT_NO_UNWIND, OPT_TIMELINE, OPT_LINES, OPT_SPEEDSCOPE, OPT_PPROF, OPT_DEBUGINFOD, OPT_DIFF,
       OPT_CALLERS, OPT_CALLEES, OPT_HTML, OPT_CLICKHOUSE, OPT_EXPORT, OPT_HOST_NAME, OPT_HOST, OPT_TRACE, OPT_SPAN,
       OPT_SPANS, OPT_SPANS_FROM, OPT_PID_FRAMES, OPT_TID_FRAMES };

/* --event's doc comes from the event table (event_doc). */
static struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Mode (one of):", 1 },
	{ "top", OPT_TOP, NULL, 0, "Table of functions by self and total share (default)", 1 },
	{ "folded", OPT_FOLDED, NULL, 0, "Folded stacks, one line per stack: comm;frame;...;leaf value", 1 },
	{ "flame", OPT_FLAME, NULL, 0, "Interactive SVG flame graph (default file: ARCHIVE with .svg)", 1 },
	{ "info", OPT_INFO, NULL, 0, "Metadata, counters, member sizes and symbol coverage", 1 },
	{ "diff", OPT_DIFF, "BASE.dfa", 0, "Compare with BASE: the top table by change of self share, "
	  "with --folded \"stack base new\" lines (flamegraph.pl's difffolded), with --flame a "
	  "differential flame graph", 1 },
	{ "callers", OPT_CALLERS, "NAME", 0, "Who calls the functions NAME matches (a regular expression): "
	  "their callers merged, outward, with shares (perf report -G, pprof -peek)", 1 },
	{ "callees", OPT_CALLEES, "NAME", 0, "What the functions NAME matches call: the stacks below them "
	  "merged, with shares", 1 },
	{ "timeline", OPT_TIMELINE, NULL, 0, "Memory in use over time, and its peak", 1 },
	{ "speedscope", OPT_SPEEDSCOPE, NULL, 0, "JSON for speedscope.app (default file: ARCHIVE with .speedscope.json)", 1 },
	{ "html", OPT_HTML, NULL, 0, "One self-contained page (default file: ARCHIVE with .html): flame graph, "
	  "function table, a heat map of time to pick a range from (#t=START:END), every event recorded", 1 },
	{ "spans", OPT_SPANS, NULL, 0, "Table of trace spans by CPU time and wait time", 1 },
	{ "pprof", OPT_PPROF, NULL, 0, "pprof's profile.proto, gzipped, as Go writes it (default file: ARCHIVE with .pb.gz)", 1 },
	{ NULL, 0, NULL, 0, "Filters:", 2 },
	{ "event", OPT_EVENT, "EVENT", 0, NULL, 2 },
	{ "pid", OPT_PID, "PID[,PID..]", 0, "Only these processes", 2 },
	{ "tid", OPT_TID, "TID[,TID..]", 0, "Only these threads", 2 },
	{ "comm", OPT_COMM, "NAME", 0, "Only processes with this name", 2 },
	{ "time", OPT_TIME, "START:END", 0, "Only seconds START to END since the recording began "
	  "(either may be empty); or wall-clock START,END in UTC as 2026-12-01T10:00[:SS] or @EPOCH", 2 },
	{ "host", OPT_HOST, "NAME", 0, "With --clickhouse: only samples of this host", 2 },
	{ "trace", OPT_TRACE, "ID", 0, "Only samples taken in this trace (32 hex digits): the thread's "
	  "OpenTelemetry context, or --spans-from", 2 },
	{ "span", OPT_SPAN, "ID", 0, "Only samples taken in this span (16 hex digits)", 2 },
	{ "spans-from", OPT_SPANS_FROM, "FILE", 0, "Spans as OTLP JSON lines (the collector's file exporter): a "
	  "sample of a thread that published no context takes the innermost span of its thread.id and "
	  "process.pid around it", 2 },
	{ NULL, 0, NULL, 0, "ClickHouse (docs/clickhouse.md):", 4 },
	{ "clickhouse", OPT_CLICKHOUSE, "URL", 0, "The server's HTTP interface, http://[USER:PASSWORD@]HOST:PORT/"
	  "[?database=NAME]: reports aggregate there (the modes top, folded, flame, pprof, speedscope, callers, "
	  "callees; --diff HOST compares with another host)", 4 },
	{ "export", OPT_EXPORT, NULL, 0, "Export the ARCHIVEs to --clickhouse (tables made when missing; an "
	  "archive exported before is skipped)", 4 },
	{ "host-name", OPT_HOST_NAME, "NAME", 0, "With --export: the host the samples are of (default: the "
	  "archive's)", 4 },
	{ NULL, 0, NULL, 0, "Output:", 3 },
	{ "output", 'o', "FILE", 0, "Write here instead of standard output", 3 },
	{ "limit", OPT_LIMIT, "N", 0, "Top table rows (default 40, 0 = all)", 3 },
	{ "title", OPT_TITLE, "TEXT", 0, "Flame graph title", 3 },
	{ "pid-frames", OPT_PID_FRAMES, NULL, 0, "A [pid N] frame under each process name (folded, flame, "
	  "top...; as perf script | stackcollapse-perf.pl --pid)", 3 },
	{ "tid-frames", OPT_TID_FRAMES, NULL, 0, "[pid N] and [tid N] frames under each process name", 3 },
	{ "no-unwind", OPT_NO_UNWIND, NULL, 0, "Ignore recorded stack copies: frame-pointer chains as BPF walked them", 3 },
	{ "lines", OPT_LINES, NULL, 0, "Source file:line with each user frame (from DWARF in the archive)", 3 },
	{ "debuginfod", OPT_DEBUGINFOD, NULL, 0, "Fetch objects and debug files the archive lacks, by build-id, "
	  "from the servers in DEBUGINFOD_URLS", 3 },
	{ "verbose", 'v', NULL, 0, "More messages; repeat for more", 3 },
	{ 0 }
};

struct args {
	struct report_opts o;
	int verbose;
	int modes;
	size_t cap_archives;
};

/* What goes with --clickhouse, and what needs it. */
static void check_clickhouse(struct args *a, struct argp_state *state)
{
	const struct report_opts *o = &a->o;

	if (!o->clickhouse) {
		if (o->export || o->host_name || o->host)
			argp_error(state, "--%s goes with --clickhouse URL", o->export ? "export" : o->host_name ?
				   "host-name" : "host");
		return;
	}
	if (o->spans_from || o->mode == MODE_SPANS || o->pid_frames)
		argp_error(state, "--%s goes with an archive, not --clickhouse", o->spans_from ? "spans-from" :
			   o->mode == MODE_SPANS ? "spans" : o->tid_frames ? "tid-frames" : "pid-frames");
	if (o->export) {
		if (!o->n_archives)
			argp_error(state, "--export: name the archives to export");
		if (a->modes || o->host || o->trace || o->span || o->has_time || o->n_pids || o->n_tids || o->comm)
			argp_error(state, "--export takes every sample of the archives: no mode or filter");
		return;
	}
	if (o->n_archives)
		argp_error(state, "with --clickhouse, a report reads the server, not '%s' (--export exports it)",
			   o->archives[0]);
	if (o->host_name)
		argp_error(state, "--host-name goes with --export (--host filters a query)");
	if (o->diff && strlen(o->diff) > 4 && !strcmp(o->diff + strlen(o->diff) - 4, ".dfa"))
		argp_error(state, "with --clickhouse, --diff takes the host to compare with, not '%s'", o->diff);
	if (o->mode == MODE_INFO || o->mode == MODE_TIMELINE || o->mode == MODE_HTML)
		argp_error(state, "--%s reads an archive; with --clickhouse: --top, --folded, --flame, --pprof, "
			   "--speedscope, --callers or --callees", o->mode == MODE_INFO ? "info" :
			   o->mode == MODE_TIMELINE ? "timeline" : "html");
	if (o->lines || o->no_unwind || o->debuginfod)
		argp_error(state, "--lines, --no-unwind and --debuginfod go with --export: the server holds named stacks");
}

void oom(void)
{
	fprintf(stderr, "dfreport: error: out of memory\n");
	exit(1);
}

void *must_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void must_grow(void *arrp, size_t *cap, size_t need, size_t size, size_t min)
{
	if (array_grow(arrp, cap, need, size, min))
		oom();
}

char *must_strdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		oom();
	return d;
}

static const char *event_list(void)
{
	static char buf[256];

	dfa_event__list(buf, sizeof(buf), false);
	return buf;
}

/* --event's doc: each event of the table with what it shows. */
static void event_doc(struct argp_option *opts)
{
	static char buf[1024];
	size_t n = snprintf(buf, sizeof(buf), "The event to show (default: on-cpu if recorded): ");

	dfa_event__list(buf + n, sizeof(buf) - n, true);
	for (struct argp_option *opt = opts; opt->name || opt->doc; opt++)
		if (opt->key == OPT_EVENT)
			opt->doc = buf;
}

/* A wall-clock time, UTC: 2026-12-01T10:00[:SS[.FRAC]][Z] (or a space for T), or @EPOCH. */
static int parse_wall(const char *s, size_t len, double *out)
{
	char buf[64], *end;
	struct tm tm = { 0 };
	double sec = 0;
	int n = 0;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (buf[0] == '@') {
		*out = strtod(buf + 1, &end);
		return *end || end == buf + 1 || *out < 0 ? -1 : 0;
	}
	if (len && buf[len - 1] == 'Z')
		buf[--len] = 0;
	if (sscanf(buf, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &n) != 5)
		return -1;
	if (buf[n] == ':') {
		sec = strtod(buf + n + 1, &end);
		if (end == buf + n + 1 || sec < 0 || sec >= 61)
			return -1;
		n = end - buf;
	}
	if (buf[n] || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	*out = (double)timegm(&tm) + sec;
	return 0;
}

/* One end of --time: empty (keeps *out), seconds since the start, or a wall-clock time (*wall). */
static int parse_time_end(const char *s, size_t len, double *out, int *wall)
{
	char *end;

	if (!len)
		return 0;
	if (parse_wall(s, len, out) == 0) {
		*wall |= 1;
		return 0;
	}
	*wall |= 2;
	*out = strtod(s, &end);
	return end != s + len || *out < 0 ? -1 : 0;
}

/* START:END in seconds since the recording began, or START,END (either kind). */
static int parse_time(const char *arg, struct report_opts *o)
{
	const char *sep = strchr(arg, ',');
	int wall = 0;

	if (!sep)
		sep = strchr(arg, ':');
	if (!sep)
		return -1;
	o->t_start = 0;
	o->t_end = 1e18;
	if (parse_time_end(arg, sep - arg, &o->t_start, &wall) ||
	    parse_time_end(sep + 1, strlen(sep + 1), &o->t_end, &wall) || wall == 3 || o->t_end <= o->t_start)
		return -1;
	o->time_wall = wall == 1;
	o->has_time = true;
	return 0;
}

/* --trace or --span (opt, what): bytes as bytes in bin, and in lower-case hex in *hex. */
static void id_option(struct argp_state *state, const char *opt, const char *what, const char *arg, uint8_t *bin,
		      size_t bytes, const char **hex)
{
	char *text;

	if (*hex)
		argp_error(state, "%s: one %s at a time", opt, what);
	if (!traces__parse_id(arg, bin, bytes))
		argp_error(state, "%s: '%s' is not a %s id (%zu hexadecimal digits)", opt, arg, what, 2 * bytes);
	text = must_realloc(NULL, 2 * bytes + 1);
	traces__hex(bin, bytes, text);
	*hex = text;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	char *end;

	switch (key) {
	case OPT_TOP: a->o.mode = MODE_TOP; a->modes++; break;
	case OPT_FOLDED: a->o.mode = MODE_FOLDED; a->modes++; break;
	case OPT_FLAME: a->o.mode = MODE_FLAME; a->modes++; break;
	case OPT_INFO: a->o.mode = MODE_INFO; a->modes++; break;
	case OPT_TIMELINE: a->o.mode = MODE_TIMELINE; a->modes++; break;
	case OPT_DIFF: a->o.diff = arg; break;
	case OPT_SPEEDSCOPE: a->o.mode = MODE_SPEEDSCOPE; a->modes++; break;
	case OPT_PPROF: a->o.mode = MODE_PPROF; a->modes++; break;
	case OPT_HTML: a->o.mode = MODE_HTML; a->modes++; break;
	case OPT_SPANS: a->o.mode = MODE_SPANS; a->modes++; break;
	case OPT_SPANS_FROM:
		if (!*arg)
			argp_error(state, "--spans-from: empty file name");
		a->o.spans_from = arg;
		break;
	case OPT_PID_FRAMES: a->o.pid_frames = true; break;
	case OPT_TID_FRAMES: a->o.pid_frames = a->o.tid_frames = true; break;
	case OPT_CALLERS:
	case OPT_CALLEES: {
		regex_t re;

		if (!*arg || regcomp(&re, arg, REG_EXTENDED | REG_NOSUB))
			argp_error(state, "invalid function pattern '%s' (an extended regular expression)", arg);
		regfree(&re);
		a->o.mode = key == OPT_CALLERS ? MODE_CALLERS : MODE_CALLEES;
		a->o.calls = arg;
		a->modes++;
		break;
	}
	case OPT_EVENT:
		a->o.event = dfa_event__parse(arg);
		if (a->o.event < 0)
			argp_error(state, "unknown event '%s' (%s)", arg, event_list());
		break;
	case OPT_PID:
		if (id_list_parse(arg, 0, UINT32_MAX, false, &a->o.pids, &a->o.n_pids))
			argp_error(state, "invalid pid list '%s'", arg);
		break;
	case OPT_TID:
		if (id_list_parse(arg, 0, UINT32_MAX, false, &a->o.tids, &a->o.n_tids))
			argp_error(state, "invalid tid list '%s'", arg);
		break;
	case OPT_COMM: a->o.comm = arg; break;
	case OPT_TIME:
		if (parse_time(arg, &a->o))
			argp_error(state, "invalid time range '%s' (START:END in seconds, or START,END with "
				   "wall-clock times such as 2026-12-01T10:00:00)", arg);
		break;
	case OPT_CLICKHOUSE: a->o.clickhouse = arg; break;
	case OPT_EXPORT: a->o.export = true; break;
	case OPT_HOST_NAME:
		if (!*arg)
			argp_error(state, "--host-name: empty name");
		a->o.host_name = arg;
		break;
	case OPT_HOST: a->o.host = arg; break;
	case OPT_TRACE: id_option(state, "--trace", "trace", arg, a->o.trace_id, 16, &a->o.trace); break;
	case OPT_SPAN: id_option(state, "--span", "span", arg, a->o.span_id, 8, &a->o.span); break;
	case 'o':
		if (!*arg)
			argp_error(state, "empty output file name");
		a->o.output = arg;
		break;
	case OPT_LIMIT:
		errno = 0;
		a->o.limit = strtoul(arg, &end, 10);
		if (errno || *end || end == arg)
			argp_error(state, "invalid row limit '%s'", arg);
		break;
	case OPT_TITLE: a->o.title = arg; break;
	case OPT_NO_UNWIND: a->o.no_unwind = true; break;
	case OPT_LINES: a->o.lines = true; break;
	case OPT_DEBUGINFOD:
		if (!fetcher__available())
			argp_error(state, "--debuginfod: this dfreport was built without libdebuginfod");
		a->o.debuginfod = true;
		break;
	case 'v': a->verbose++; break;
	case ARGP_KEY_ARG:
		if (a->o.archive && !a->o.export)
			argp_error(state, "one archive only (got '%s' too)", arg);
		if (!a->o.archive)
			a->o.archive = arg;
		must_grow(&a->o.archives, &a->cap_archives, a->o.n_archives + 1, sizeof(*a->o.archives), 16);
		a->o.archives[a->o.n_archives++] = arg;
		break;
	case ARGP_KEY_END:
		check_clickhouse(a, state);
		/* pprof's labels, speedscope's profile per process: who each path is */
		a->o.by_thread = a->o.mode == MODE_PPROF || (a->o.mode == MODE_SPEEDSCOPE && !a->o.clickhouse);
		if (!a->o.archive)	/* what dfrecord writes by default; a query's outputs are named so */
			a->o.archive = a->o.clickhouse ? "clickhouse.dfa" : "prof.dfa";
		if (a->modes > 1)
			argp_error(state, "give one mode only");
		if (a->o.diff && a->o.mode != MODE_TOP && a->o.mode != MODE_FOLDED && a->o.mode != MODE_FLAME &&
		    a->o.mode != MODE_HTML)
			argp_error(state, "--diff goes with the top table, --folded, --flame or --html");
		/* The memory timeline replays the whole recording: a filter would be ignored. */
		if (a->o.mode == MODE_TIMELINE && (a->o.n_pids || a->o.n_tids || a->o.comm || a->o.has_time ||
						   a->o.trace || a->o.span || a->o.spans_from))
			argp_error(state, "--timeline shows the whole recording: no --pid, --tid, --comm, --time, "
				   "--trace, --span or --spans-from");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* prof.dfa -> prof.svg (or another suffix); other names get it appended. */
static char *derived_name(const char *archive, const char *suffix)
{
	size_t n = strlen(archive);
	char *s = must_realloc(NULL, n + strlen(suffix) + 1);

	strcpy(s, archive);
	if (n > 4 && !strcmp(s + n - 4, ".dfa"))
		s[n - 4] = 0;
	strcat(s, suffix);
	return s;
}

/*
 * An output file: made beside path and renamed into place once written
 * (dfa_outfile: no planted link or FIFO is followed), private when dfreport
 * runs as root (an archive's frames and command lines are sensitive).
 */
static FILE *open_output(struct dfa_outfile *out, const char *path)
{
	mode_t mask = umask(0), mode = geteuid() == 0 ? 0600 : 0666 & ~mask;
	FILE *f;

	umask(mask);
	if (dfa_outfile__create(out, path, mode) != DFA_OK) {
		pr_err("%s", dfa_outfile__error(out));
		return NULL;
	}
	f = fdopen(dfa_outfile__fd(out), "w");
	if (!f)
		pr_err("%s: %s", path, strerror(errno));
	else
		dfa_outfile__take_fd(out);
	return f;
}

/* The archives and profiles a report is made from; a page (--html) builds its own profiles. */
struct sources {
	struct dfa_reader *r, *br;	/* br, bs: --diff's base */
	struct symbolizer *s, *bs;
	const struct profile *pf, *base;
};

static int write_output(const struct sources *src, const struct report_opts *o)
{
	struct dfa_outfile *out = NULL;
	char *derived = NULL;
	const char *path = o->output;
	FILE *f = stdout;
	int ret;

	if (!path && o->mode == MODE_FLAME)
		path = derived = derived_name(o->archive, ".svg");
	if (!path && o->mode == MODE_SPEEDSCOPE)
		path = derived = derived_name(o->archive, ".speedscope.json");
	if (!path && o->mode == MODE_PPROF)
		path = derived = derived_name(o->archive, ".pb.gz");
	if (!path && o->mode == MODE_HTML)
		path = derived = derived_name(o->archive, ".html");
	if (path && strcmp(path, "-")) {
		out = dfa_outfile__new();
		if (!out)
			oom();
		f = open_output(out, path);
		if (!f) {
			dfa_outfile__free(out);
			free(derived);
			return 1;
		}
	}
	const struct profile *pf = src->pf, *base = src->base;
	struct dfa_reader *r = src->r;

	switch (base && (o->mode == MODE_TOP || o->mode == MODE_FOLDED) ? -1 : (int)o->mode) {
	case -1: ret = out_diff(base, pf, o, f); break;
	case MODE_HTML: ret = out_html(r, src->s, src->br, src->bs, o, f); break;
	case MODE_FOLDED: ret = out_folded(pf, f); break;
	case MODE_FLAME: ret = out_flame(pf, base, o, f); break;
	case MODE_INFO: ret = out_info(r, pf, o, f); break;
	case MODE_TIMELINE: ret = out_timeline(r, o, f); break;
	case MODE_SPANS: ret = out_spans(r, o, f); break;
	case MODE_SPEEDSCOPE: ret = out_speedscope(pf, o, f); break;
	case MODE_PPROF: ret = out_pprof(r, pf, base, o, f); break;
	case MODE_CALLERS:
	case MODE_CALLEES: ret = out_calls(pf, o, f); break;
	default: ret = out_top(pf, o, f); break;
	}
	if ((f != stdout ? fclose(f) : fflush(f)) || ret) {
		pr_err("%s: write failed: %s", path ? path : "standard output", strerror(errno));
		ret = -1;
	} else if (out && dfa_outfile__commit(out) != DFA_OK) {
		pr_err("%s", dfa_outfile__error(out));
		ret = -1;
	} else if (o->mode == MODE_FLAME || o->mode == MODE_SPEEDSCOPE || o->mode == MODE_PPROF || o->mode == MODE_HTML) {
		fprintf(stderr, "dfreport: wrote %s\n", path);
	}
	dfa_outfile__free(out);	/* removes the file unless it was committed */
	free(derived);
	return ret ? 1 : 0;
}

static void warn_loss(void *path, const char *text)
{
	pr_warn("%s: %s", (const char *)path, text);
}

/* Every report says what the recording lost (losses.c). */
static void warn_losses(struct dfa_reader *r, const char *path)
{
	losses__each(r, warn_loss, (void *)path);
}

int report__open_archive(struct dfa_reader *r, const char *path)
{
	int st = dfa_reader__open(r, path);

	if (st == DFA_WARN) {
		pr_warn("%s: %s; reporting what it holds", path, dfa_reader__error(r));
	} else if (st != DFA_OK) {
		pr_err("%s", dfa_reader__error(r));
		return -1;
	}
	warn_losses(r, path);
	return 0;
}

/* The base archive of --diff, read and aggregated like the main one. */
static int open_profile(const char *path, const struct report_opts *o, int event, struct dfa_reader **r,
			struct symbolizer **s, struct profile *pf)
{
	struct report_opts bo = *o;

	*r = dfa_reader__new();
	if (!*r)
		oom();
	if (report__open_archive(*r, path))
		return -1;
	*s = symbolizer__new(*r, o);
	if (!*s)
		oom();
	bo.event = event;	/* the same event as the archive it is compared with */
	bo.traces = NULL;	/* --spans-from's spans are the main archive's */
	if (pf)
		profile__build(pf, *r, *s, &bo);
	return 0;
}

/* --clickhouse: export the archives, or a report of what the server holds. */
static int clickhouse_main(const struct report_opts *o)
{
	struct clickhouse *ch = clickhouse__new(o->clickhouse);
	struct profile pf = { 0 }, base = { 0 };
	struct sources src = { 0 };
	int ret = 1;

	if (!ch)
		oom();
	if (o->export) {
		if (ch_schema__ensure(ch))
			goto cleanup;
		ret = 0;
		for (size_t i = 0; i < o->n_archives; i++)
			if (ch_export(ch, o->archives[i], o))
				ret = 1;
		goto cleanup;
	}
	if (ch_schema__check(ch) || ch_query__profile(ch, o, &pf))
		goto cleanup;
	if (!pf.samples)
		pr_warn("%s: no %s samples match", clickhouse__where(ch), profile__event_name(&pf));
	if (o->diff) {
		struct report_opts bo = *o;

		bo.host = o->diff;	/* the same selection, of the other host */
		bo.event = pf.event;
		if (ch_query__profile(ch, &bo, &base))
			goto cleanup;
	}
	src = (struct sources){ .pf = &pf, .base = o->diff ? &base : NULL };
	ret = write_output(&src, o);
cleanup:
	profile__release(&pf);
	profile__release(&base);
	clickhouse__free(ch);
	return ret;
}

int main(int argc, char **argv)
{
	struct argp argp = { .options = options, .parser = parse_opt, .args_doc = args_doc, .doc = doc };
	struct args a = { .o = { .event = -1, .limit = 40 } };
	struct dfa_reader *r = NULL;
	struct symbolizer *s = NULL;
	struct profile pf = { 0 }, bpf = { 0 };
	struct dfa_reader *br = NULL;
	struct symbolizer *bs = NULL;
	struct traces *traces = NULL;
	struct sources src;
	int ret = 1;

	argp_err_exit_status = 2;
	event_doc(options);
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	log_init("dfreport", a.verbose);
	elf_version(EV_CURRENT);
	if (a.o.clickhouse) {
		ret = clickhouse_main(&a.o);
		goto cleanup;
	}
	r = dfa_reader__new();
	if (!r)
		oom();
	if (report__open_archive(r, a.o.archive))
		goto cleanup;
	if (a.o.spans_from && !(a.o.traces = traces = traces__new(r, a.o.spans_from)))
		goto cleanup;
	s = symbolizer__new(r, &a.o);
	if (!s)
		oom();
	/* A page builds a profile per event itself; the span table needs none. */
	if (a.o.mode != MODE_HTML && a.o.mode != MODE_SPANS) {
		profile__build(&pf, r, s, &a.o);
		if (!pf.samples && a.o.mode != MODE_INFO && a.o.mode != MODE_TIMELINE)
			pr_warn("%s: no %s samples match", a.o.archive, profile__event_name(&pf));
	}
	if (a.o.diff && open_profile(a.o.diff, &a.o, a.o.mode == MODE_HTML ? -1 : pf.event, &br, &bs,
				     a.o.mode == MODE_HTML ? NULL : &bpf))
		goto cleanup;
	/* pprof of memory: allocated and in use together, as a Go heap profile. */
	if (a.o.mode == MODE_PPROF && (pf.event == DFA_EV_MEM_ALLOC || pf.event == DFA_EV_MEM_INUSE)) {
		struct report_opts mo = a.o;

		mo.event = pf.event == DFA_EV_MEM_ALLOC ? DFA_EV_MEM_INUSE : DFA_EV_MEM_ALLOC;
		profile__build(&bpf, r, s, &mo);
	}
	src = (struct sources){ r, br, s, bs, &pf, a.o.diff || a.o.mode == MODE_PPROF ? &bpf : NULL };
	ret = write_output(&src, &a.o);
cleanup:
	profile__release(&pf);
	profile__release(&bpf);
	symbolizer__free(s);
	symbolizer__free(bs);
	dfa_reader__free(r);
	dfa_reader__free(br);
	traces__free(traces);
	free(a.o.pids);
	free(a.o.tids);
	free(a.o.archives);
	free((char *)a.o.trace);
	free((char *)a.o.span);
	return ret;
}
