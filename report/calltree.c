/* SPDX-License-Identifier: MIT */
/* Call trees: children kept as a list per node, each frame once among its siblings. */
#include <stdlib.h>
#include "report.h"

struct node *node_new(uint32_t frame)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n)
		oom();
	n->frame = frame;
	return n;
}

struct node *node_child(struct node *parent, uint32_t frame)
{
	struct node **pp = &parent->child;

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->frame == frame)
			return *pp;
	*pp = node_new(frame);
	return *pp;
}

void node_free(struct node *n)
{
	while (n) {
		struct node *next = n->next;

		node_free(n->child);
		free(n);
		n = next;
	}
}
