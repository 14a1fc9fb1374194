/* SPDX-License-Identifier: MIT */
#ifndef OTELPUB_H
#define OTELPUB_H
#include <stdint.h>

/* OTEP 4947's thread-local context record */
struct otel_thread_ctx_record {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t valid;
	uint8_t trace_flags;
	uint16_t attrs_data_size;
	uint8_t attrs_data[64];
};

void otel_enter(struct otel_thread_ctx_record *r, const uint8_t trace[16], const uint8_t span[8], const char *route);
void otel_leave(void);
/* The process context (OTEP 4719) naming the attribute keys: key index i is keys[i]. */
void otel_publish_process_ctx(const char *const *keys);
#endif
