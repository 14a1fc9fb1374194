/* Two threads spinning in functions of their own, named worker-a and
 * worker-b; prints "TID_A TID_B" and runs SECONDS: twothreads SECONDS */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
static double seconds;
static volatile pid_t tids[2];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void spin(double end)
{
	while (now() < end)
		for (int i = 0; i < 100000; i++)
			sink = sink * 6364136223846793005UL + i;
}

__attribute__((noinline)) static void *thread_a(void *arg)
{
	pthread_setname_np(pthread_self(), "worker-a");
	tids[0] = gettid();
	spin(*(double *)arg);
	return NULL;
}

__attribute__((noinline)) static void *thread_b(void *arg)
{
	pthread_setname_np(pthread_self(), "worker-b");
	tids[1] = gettid();
	spin(*(double *)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, b;
	double end;

	seconds = argc > 1 ? atof(argv[1]) : 2;
	end = now() + seconds;
	pthread_create(&a, NULL, thread_a, &end);
	pthread_create(&b, NULL, thread_b, &end);
	while (!tids[0] || !tids[1])
		usleep(1000);
	printf("%d %d\n", tids[0], tids[1]);
	fflush(stdout);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
