/*
 * bench_copy: non-temporal copy against memcpy, for the bounce sizes swiotlb sees. Each size copies
 * between two buffers that are pre-faulted and rotated through a 256 MiB pool, so the destination is
 * cold as a fresh bounce slot is; the last two columns reuse one destination, which stays cached.
 * Prints GB/s, the best of 5 runs.
 *
 *   gcc -O2 -Inative/include native/bench/bench_copy.c native/src/copy.c -o /tmp/bench_copy && /tmp/bench_copy
 */
#include "dmadirect/copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL (256u << 20)

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static double run(void (*copy)(void *, const void *, size_t), char *dst, const char *src, size_t size, int hot)
{
	size_t slots = hot ? 1 : POOL / size, total = 512u << 20, iters = total / size;
	double best = 0;
	for (int rep = 0; rep < 5; rep++) {
		double t0 = now();
		for (size_t i = 0; i < iters; i++)
			copy(dst + (i % slots) * size, src + (i % 4) * size % POOL, size);
		double gbs = (double)iters * size / (now() - t0) / 1e9;
		if (gbs > best)
			best = gbs;
	}
	return best;
}

static void libc_copy(void *d, const void *s, size_t n)
{
	memcpy(d, s, n);
}

int main(void)
{
	char *src = aligned_alloc(4096, POOL), *dst = aligned_alloc(4096, POOL);
	if (!src || !dst)
		return 1;
	memset(src, 1, POOL);
	memset(dst, 2, POOL);
	printf("%10s %12s %12s %8s | %14s %10s\n", "size", "memcpy GB/s", "nt GB/s", "nt/memcpy", "hot dst memcpy", "hot dst nt");
	for (size_t size = 4096; size <= (16u << 20); size *= 4) {
		double m = run(libc_copy, dst, src, size, 0), n = run(dd_copy_nt, dst, src, size, 0);
		double mh = run(libc_copy, dst, src, size, 1), nh = run(dd_copy_nt, dst, src, size, 1);
		printf("%10zu %12.2f %12.2f %8.2f | %14.2f %10.2f\n", size, m, n, n / m, mh, nh);
	}
	free(src);
	free(dst);
	return 0;
}
