/* Time spent in a signal handler: sigspin SECONDS.  The handler of a
 * 1 ms SIGALRM timer spins; unwinding must cross the signal frame back to main. */
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void in_handler(void)
{
	for (int i = 0; i < 300000; i++)
		sink += (unsigned long)i * i;
}

static void on_alarm(int sig)
{
	in_handler();
}

__attribute__((noinline)) static void outside(double until)
{
	while (now() < until)
		sink++;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	struct sigaction sa = { .sa_handler = on_alarm };

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	outside(now() + secs);
	return 0;
}
