/* SPDX-License-Identifier: MIT */
/* inlines.c: the inlined functions at an address, each unit indexed once. */
#ifndef DF_INLINES_H
#define DF_INLINES_H

#include <elfutils/libdw.h>
#include <stdint.h>

struct inlines;
struct inlines *inlines__new(void);
void inlines__free(struct inlines *in);
/* The inlined-subroutine DIEs of cu around addr (the unit's addresses),
 * innermost first, at most max; their count. */
int inlines__at(struct inlines *in, Dwarf_Die *cu, uint64_t addr, Dwarf_Die *out, int max);

#endif
