/* Attaches empty uprobes where dfrecord probes the allocator (malloc entry and
 * return, free at +FREE_OFF), runs a command, detaches:
 *   floor OBJ.bpf.o LIBC FREE_OFF COMMAND [ARGS...] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>

static struct bpf_link *probe(struct bpf_program *prog, const char *lib, const char *fn, size_t off, int ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = fn, .retprobe = ret);

	return bpf_program__attach_uprobe_opts(prog, -1, lib, off, &opts);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *l[3];
	int status;
	pid_t pid;

	if (argc < 5)
		return 2;
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj))
		return 1;
	prog = bpf_object__find_program_by_name(obj, "empty");
	l[0] = probe(prog, argv[2], "malloc", 0, 0);
	l[1] = probe(prog, argv[2], "malloc", 0, 1);
	l[2] = probe(prog, argv[2], "free", strtoul(argv[3], NULL, 10), 0);
	if (!l[0] || !l[1] || !l[2])
		return 1;
	pid = fork();
	if (pid == 0) {
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(l[i]);
	bpf_object__close(obj);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
