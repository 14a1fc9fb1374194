/* SPDX-License-Identifier: MIT */
/* ehframe.c: the FDEs of an object's .eh_frame, through its .eh_frame_hdr (libelf.h users only). */
#ifndef DF_EHFRAME_H
#define DF_EHFRAME_H

#ifdef _LIBELF_H
#include <stdbool.h>
#include <stdint.h>

struct ehframe {
	bool ok;
	const uint8_t *hdr, *frame, *table;	/* .eh_frame_hdr, .eh_frame, the hdr's search table */
	size_t hdr_len, frame_len, entry;	/* entry: bytes of one table value */
	uint64_t hdr_vaddr, frame_vaddr, count;	/* count: FDEs in the table, sorted by start */
	uint8_t table_enc;
};
void ehframe__init(struct ehframe *e, Elf *elf);
/* FDE i (0 to count - 1): its start and range (link-time addresses); false if unreadable. */
bool ehframe__fde(const struct ehframe *e, uint64_t i, uint64_t *start, uint64_t *range);
/* The link-time address where the function holding vaddr starts; false if no FDE covers it. */
bool ehframe__func_start(const struct ehframe *e, uint64_t vaddr, uint64_t *start);
#endif

#endif
