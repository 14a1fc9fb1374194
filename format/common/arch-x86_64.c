/* SPDX-License-Identifier: MIT */
/* x86-64 (arch.h). */
#include <string.h>
#include "arch.h"

const int arch_dwarf_fp = 6, arch_dwarf_sp = 7, arch_dwarf_ra = 16;	/* rbp, rsp, rip */

const char *const arch_lib_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
	"/usr/local/lib", NULL,
};

bool arch__fp_prologue(const uint8_t *code, size_t len)
{
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa }, prologue[] = { 0x55, 0x48, 0x89, 0xe5 };

	if (len >= 8 && !memcmp(code, endbr, 4)) {
		code += 4;
		len -= 4;
	}
	return len >= 4 && !memcmp(code, prologue, 4);
}

/*
 * glibc's free opens with test %rdi,%rdi; je (free(NULL) does nothing), then
 * a push.  A push is emulated by the kernel (~1 us a hit), a test is
 * single-stepped (~9 us): probing the push skips only free(NULL).
 */
size_t arch__go_past_stack_check(const uint8_t *code, size_t len)
{
	size_t i = 0;

	/* a large frame first computes its bottom: lea -N(%rsp), %r12 (8 bytes) */
	if (len >= 8 && code[0] == 0x4c && code[1] == 0x8d && code[2] == 0xa4 && code[3] == 0x24)
		i = 8;
	else if (len >= 5 && code[0] == 0x4c && code[1] == 0x8d && code[2] == 0x64 && code[3] == 0x24)
		i = 5;
	/* cmp 0x10(%r14), %rsp or %r12 (the g's stackguard0) */
	if (i + 4 > len || (code[i] != 0x49 && code[i] != 0x4d) || code[i + 1] != 0x3b || code[i + 2] != 0x66 ||
	    code[i + 3] != 0x10)
		return 0;
	i += 4;
	if (i + 2 <= len && code[i] == 0x76)
		return i + 2;	/* jbe rel8 */
	if (i + 6 <= len && code[i] == 0x0f && code[i + 1] == 0x86)
		return i + 6;	/* jbe rel32 */
	return 0;
}

size_t arch__free_probe_offset(const uint8_t *code, size_t len)
{
	static const uint8_t test_rdi[] = { 0x48, 0x85, 0xff };
	size_t off;

	if (len < 16 || memcmp(code, test_rdi, 3))
		return 0;
	off = code[3] == 0x74 ? 5 : code[3] == 0x0f && code[4] == 0x84 ? 9 : 0;
	/* the instruction after the je must be a push: no registers changed yet */
	if (off && !((code[off] & 0xf8) == 0x50 || (code[off] == 0x41 && (code[off + 1] & 0xf8) == 0x50)))
		off = 0;
	return off;
}
