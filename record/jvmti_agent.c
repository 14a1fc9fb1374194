/* SPDX-License-Identifier: MIT */
/*
 * libdfprof-jvmti.so: a JVMTI agent that keeps a HotSpot JVM's perf map
 * (/tmp/perf-PID.map, PID as the JVM knows itself) as the JIT compiles,
 * so its Java frames can be named after it exits.  dfrecord loads it into
 * the JVMs a recorded command starts (JAVA_TOOL_OPTIONS=-agentpath:...);
 * perf reads the same file.  It runs inside the JVM, as the JVM's user:
 * the file is created afresh (no link followed, the user's own) and
 * appended a line at a time, "START SIZE NAME", names as HotSpot's own
 * perf map has them ("long Hot.hotMethod(long)").  Loaded on attach
 * (Agent_OnAttach) it first replays the code already there.
 *
 * Beside it, /tmp/dfprof-code-PID.log says when each piece of code came and
 * went (CLOCK_MONOTONIC ns, the clock of dfrecord's samples): "L NS START
 * SIZE NAME" as it is loaded, "U NS START" as the JIT frees a method's code
 * (CompiledMethodUnload), so that an address the code cache gives to
 * another method later is named right before and after.
 *
 * With the option alloc=BYTES it also samples Java allocations (JVMTI's
 * SampledObjectAlloc, one per BYTES allocated on average) into
 * /tmp/dfprof-alloc-PID.log: a line "I BYTES" first, then per sample
 * "A MONOTONIC_NS TID SIZE CLASS;FRAME;FRAME..." innermost frame first.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jvmti.h>
#include "javasig.h"

static int map_fd = -1, alloc_fd = -1, code_fd = -1;

#define MAX_FRAMES 64

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A line to fd, written whole (O_APPEND: lines of threads never interleave). */
static void write_line(int fd, char *line, int n, size_t cap)
{
	if (n <= 0 || fd < 0)
		return;
	if (n >= (int)cap) {	/* a name cut short still ends its line */
		n = cap - 1;
		line[n - 1] = '\n';
	}
	if (write(fd, line, n) < 0)
		return;
}

/* Code that came: a line of the perf map, and of the code log with its time. */
static void put_line(const void *addr, jint size, const char *name)
{
	char line[1024];

	write_line(map_fd, line, snprintf(line, sizeof(line), "%lx %x %s\n", (unsigned long)addr, (unsigned)size, name),
		   sizeof(line));
	write_line(code_fd, line, snprintf(line, sizeof(line), "L %llu %lx %x %s\n", now_ns(), (unsigned long)addr,
					   (unsigned)size, name), sizeof(line));
}

/* A compiled method's code freed: the address may be another's from now on. */
static void JNICALL on_unload(jvmtiEnv *j, jmethodID m, const void *addr)
{
	char line[64];

	(void)j;
	(void)m;
	write_line(code_fd, line, snprintf(line, sizeof(line), "U %llu %lx\n", now_ns(), (unsigned long)addr),
		   sizeof(line));
}

static void JNICALL on_compiled(jvmtiEnv *j, jmethodID m, jint size, const void *addr, jint map_len,
				const jvmtiAddrLocationMap *map, const void *info)
{
	char *name = NULL, *sig = NULL, *csig = NULL, text[768];
	jclass cls;

	(void)map_len;
	(void)map;
	(void)info;
	if ((*j)->GetMethodName(j, m, &name, &sig, NULL) == JVMTI_ERROR_NONE &&
	    (*j)->GetMethodDeclaringClass(j, m, &cls) == JVMTI_ERROR_NONE &&
	    (*j)->GetClassSignature(j, cls, &csig, NULL) == JVMTI_ERROR_NONE) {
		java_method_text(csig, name, sig, text, sizeof(text));
		put_line(addr, size, text);
	}
	(*j)->Deallocate(j, (unsigned char *)name);
	(*j)->Deallocate(j, (unsigned char *)sig);
	(*j)->Deallocate(j, (unsigned char *)csig);
}

static void JNICALL on_dynamic(jvmtiEnv *j, const char *name, const void *addr, jint len)
{
	(void)j;
	put_line(addr, len, name);
}

static void JNICALL on_alloc(jvmtiEnv *j, JNIEnv *jni, jthread thread, jobject object, jclass klass, jlong size)
{
	jvmtiFrameInfo frames[MAX_FRAMES];
	char line[8192], *csig = NULL;
	jint n = 0;
	size_t len;
	struct timespec ts;

	(void)jni;
	(void)object;
	if (alloc_fd < 0 || (*j)->GetClassSignature(j, klass, &csig, NULL) != JVMTI_ERROR_NONE)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	len = snprintf(line, sizeof(line), "A %llu %d %lld ", (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec,
		       (int)gettid(), (long long)size);
	java_type_text(csig, line + len, sizeof(line) - len);
	len += strlen(line + len);
	(*j)->Deallocate(j, (unsigned char *)csig);
	if ((*j)->GetStackTrace(j, thread, 0, MAX_FRAMES, frames, &n) != JVMTI_ERROR_NONE)
		n = 0;
	for (jint i = 0; i < n && len + 2 < sizeof(line); i++) {
		char *name = NULL, *sig = NULL, *cs = NULL, text[512];
		jclass cls;

		if ((*j)->GetMethodName(j, frames[i].method, &name, &sig, NULL) == JVMTI_ERROR_NONE &&
		    (*j)->GetMethodDeclaringClass(j, frames[i].method, &cls) == JVMTI_ERROR_NONE &&
		    (*j)->GetClassSignature(j, cls, &cs, NULL) == JVMTI_ERROR_NONE) {
			java_method_text(cs, name, sig, text, sizeof(text));
			len += snprintf(line + len, sizeof(line) - len, ";%s", text);
		}
		(*j)->Deallocate(j, (unsigned char *)name);
		(*j)->Deallocate(j, (unsigned char *)sig);
		(*j)->Deallocate(j, (unsigned char *)cs);
	}
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	if (write(alloc_fd, line, len) < 0)
		return;
}

/* A file of the JVM's in /tmp, new and its own: created, or emptied if this user's. */
static int open_own(const char *fmt)
{
	char path[64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), fmt, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644);
	if (fd < 0)
		return -1;
	/* Another name of a file of this user's (a hard link planted there) is not emptied. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1 || ftruncate(fd, 0)) {
		close(fd);
		return -1;
	}
	/* appends only from here: O_APPEND keeps each line whole */
	if (fcntl(fd, F_SETFL, O_APPEND) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* alloc=BYTES from the agent's options; 0 if absent. */
static jint alloc_interval(const char *options)
{
	const char *a = options ? strstr(options, "alloc=") : NULL;
	long v = a ? atol(a + 6) : 0;

	return v > 0 && v < (1L << 30) ? (jint)v : 0;
}

static jint start(JavaVM *vm, const char *options, int attached)
{
	jvmtiEnv *j;
	jvmtiCapabilities caps = { 0 };
	jvmtiEventCallbacks cb = { 0 };
	jint interval = alloc_interval(options);
	char header[32];

	if (map_fd >= 0)	/* loaded twice: the first copy writes */
		return JNI_OK;
	if ((*vm)->GetEnv(vm, (void **)&j, JVMTI_VERSION_11) != JNI_OK)
		return JNI_ERR;
	caps.can_generate_compiled_method_load_events = 1;
	caps.can_generate_sampled_object_alloc_events = interval > 0;
	cb.CompiledMethodLoad = on_compiled;
	cb.DynamicCodeGenerated = on_dynamic;
	cb.CompiledMethodUnload = on_unload;
	cb.SampledObjectAlloc = on_alloc;
	if ((*j)->AddCapabilities(j, &caps) != JVMTI_ERROR_NONE ||
	    (*j)->SetEventCallbacks(j, &cb, sizeof(cb)) != JVMTI_ERROR_NONE || (map_fd = open_own("/tmp/perf-%d.map")) < 0)
		return JNI_ERR;
	(*j)->SetEventNotificationMode(j, JVMTI_ENABLE, JVMTI_EVENT_COMPILED_METHOD_LOAD, NULL);
	(*j)->SetEventNotificationMode(j, JVMTI_ENABLE, JVMTI_EVENT_DYNAMIC_CODE_GENERATED, NULL);
	/* Without its log the perf map still names everything (the last name of a reused address). */
	if ((code_fd = open_own("/tmp/dfprof-code-%d.log")) >= 0)
		(*j)->SetEventNotificationMode(j, JVMTI_ENABLE, JVMTI_EVENT_COMPILED_METHOD_UNLOAD, NULL);
	if (interval && (alloc_fd = open_own("/tmp/dfprof-alloc-%d.log")) >= 0) {
		snprintf(header, sizeof(header), "I %d\n", (int)interval);
		if (write(alloc_fd, header, strlen(header)) > 0 &&
		    (*j)->SetHeapSamplingInterval(j, interval) == JVMTI_ERROR_NONE)
			(*j)->SetEventNotificationMode(j, JVMTI_ENABLE, JVMTI_EVENT_SAMPLED_OBJECT_ALLOC, NULL);
	}
	if (attached) {
		(*j)->GenerateEvents(j, JVMTI_EVENT_DYNAMIC_CODE_GENERATED);
		(*j)->GenerateEvents(j, JVMTI_EVENT_COMPILED_METHOD_LOAD);
	}
	return JNI_OK;
}

JNIEXPORT jint JNICALL Agent_OnLoad(JavaVM *vm, char *options, void *reserved)
{
	(void)reserved;
	/* A JVM goes on without it rather than refusing to start. */
	start(vm, options, 0);
	return JNI_OK;
}

JNIEXPORT jint JNICALL Agent_OnAttach(JavaVM *vm, char *options, void *reserved)
{
	(void)reserved;
	return start(vm, options, 1);
}
