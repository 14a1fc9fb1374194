/* SPDX-License-Identifier: MIT */
/*
 * The --html page's script and styles, kept as files of their own
 * (report/page.js, report/page.css) and put into dfreport as they are, each
 * with a NUL after it: the assembler's .incbin, so no generated source.
 * PAGE_DIR (the source directory of report/) comes from Makefile.am.
 */
#define ASSET(sym, file)                                         \
	__asm__(".section .rodata\n"                             \
		".global " #sym "\n"                             \
		".type " #sym ", @object\n"                      \
		#sym ":\n"                                       \
		".incbin \"" PAGE_DIR "/" file "\"\n"            \
		".byte 0\n"                                      \
		".size " #sym ", . - " #sym "\n"                 \
		".previous\n")

ASSET(dfreport_page_js, "page.js");
ASSET(dfreport_page_css, "page.css");
