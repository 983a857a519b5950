/*
 * Non-temporal copy for large bounces: the stores bypass the caches (x86 MOVNTDQ, arm64 STNP), so a
 * bounce buffer that only the device will read does not evict the CPU's working set, and there is no
 * read-for-ownership of the destination lines. Ends with a store fence (SFENCE / DSB ST) so that a
 * later doorbell write is ordered after the data.
 */
#ifndef DMADIRECT_COPY_H
#define DMADIRECT_COPY_H

#include <stddef.h>

/* Copies len bytes; the ranges must not overlap. Any alignment; the head and tail go through memcpy. */
void dd_copy_nt(void *dst, const void *src, size_t len);

#endif
