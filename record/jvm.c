/* SPDX-License-Identifier: MIT */
/*
 * Asking a HotSpot JVM to write its perf map (jcmd PID Compiler.perfmap),
 * without running anything: dfrecord speaks the JVM's attach protocol itself
 * (the one jcmd speaks), from a child that has dropped to the JVM owner's
 * credentials.  Nothing from the JVM's filesystem is executed, and the
 * files the exchange touches (the trigger file, the socket) are the JVM
 * owner's, in the JVM's own /tmp.
 *
 * The protocol (HotSpot attachListener_linux.cpp, JDK 9 and later): the
 * listener's socket is /tmp/.java_pid<PID>; if it is not there, a file
 * /tmp/.attach_pid<PID> and a SIGQUIT make the JVM start it.  A request is
 * NUL-terminated strings: "1" (the protocol version), the command, three
 * arguments; the answer starts with the result code on a line.  PID is the
 * JVM's pid in its own namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "record.h"

#define WAIT_SOCKET_MS 5000	/* for the listener to start after SIGQUIT */
#define WAIT_CHILD_MS 10000

/* The child's exit codes: why there is no map. */
enum { ATTACH_OK = 0, ATTACH_NO_TMP = 10, ATTACH_CREDS, ATTACH_TRIGGER, ATTACH_NO_SOCKET, ATTACH_BAD_SOCKET,
       ATTACH_CONNECT, ATTACH_IO, ATTACH_REFUSED, ATTACH_AGENT_FAILED };

static const char *const attach_error[] = {
	[ATTACH_NO_TMP] = "its /tmp cannot be opened",
	[ATTACH_CREDS] = "cannot take its owner's credentials",
	[ATTACH_TRIGGER] = "cannot create its attach trigger file",
	[ATTACH_NO_SOCKET] = "its attach listener did not start",
	[ATTACH_BAD_SOCKET] = "/tmp/.java_pid is not its owner's socket",
	[ATTACH_CONNECT] = "cannot connect to its attach listener",
	[ATTACH_IO] = "the attach exchange failed",
	[ATTACH_REFUSED] = "it refused the request",
	[ATTACH_AGENT_FAILED] = "the agent did not start in it (no perf map of its own could be created?)",
};

/* What an attach child's exit code says. */
static const char *attach_why(int code)
{
	return code >= 0 && code < (int)(sizeof(attach_error) / sizeof(*attach_error)) && attach_error[code]
		       ? attach_error[code] : "the attach child failed";
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The listener's socket in dir, if it is the JVM owner's socket: an O_PATH handle. */
static int open_socket(int dir, const char *name, uid_t owner, bool *bad)
{
	struct stat st;
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	*bad = false;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISSOCK(st.st_mode) || st.st_uid != owner) {
		*bad = true;
		close(fd);
		return -1;
	}
	return fd;
}

/* Connects to the socket behind an O_PATH handle: that inode, not whatever a name leads to now. */
static int connect_handle(int pfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", pfd);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		close(s);
		return -1;
	}
	return s;
}

/*
 * A jcmd request: protocol version 1, command "jcmd", its line, two empty
 * arguments.  "0" answers that the command ran; an agent load says beside
 * it whether the agent started ("return code: 0"), or why it was not loaded.
 */
static int exchange(int s, const char *line, bool agent_load)
{
	char req[PATH_MAX + 64], answer[4096];
	size_t got = 0;
	int n = snprintf(req, sizeof(req), "1%cjcmd%c%s%c%c", 0, 0, line, 0, 0);

	if (n <= 0 || n >= (int)sizeof(req) - 1)
		return ATTACH_IO;
	req[n++] = 0;	/* the third argument's NUL */
	if (write(s, req, n) != n)
		return ATTACH_IO;
	while (got < sizeof(answer) - 1) {
		ssize_t n = read(s, answer + got, sizeof(answer) - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	answer[got] = 0;
	if (!got)
		return ATTACH_IO;
	if (strncmp(answer, "0\n", 2))
		return ATTACH_REFUSED;
	return !agent_load || strstr(answer, "\nreturn code: 0\n") ? ATTACH_OK : ATTACH_AGENT_FAILED;
}

/* In the child: the JVM owner's credentials, then the exchange of line. */
static int attach_child(uint32_t pid, const struct proc_status *ps, const char *line, bool agent_load)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	char root[32], sock[32], trigger[32];
	int rootfd, tmp, pfd = -1, s, ret;
	bool created = false, bad = false;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(root, sizeof(root), "/proc/%u/root", pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	tmp = rootfd < 0 ? -1 : syscall(SYS_openat2, rootfd, "tmp", &how, sizeof(how));
	if (tmp < 0)
		return ATTACH_NO_TMP;
	if (setgroups(0, NULL) || setresgid(ps->gid, ps->egid, ps->egid) ||
	    setresuid(ps->uid, ps->euid, ps->euid) || geteuid() != ps->euid)
		return ATTACH_CREDS;
	snprintf(sock, sizeof(sock), ".java_pid%u", ps->nspid);
	snprintf(trigger, sizeof(trigger), ".attach_pid%u", ps->nspid);
	pfd = open_socket(tmp, sock, ps->euid, &bad);
	if (pfd < 0 && !bad) {
		int fd = openat(tmp, trigger, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (fd < 0 && errno != EEXIST)
			return ATTACH_TRIGGER;
		created = fd >= 0;
		if (fd >= 0)
			close(fd);
		kill(pid, SIGQUIT);
		for (unsigned ms = 0; pfd < 0 && !bad && ms < WAIT_SOCKET_MS; ms += 50) {
			sleep_ms(50);
			pfd = open_socket(tmp, sock, ps->euid, &bad);
		}
		if (created)
			unlinkat(tmp, trigger, 0);
	}
	if (pfd < 0)
		return bad ? ATTACH_BAD_SOCKET : ATTACH_NO_SOCKET;
	s = connect_handle(pfd);
	if (s < 0)
		return ATTACH_CONNECT;
	ret = exchange(s, line, agent_load);
	close(s);
	return ret;
}

/* A JVM that would not answer, or that SIGQUIT would harm: said why, or NULL. */
static const char *unfit(uint32_t pid, const struct proc_status *ps)
{
	static const char *const files[] = { "cmdline", "environ" };

	/* HotSpot catches SIGQUIT unless -Xrs; without a handler it would end the process. */
	if (!(ps->sig_caught & (1ULL << (SIGQUIT - 1))))
		return "it does not catch SIGQUIT (-Xrs?)";
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		char path[48], *text;
		struct stat st = { .st_size = 1 << 20 };
		size_t len;
		int fd;
		bool off = false;

		snprintf(path, sizeof(path), "/proc/%u/%s", pid, files[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		text = safefile__read(fd, &st, 1 << 20, &len);
		close(fd);
		/* With attach disabled, SIGQUIT makes it print a thread dump. */
		off = text && memmem(text, len, "-XX:+DisableAttachMechanism", 27);
		free(text);
		if (off)
			return "it runs with -XX:+DisableAttachMechanism";
	}
	return NULL;
}

/*
 * dfrecord's JVMTI agent keeps a JVM's perf map as it compiles, so the JVM
 * is named after it exits.  It is dfprof's own: a regular file of root's
 * (or dfrecord's user's) that no one else may write, in a directory no one
 * else may write; NULL if not.
 */
const char *jvm__agent_path(void)
{
	static char real[PATH_MAX];
	const char *path = getenv("DFPROF_JVMTI_AGENT");
	char dir[PATH_MAX];
	struct stat st, dst;
	bool ok;

	if (!path || !*path)
		path = DF_JVMTI_AGENT;
	/* The file itself, links resolved: it and its directory are what must be safe, and what JVMs load. */
	if (path[0] != '/' || !realpath(path, real) || strpbrk(real, " \t\n\"'\\") || stat(real, &st)) {
		pr_info("%s: no JVMTI agent there: JVMs the command starts are named from perf maps asked for at the end",
			path);
		return NULL;
	}
	snprintf(dir, sizeof(dir), "%s", real);
	*strrchr(dir, '/') = 0;
	ok = S_ISREG(st.st_mode) && !(st.st_mode & (S_IWGRP | S_IWOTH)) && (st.st_uid == 0 || st.st_uid == geteuid()) &&
	     !stat(dir[0] ? dir : "/", &dst) && !(dst.st_mode & (S_IWGRP | S_IWOTH)) &&
	     (dst.st_uid == 0 || dst.st_uid == geteuid());
	if (!ok) {
		pr_warn("%s: not root's, or writable by others: JVMs are not given it", path);
		return NULL;
	}
	return real;
}

/* JAVA_TOOL_OPTIONS for a recorded command: the JVMs it starts (and theirs:
 * build tools fork JVMs) load the agent. */
char *jvm__agent_options(const char *path, uint64_t alloc)
{
	const char *old = getenv("JAVA_TOOL_OPTIONS");
	char *opts = NULL, sampling[40] = "";

	if (alloc)
		snprintf(sampling, sizeof(sampling), "=alloc=%llu", (unsigned long long)alloc);
	if (asprintf(&opts, "-agentpath:%s%s%s%s", path, sampling, old && *old ? " " : "", old && *old ? old : "") < 0)
		return NULL;
	return opts;
}

/* Attach children under way (agent loads, perf map requests): reaped as they end. */
struct jvm_request {
	pid_t child;
	uint32_t pid;
	enum jvm_ask what;
};
static struct jvm_request *reqs;
static size_t n_reqs, cap_reqs;

/* Whether pid sees this file system's root: the agent's path names the same file there. */
static bool same_root(uint32_t pid)
{
	char root[32];
	struct stat ours, theirs;

	snprintf(root, sizeof(root), "/proc/%u/root/", pid);
	return !stat("/", &ours) && !stat(root, &theirs) && ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
}

/* Starts a child that sends line to pid's JVM as its owner; 0, or -1. */
static int start_request(uint32_t pid, const struct proc_status *ps, const char *line, enum jvm_ask what)
{
	pid_t child;

	if (array_grow(&reqs, &cap_reqs, n_reqs + 1, sizeof(*reqs), 8))
		return -1;
	child = fork();
	if (child < 0)
		return -1;
	if (child == 0)
		_exit(attach_child(pid, ps, line, what == JVM_LOAD_AGENT));
	reqs[n_reqs++] = (struct jvm_request){ child, pid, what };
	return 0;
}

int jvm__load_agent(uint32_t pid, const char *agent, uint64_t alloc)
{
	struct proc_status ps;
	char line[PATH_MAX + 32];

	/* A JVM in another root (a container) would load whatever is at that path there. */
	if (!same_root(pid)) {
		pr_debug("pid %u: a JVM in another root: not given the JVMTI agent", pid);
		return 1;
	}
	if (proc_status__read(pid, &ps) || unfit(pid, &ps))
		return -1;	/* not yet (no SIGQUIT handler while the JVM starts): asked again later */
	if (alloc)
		snprintf(line, sizeof(line), "JVMTI.agent_load %s alloc=%llu", agent, (unsigned long long)alloc);
	else
		snprintf(line, sizeof(line), "JVMTI.agent_load %s", agent);
	return start_request(pid, &ps, line, JVM_LOAD_AGENT);
}

int jvm__ask_perfmap(uint32_t pid)
{
	struct proc_status ps;
	const char *why;

	if (proc_status__read(pid, &ps)) {
		pr_debug("pid %u: gone before its JVM could be asked for a perf map", pid);
		return -1;
	}
	why = unfit(pid, &ps);
	if (why) {
		pr_warn("pid %u: the JVM is not asked for its perf map: %s; its Java frames are unnamed", pid, why);
		return -1;
	}
	return start_request(pid, &ps, "Compiler.perfmap", JVM_PERFMAP);
}

/* What an ended request's child said; its JVM's exit (the command's at the end) is no failure. */
static void report(const struct jvm_request *r, int code)
{
	if (code == ATTACH_OK) {
		pr_debug("pid %u: %s", r->pid, r->what == JVM_LOAD_AGENT ? "the JVM loaded the JVMTI agent"
									  : "the JVM wrote its perf map");
		return;
	}
	if (procfs__exited(r->pid)) {
		pr_debug("pid %u: the JVM exited before it answered", r->pid);
		return;
	}
	if (code < 0)
		pr_warn("pid %u: the JVM did not answer in %u s: its Java frames may be unnamed", r->pid,
			WAIT_CHILD_MS / 1000);
	else if (r->what == JVM_LOAD_AGENT)
		pr_info("pid %u: the JVM did not load the JVMTI agent: %s; its Java frames are named from the "
			"perf map asked for at the end", r->pid, attach_why(code));
	else
		pr_warn("pid %u: no perf map from the JVM: %s; its Java frames are unnamed", r->pid, attach_why(code));
}

void jvm__reap(bool wait, void (*done)(void *ctx, uint32_t pid, enum jvm_ask what, bool ok), void *ctx)
{
	/* All together: JVMs busy at the end cost one wait, not one each. */
	for (unsigned ms = 0;; ms += 20) {
		for (size_t i = 0; i < n_reqs;) {
			int status = 0, code;
			pid_t got = waitpid(reqs[i].child, &status, WNOHANG);

			if (got == 0 && (!wait || ms < WAIT_CHILD_MS)) {
				i++;
				continue;
			}
			if (got == 0) {
				kill(reqs[i].child, SIGKILL);
				waitpid(reqs[i].child, &status, 0);
				code = -1;
			} else {
				code = got < 0 ? ATTACH_IO : WIFEXITED(status) ? WEXITSTATUS(status) : ATTACH_IO;
			}
			report(&reqs[i], code);
			if (done)
				done(ctx, reqs[i].pid, reqs[i].what, code == ATTACH_OK);
			reqs[i] = reqs[--n_reqs];
		}
		if (!wait || !n_reqs)
			break;
		sleep_ms(20);
	}
	if (!n_reqs) {
		free(reqs);
		reqs = NULL;
		cap_reqs = 0;
	}
}
