/* Runs a hot loop from anonymous executable memory and describes it in
 * /tmp/perf-PID.map, as JIT runtimes do: jitcode SECONDS [nomap] (nomap:
 * writes none, for a test that plants one) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* mov rax, rdi; 1: dec rax; jnz 1b; ret */
static const unsigned char loop_code[] = { 0x48, 0x89, 0xf8, 0x48, 0xff, 0xc8, 0x75, 0xfb, 0xc3 };

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long (*fn)(long);
	char path[64];
	struct timespec ts;
	double end;
	FILE *f;

	if (code == MAP_FAILED)
		return 1;
	memcpy(code + 64, loop_code, sizeof(loop_code));
	if (mprotect(code, 4096, PROT_READ | PROT_EXEC))
		return 1;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	f = argc > 2 && !strcmp(argv[2], "nomap") ? NULL : fopen(path, "w");
	if (!f && !(argc > 2 && !strcmp(argv[2], "nomap")))
		return 1;
	/* one writer style with a 0x prefix, one without */
	if (f) {
		fprintf(f, "%lx 40 jit_prologue_stub\n0x%lx %zx jitted_hot_loop\n", (unsigned long)code,
			(unsigned long)(code + 64), sizeof(loop_code));
		fclose(f);
	}
	fn = (long (*)(long))(code + 64);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + secs;
	do {
		fn(20000000);
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while (ts.tv_sec + ts.tv_nsec / 1e9 < end);
	return 0;
}
