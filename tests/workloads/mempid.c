/* SPDX-License-Identifier: MIT */
/*
 * For run-mem-pid.sh: a process to attach to with -p.  It says "ready"
 * (a file), waits for "go", then allocates and keeps known amounts in its
 * main thread and in a second thread, forks a child that waits a little (its
 * fork is read and its probes attached meanwhile) and keeps its own, and
 * exits once the child has.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Not static: a compiler may drop a malloc whose block no one can read. */
void *kept[512];
int n_kept;

static inline __attribute__((always_inline)) void keep(size_t size, int n)
{
	for (int i = 0; i < n && n_kept < 512; i++)
		kept[n_kept++] = malloc(size);
}

__attribute__((noinline)) void fn_parent_kept(void) { keep(1000, 100); }	/* 100,000 bytes */
__attribute__((noinline)) void fn_thread_kept(void) { keep(3000, 10); }	/* 30,000 bytes */
__attribute__((noinline)) void fn_child_kept(void) { keep(2000, 50); }	/* 100,000 bytes */

static void *thread_main(void *arg)
{
	fn_thread_kept();
	return arg;
}

int main(void)
{
	pthread_t t;
	pid_t child;
	FILE *f = fopen("ready", "w");

	if (!f)
		return 1;
	fclose(f);
	while (access("go", F_OK))
		usleep(10000);
	fn_parent_kept();
	if (pthread_create(&t, NULL, thread_main, NULL) || pthread_join(t, NULL))
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		usleep(500000);
		fn_child_kept();
		_exit(0);
	}
	waitpid(child, NULL, 0);
	printf("%d kept\n", n_kept);
	return 0;
}
