/* Threads that wait in known places: sleeper_wait (nanosleep, 50 ms at a
 * time), reader_wait (read on an empty pipe), and a spinner that never
 * waits: offcpu SECONDS */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double secs;
static int pipefd[2];
static volatile int done;
volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void sleeper_wait(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	sink++;
}

__attribute__((noinline)) void *sleeper(void *arg)
{
	double end = now() + secs;

	while (now() < end)
		sleeper_wait();
	return NULL;
}

__attribute__((noinline)) void reader_wait(void)
{
	char c;

	if (read(pipefd[0], &c, 1) < 0)
		exit(1);
	sink++;
}

__attribute__((noinline)) void *reader(void *arg)
{
	reader_wait();
	return NULL;
}

__attribute__((noinline)) void *spinner(void *arg)
{
	while (!done)
		sink = sink * 6364136223846793005UL + 1;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[3];
	struct timespec ts;

	secs = argc > 1 ? atof(argv[1]) : 3;
	if (pipe(pipefd))
		return 1;
	pthread_create(&t[0], NULL, sleeper, NULL);
	pthread_setname_np(t[0], "sleeper");
	pthread_create(&t[1], NULL, reader, NULL);
	pthread_setname_np(t[1], "reader");
	pthread_create(&t[2], NULL, spinner, NULL);
	pthread_setname_np(t[2], "spinner");
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (time_t)secs) * 1e9);
	nanosleep(&ts, NULL);
	done = 1;
	if (write(pipefd[1], "x", 1) != 1)
		return 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	return 0;
}
