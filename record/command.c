/* SPDX-License-Identifier: MIT */
/*
 * dfrecord -- COMMAND: the command is forked stopped before exec and let go
 * once sampling is attached, so it is profiled from its first instruction.
 * A CLOEXEC pipe carries exec's errno back: EOF means exec succeeded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "log.h"
#include "record.h"

void command__init(struct command *c)
{
	*c = (struct command){ .pid = -1, .go = -1, .err = -1 };
}

int command__spawn(struct command *c, char **argv, const char *java_opts)
{
	int go[2], err[2];

	c->argv = argv;
	if (pipe2(go, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		pr_err("pipe: %s", strerror(errno));
		return -1;
	}
	c->pid = fork();
	if (c->pid < 0) {
		pr_err("fork: %s", strerror(errno));
		return -1;
	}
	if (c->pid == 0) {
		char ch;
		int e;

		close(go[1]);
		close(err[0]);
		if (read(go[0], &ch, 1) != 1)
			_exit(127);	/* dfrecord gave up before letting it go */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (java_opts)
			setenv("JAVA_TOOL_OPTIONS", java_opts, 1);
		execvp(argv[0], argv);
		e = errno;
		if (write(err[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(err[1]);
	c->go = go[1];
	c->err = err[0];
	return 0;
}

int command__release(struct command *c)
{
	int e = 0;
	ssize_t n;

	if (write(c->go, "g", 1) != 1)
		return -1;
	close(c->go);
	c->go = -1;
	n = read(c->err, &e, sizeof(e));
	close(c->err);
	c->err = -1;
	if (n == sizeof(e)) {
		pr_err("cannot run '%s': %s", c->argv[0], strerror(e));
		waitpid(c->pid, NULL, 0);
		c->exited = true;
		return -1;
	}
	return 0;
}

bool command__exited(struct command *c)
{
	int status;

	if (c->pid > 0 && !c->exited && waitpid(c->pid, &status, WNOHANG) == c->pid)
		c->exited = true;
	return c->pid > 0 && c->exited;
}

void command__release_fds(struct command *c)
{
	/* A child never let go reads EOF and exits; it is waited for. */
	if (c->go >= 0) {
		close(c->go);
		c->go = -1;
		if (c->pid > 0 && !c->exited) {
			waitpid(c->pid, NULL, 0);
			c->exited = true;
		}
	}
	if (c->err >= 0) {
		close(c->err);
		c->err = -1;
	}
}

/* name as execvp finds it: a path as it is, else the first executable in PATH. */
static bool find_program(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char *dirs, *save = NULL;
	bool found = false;

	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return true;
	}
	dirs = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d && !found; d = strtok_r(NULL, ":", &save))
		found = (size_t)snprintf(out, len, "%s/%s", *d ? d : ".", name) < len && !access(out, X_OK);
	free(dirs);
	return found;
}

bool command__first_image(char **argv, char *out, size_t len)
{
	char line[256], *p, *interp, *arg;
	struct stat st;
	ssize_t n;
	int fd;

	if (!argv[0] || !find_program(argv[0], out, len))
		return false;
	fd = open(out, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n < 2 || line[0] != '#' || line[1] != '!')
		return true;	/* a program itself */
	line[n] = 0;
	line[strcspn(line, "\n")] = 0;
	p = line + 2;
	interp = strtok_r(p, " \t", &p);
	arg = interp ? strtok_r(NULL, " \t", &p) : NULL;
	if (!interp)
		return false;
	/* #!/usr/bin/env python3: the program env runs */
	if (!strcmp(interp, "/usr/bin/env") || !strcmp(interp, "/bin/env")) {
		while (arg && arg[0] == '-')
			arg = strtok_r(NULL, " \t", &p);
		return arg && find_program(arg, out, len);
	}
	snprintf(out, len, "%s", interp);
	return true;
}
