/* A fixed amount of CPU work on every CPU: work ITERATIONS [THREADS]; prints seconds */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static unsigned long iters;
volatile unsigned long sink;

__attribute__((noinline)) unsigned long mix_a(unsigned long x) { for (int i = 0; i < 600; i++) x = x * 6364136223846793005UL + i; return x; }
__attribute__((noinline)) unsigned long mix_b(unsigned long x) { for (int i = 0; i < 300; i++) x = x * 2862933555777941757UL + i; return x; }
__attribute__((noinline)) unsigned long step(unsigned long x) { return mix_b(mix_a(x)) + 1; }

static void *run(void *arg)
{
	unsigned long x = (unsigned long)arg;

	for (unsigned long i = 0; i < iters; i++)
		x = step(x);
	sink += x;
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t t[256];
	struct timespec a, b;

	iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	if (n < 1 || n > 256)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	for (long i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.4f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
