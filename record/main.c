/* SPDX-License-Identifier: MIT */
/* dfrecord: record stack samples and everything needed to name them. */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include "config.h"
#include "log.h"
#include "record.h"

const char *argp_program_version = "dfrecord " PACKAGE_VERSION;

static const char doc[] =
	"Record stack samples into a .dfa archive for dfreport.\v"
	"EXAMPLES:\n"
	"  dfrecord -a -d 10                  profile the whole system for 10 s into prof.dfa\n"
	"  dfrecord -a -- make -j8            the whole system for as long as make runs\n"
	"  dfrecord -C 0,2-3 -d 5             only what runs on CPUs 0, 2 and 3\n"
	"  dfrecord -p 1234,1240 -o app.dfa   profile two processes (and their children) until Ctrl-C\n"
	"  dfrecord -F 999 -- ./bench --fast  profile a command and its descendants until it exits\n"
	"  dfrecord -e on-cpu,off-cpu -p 1234 where a process runs and where it waits\n"
	"  dfrecord -e mem-alloc,mem-inuse -- ./app   every allocation, and what stays allocated\n"
	"  dfrecord -- python3 app.py         Python functions named too (CPython 3.11-3.13)\n"
	"  dfrecord -a --rotate 60 --keep 10G -o /var/lib/dfprof/   all day: one archive a minute, 10 GB kept\n"
	"\n"
	"EXIT STATUS:\n"
	"  0  recorded; the archive is complete\n"
	"  1  error (no privilege, no such process, write failure, ...)\n"
	"  2  usage error\n"
	"\n"
	"Recording needs root or CAP_BPF+CAP_PERFMON. SIGINT or SIGTERM stops and finalizes.\n"
	"A COMMAND alone is recorded with its descendants; with -a, -p or -t it only sets how long "
	"the recording runs (as perf record's). On a terminal a status line shows progress "
	"(not while a command runs).";

static const char args_doc[] = "[-- COMMAND [ARGS...]]";

enum { OPT_NO_KERNEL = 0x100, OPT_NO_DEBUGINFO, OPT_CALL_GRAPH, OPT_MIN_BLOCK, OPT_NO_OBJECTS,
       OPT_DEBUG_DIR, OPT_MEM_SAMPLE, OPT_FREE_AT_ENTRY, OPT_NO_JVM_PERFMAP, OPT_NO_PYTHON, OPT_NO_CMDLINE, OPT_NO_CFI,
       OPT_ROTATE, OPT_KEEP };

/* Stack copied with every sample in dwarf mode, and by the BPF walk's
 * fallback (a process not set up yet) in auto mode. */
#define DWARF_BYTES 8192

/* The -e and --event docs come from the event table (event_doc). */
static struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Scope (one of, or -- COMMAND):", 1 },
	{ "all-cpus", 'a', NULL, 0, "Profile every process on every CPU", 1 },
	{ "pid", 'p', "PID[,PID..]", 0, "Profile these processes and their descendants", 1 },
	{ "tid", 't', "TID[,TID..]", 0, "Profile these threads only", 1 },
	{ "cpu", 'C', "CPUS", 0, "Only these CPUs (as 0,2-3); alone, every process on them", 1 },
	{ NULL, 0, NULL, 0, "Sampling:", 2 },
	{ "event", 'e', "EVENTS", 0, NULL, 2 },
	{ "mem-sample", OPT_MEM_SAMPLE, "BYTES", 0, "Memory: sample about one allocation per BYTES allocated, "
	  "weighted to estimate totals (default: 0 = every allocation, 524288 with -a)", 2 },
	{ "free-at-entry", OPT_FREE_AT_ENTRY, NULL, 0, "Memory: probe free at its first instruction, "
	  "not after its NULL check (slower; for comparison)", 2 },
	{ "min-block", OPT_MIN_BLOCK, "USEC", 0, "off-cpu: record waits of at least this long (default 100)", 2 },
	{ "freq", 'F', "HZ", 0, "Samples per second per CPU (default 99)", 2 },
	{ "duration", 'd', "SECONDS", 0, "Stop after this long (default: until Ctrl-C or the command exits)", 2 },
	{ NULL, 'g', NULL, 0, "Call graphs (always recorded; accepted for perf's habit)", 2 },
	{ "no-kernel", OPT_NO_KERNEL, NULL, 0, "Leave kernel stacks out", 2 },
	{ "call-graph", OPT_CALL_GRAPH, "MODE", 0,
	  "auto (default): user stacks unwound in BPF with tables from each object's .eh_frame "
	  "(frame pointers where there is none), no stack copies; "
	  "fp: the kernel's frame-pointer chains only (as perf -g); "
	  "dwarf[,BYTES]: BYTES (default 8192, at most 16384) of stack with every sample, "
	  "unwound by dfreport; lbr is not supported", 2 },
	{ NULL, 0, NULL, 0, "Output:", 3 },
	{ "output", 'o', "FILE", 0, "Archive to write (default prof.dfa); not a pipe; with --rotate, a directory", 3 },
	{ "rotate", OPT_ROTATE, "SECONDS", 0, "Continuous recording: a complete archive every SECONDS (at least 1) in "
	  "the directory -o names (made if missing), named HOST-YYYYmmddTHHMMSS.mmmZ.dfa by its start (UTC); "
	  "each one readable alone, with the objects its stacks need", 3 },
	{ "keep", OPT_KEEP, "N|SIZE", 0, "With --rotate: keep the newest N archives, or (with a K, M or G suffix) "
	  "as many as fit in SIZE bytes; older ones are deleted", 3 },
	{ "no-debuginfo", OPT_NO_DEBUGINFO, NULL, 0,
	  "Leave DWARF .debug_* sections out of object snapshots (smaller; no inlines or lines)", 3 },
	{ "no-cfi", OPT_NO_CFI, NULL, 0,
	  "Leave call-frame information (.eh_frame, .debug_frame) out of object snapshots too: smaller, "
	  "for recordings without stack copies (--call-graph fp)", 3 },
	{ "no-objects", OPT_NO_OBJECTS, NULL, 0,
	  "Store no object snapshots, only their build-ids (for a symbol server at report time)", 3 },
	{ "debug-dir", OPT_DEBUG_DIR, "DIR", 0,
	  "Separate debug files by build-id under DIR/.build-id/ (default /usr/lib/debug)", 3 },
	{ "no-jvm-perfmap", OPT_NO_JVM_PERFMAP, NULL, 0,
	  "Give JVMs no JVMTI agent (it keeps their perf maps, so JVMs that exit first are named) and do "
	  "not ask running JVMs for a perf map at the end (jcmd PID Compiler.perfmap)", 3 },
	{ "no-python", OPT_NO_PYTHON, NULL, 0,
	  "Do not read Python frames (the interpreter's native frames remain)", 3 },
	{ "no-cmdline", OPT_NO_CMDLINE, NULL, 0,
	  "Leave command lines (the processes' and the recorded command's) out of the archive", 3 },
	{ "verbose", 'v', NULL, 0, "More messages; repeat for more", 3 },
	{ 0 }
};

struct args {
	struct record_opts o;
	int verbose;
	uint64_t mem_sample;
	bool mem_sample_set;
	bool output_set;
};

/* --keep: N archives, or SIZE[KMG] bytes of them. */
static int parse_keep(const char *arg, struct record_opts *o)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || !v)
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end)
		return -1;
	if (shift && end[1])
		return -1;
	if (!shift) {
		o->keep_archives = v;
		return 0;
	}
	if (v > (1ULL << (63 - shift)))
		return -1;
	o->keep_bytes = v << shift;
	return 0;
}

static const char *event_list(void)
{
	static char buf[256];

	dfa_event__list(buf, sizeof(buf), false);
	return buf;
}

/* -e's doc: each event of the table with what it shows. */
static void event_doc(void)
{
	static char buf[1024];
	size_t n = snprintf(buf, sizeof(buf), "Comma list of events (default on-cpu): ");

	dfa_event__list(buf + n, sizeof(buf) - n, true);
	for (struct argp_option *opt = options; opt->name || opt->doc; opt++)
		if (opt->key == 'e')
			opt->doc = buf;
}

static int parse_events(struct record_opts *o, const char *text)
{
	char *arg = strdupa(text);

	o->events = 0;
	for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
		int ev = dfa_event__parse(tok);

		if (ev < 0)
			return -1;
		o->events |= 1u << ev;
	}
	return o->events ? 0 : -1;
}

static int parse_call_graph(struct record_opts *o, const char *arg)
{
	char *end;
	unsigned long n = DWARF_BYTES;

	o->dwarf_all = o->bpf_unwind = false;
	if (!strcmp(arg, "fp") || !strcmp(arg, "fp,")) {
		o->dwarf_bytes = 0;
		return 0;
	}
	if (!strcmp(arg, "auto")) {
		o->bpf_unwind = true;
		o->dwarf_bytes = DWARF_BYTES;
		return 0;
	}
	if (strncmp(arg, "dwarf", 5) || (arg[5] && arg[5] != ','))
		return -1;
	if (arg[5]) {
		n = strtoul(arg + 6, &end, 10);
		if (*end || end == arg + 6 || n < 64 || n > 16384)
			return -1;
	}
	o->dwarf_all = true;
	o->dwarf_bytes = n;
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	char *end;
	double d;
	unsigned long f;

	switch (key) {
	case 'a':
		a->o.all = true;
		break;
	case 'p':
		if (id_list_parse(arg, 1, INT_MAX, false, &a->o.pids, &a->o.n_pids))
			argp_error(state, "invalid pid list '%s'", arg);
		break;
	case 't':
		if (id_list_parse(arg, 1, INT_MAX, false, &a->o.tids, &a->o.n_tids))
			argp_error(state, "invalid thread list '%s'", arg);
		break;
	case 'C':
		if (id_list_parse(arg, 0, INT_MAX, true, &a->o.cpus, &a->o.n_cpus))
			argp_error(state, "invalid CPU list '%s' (as 0,2-3)", arg);
		for (size_t i = 0; i < a->o.n_cpus; i++)
			if (a->o.cpus[i] >= 4096 || a->o.cpus[i] >= (unsigned)get_nprocs_conf())
				argp_error(state, "-C: no CPU %u on this machine", a->o.cpus[i]);
		break;
	case 'g':
		break;
	case 'e':
		if (parse_events(&a->o, arg))
			argp_error(state, "invalid event list '%s' (%s)", arg, event_list());
		break;
	case 'F':
		errno = 0;
		f = strtoul(arg, &end, 10);
		if (errno || *end || end == arg || f < 1 || f > 1000000)
			argp_error(state, "invalid frequency '%s' (1..1000000 Hz)", arg);
		a->o.freq = f;
		break;
	case 'd':
		errno = 0;
		d = strtod(arg, &end);
		if (errno || *end || end == arg || !(d > 0) || d > 1e7)
			argp_error(state, "invalid duration '%s' (seconds > 0)", arg);
		a->o.duration = d;
		break;
	case 'o':
		if (!*arg)
			argp_error(state, "empty output file name");
		/* The archive is made beside its path and renamed into place; a write
		 * error truncates it back to its last good record: a file, not a pipe. */
		if (!strcmp(arg, "-"))
			argp_error(state, "-o -: an archive cannot be written to a pipe; give a file name");
		a->o.output = arg;
		a->output_set = true;
		break;
	case OPT_CALL_GRAPH:
		if (!strncmp(arg, "lbr", 3))
			argp_error(state, "--call-graph lbr is not supported: dfrecord unwinds in BPF "
				   "(auto) or from stack copies (dwarf)");
		if (parse_call_graph(&a->o, arg))
			argp_error(state, "invalid call graph '%s' (fp, auto, dwarf[,BYTES] with BYTES 64..16384)", arg);
		break;
	case OPT_MIN_BLOCK:
		errno = 0;
		f = strtoul(arg, &end, 10);
		if (errno || *end || end == arg || f > 3600000000UL)
			argp_error(state, "invalid minimum block time '%s' (microseconds)", arg);
		a->o.min_block_us = f;
		break;
	case OPT_NO_KERNEL:
		a->o.no_kernel = true;
		break;
	case OPT_NO_DEBUGINFO:
		a->o.no_debuginfo = true;
		break;
	case OPT_NO_CFI:
		a->o.no_cfi = true;
		break;
	case OPT_ROTATE:
		errno = 0;
		d = strtod(arg, &end);
		if (errno || *end || end == arg || !(d >= 1) || d > 1e7)
			argp_error(state, "invalid rotation interval '%s' (seconds, at least 1)", arg);
		a->o.rotate_ns = (uint64_t)(d * 1e9);
		break;
	case OPT_KEEP:
		if (parse_keep(arg, &a->o))
			argp_error(state, "invalid --keep '%s' (a number of archives, or a size such as 500M or 10G)", arg);
		break;
	case OPT_MEM_SAMPLE:
		errno = 0;
		a->mem_sample = strtoull(arg, &end, 10);
		if (errno || *end || end == arg || a->mem_sample > (1ULL << 40))
			argp_error(state, "invalid memory sampling '%s' (mean bytes; 0 for every allocation)", arg);
		a->mem_sample_set = true;
		break;
	case OPT_NO_JVM_PERFMAP:
		a->o.no_jvm_perfmap = true;
		break;
	case OPT_NO_PYTHON:
		a->o.no_python = true;
		break;
	case OPT_NO_CMDLINE:
		a->o.no_cmdline = true;
		break;
	case OPT_FREE_AT_ENTRY:
		a->o.free_at_entry = true;
		break;
	case OPT_NO_OBJECTS:
		a->o.no_objects = true;
		break;
	case OPT_DEBUG_DIR:
		if (arg[0] != '/')
			argp_error(state, "--debug-dir needs an absolute path, not '%s'", arg);
		a->o.debug_dir = arg;
		break;
	case 'v':
		a->verbose++;
		break;
	case ARGP_KEY_ARG:
		/* a lone word without "--" is a mistake, not a command */
		argp_error(state, "unexpected argument '%s' (put a command after --)", arg);
		break;
	case ARGP_KEY_END:
		if ((a->o.all ? 1 : 0) + (a->o.n_pids ? 1 : 0) + (a->o.n_tids ? 1 : 0) > 1)
			argp_error(state, "give one of -a, -p PID and -t TID");
		/* -C alone: everything on those CPUs, as perf record -C. */
		if (a->o.n_cpus && !a->o.n_pids && !a->o.n_tids)
			a->o.all = true;
		if (!a->o.all && !a->o.n_pids && !a->o.n_tids && !a->o.cmd)
			argp_error(state, "give one of -a, -p PID, -t TID, -C CPUS or -- COMMAND");
		a->o.cmd_times = a->o.cmd && (a->o.all || a->o.n_pids || a->o.n_tids);
		if ((a->o.keep_archives || a->o.keep_bytes) && !a->o.rotate_ns)
			argp_error(state, "--keep goes with --rotate");
		if (a->o.rotate_ns && !a->output_set)
			argp_error(state, "--rotate: give the directory for the archives with -o DIR/");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/*
 * The kernel refuses sampling rates above kernel.perf_event_max_sample_rate
 * (and lowers that limit itself when sampling eats too much CPU), and above
 * MAX_FREQ per CPU the sampling interrupt and the BPF programs take the
 * time dfrecord needs to drain them (measured on a 2-CPU machine with both
 * CPUs busy: records are lost from 40 kHz, the recorder falls behind from
 * 60 kHz).  A higher -F is capped, saying so, as perf record does.
 */
#define MAX_FREQ 20000

static void cap_frequency(struct record_opts *o)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "re");
	unsigned max = MAX_FREQ, kmax = 0;

	if (f) {
		if (fscanf(f, "%u", &kmax) == 1 && kmax && kmax < max)
			max = kmax;
		fclose(f);
	}
	if (o->freq > max) {
		pr_warn("-F %u is above what this machine can take (%u Hz; kernel.perf_event_max_sample_rate "
			"is %u): sampling at %u Hz", o->freq, max, kmax, max);
		o->freq = max;
	}
}

int main(int argc, char **argv)
{
	struct argp argp = { .options = options, .parser = parse_opt, .args_doc = args_doc, .doc = doc };
	struct args a = { .o = { .freq = 99, .output = "prof.dfa", .events = 1u << DFA_EV_ONCPU,
				 .bpf_unwind = true, .dwarf_bytes = DWARF_BYTES, .min_block_us = 100,
				 .debug_dir = "/usr/lib/debug" } };
	static char cmd_image[PATH_MAX];
	int idx = 0, ret;

	argp_err_exit_status = 2;
	event_doc();
	a.o.argc = argc;
	a.o.argv = argv;
	/* Stop option parsing at "--" so the command's own options stay its own. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			idx = i;
			break;
		}
	if (idx) {
		if (idx + 1 >= argc) {
			fprintf(stderr, "dfrecord: no command after --\n");
			return 2;
		}
		a.o.cmd = argv + idx + 1;
		argp_parse(&argp, idx, argv, 0, NULL, &a);
	} else {
		argp_parse(&argp, argc, argv, 0, NULL, &a);
	}
	log_init("dfrecord", a.verbose);
	if (a.o.n_tids && !(a.o.tids_tgid = calloc(a.o.n_tids, sizeof(*a.o.tids_tgid)))) {
		fprintf(stderr, "dfrecord: out of memory\n");
		return 1;
	}
	cap_frequency(&a.o);
	/* Read before the command runs (its unwind table, Python or Go): found once. */
	if (a.o.cmd && command__first_image(a.o.cmd, cmd_image, sizeof(cmd_image)))
		a.o.cmd_image = cmd_image;
	/* Every allocation of a command or a few processes; a sample system-wide. */
	a.o.mem_sample = a.mem_sample_set ? a.mem_sample : a.o.all ? 524288 : 0;
	ret = record__run(&a.o);
	free(a.o.pids);
	free(a.o.tids);
	free(a.o.tids_tgid);
	free(a.o.cpus);
	return ret;
}
