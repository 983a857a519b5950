/*
 * test_native: the C code of the bridge, called directly (no JVM). Built and run by `mvn verify`
 * through java/core's pom; exits non-zero on the first failed check, naming it.
 *
 *   instruction choice   dd_cache_choose_x86/arm64 for CPUs we do not have, from their CPUID/CTR bits
 *   line arithmetic      dd_cache_lines: empty, aligned, straddling, wrapping ranges
 *   every instruction    each clean/invalidate pair this CPU executes runs over odd ranges, data intact
 *   non-temporal copy    every small size and misalignment matches memcpy, guard bytes untouched
 */
#include "dmadirect/cache.h"
#include "dmadirect/copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks;

#define CHECK(cond) do { \
	checks++; \
	if (!(cond)) { \
		fprintf(stderr, "test_native: %s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
		exit(1); \
	} \
} while (0)

#define CLFSH (1u << 19)
#define CLFLUSHOPT (1u << 23)
#define CLWB (1u << 24)
#define LINE_64_EBX (8u << 8)

static void choose_x86(void)
{
	struct dd_cache_ops ops;
	CHECK(dd_cache_choose_x86(0, LINE_64_EBX, CLWB | CLFLUSHOPT, &ops) == -1);

	CHECK(dd_cache_choose_x86(CLFSH, LINE_64_EBX, 0, &ops) == 0);
	CHECK(ops.clean == DD_INSN_CLFLUSH && ops.invalidate == DD_INSN_CLFLUSH && ops.line_size == 64);

	CHECK(dd_cache_choose_x86(CLFSH, LINE_64_EBX, CLFLUSHOPT, &ops) == 0);
	CHECK(ops.clean == DD_INSN_CLFLUSHOPT && ops.invalidate == DD_INSN_CLFLUSHOPT);

	CHECK(dd_cache_choose_x86(CLFSH, LINE_64_EBX, CLWB | CLFLUSHOPT, &ops) == 0);
	CHECK(ops.clean == DD_INSN_CLWB && ops.invalidate == DD_INSN_CLFLUSHOPT);

	/* CLWB without CLFLUSHOPT: clean keeps the line, invalidate falls back to CLFLUSH. */
	CHECK(dd_cache_choose_x86(CLFSH, LINE_64_EBX, CLWB, &ops) == 0);
	CHECK(ops.clean == DD_INSN_CLWB && ops.invalidate == DD_INSN_CLFLUSH);

	/* A hypervisor that reports line size 0, or nonsense, gets 64; a real 128-byte line is kept. */
	CHECK(dd_cache_choose_x86(CLFSH, 0, 0, &ops) == 0 && ops.line_size == 64);
	CHECK(dd_cache_choose_x86(CLFSH, 3u << 8, 0, &ops) == 0 && ops.line_size == 64);
	CHECK(dd_cache_choose_x86(CLFSH, 16u << 8, 0, &ops) == 0 && ops.line_size == 128);
}

static void choose_arm64(void)
{
	struct dd_cache_ops ops;
	/* Cortex-A72's CTR_EL0 0x8444c004: DminLine 4, 16 words, 64 bytes. */
	CHECK(dd_cache_choose_arm64(0x8444c004u, &ops) == 0);
	CHECK(ops.line_size == 64 && ops.clean == DD_INSN_DC_CVAC && ops.invalidate == DD_INSN_DC_CIVAC);
	/* Apple M1 reports 128-byte lines (DminLine 5). */
	CHECK(dd_cache_choose_arm64(0x80050005u | (5u << 16), &ops) == 0 && ops.line_size == 128);
}

static void names(void)
{
	CHECK(strcmp(dd_cache_insn_name(DD_INSN_CLWB), "clwb") == 0);
	CHECK(strcmp(dd_cache_insn_name(DD_INSN_CLFLUSHOPT), "clflushopt") == 0);
	CHECK(strcmp(dd_cache_insn_name(DD_INSN_CLFLUSH), "clflush") == 0);
	CHECK(strcmp(dd_cache_insn_name(DD_INSN_DC_CVAC), "dc cvac") == 0);
	CHECK(strcmp(dd_cache_insn_name(DD_INSN_DC_CIVAC), "dc civac") == 0);
	CHECK(strcmp(dd_cache_insn_name(DD_INSN_NONE), "none") == 0);
}

static void lines(void)
{
	uintptr_t first;
	size_t count;
	CHECK(dd_cache_lines(0x1010, 0, 64, &first, &count) == 0 && count == 0);
	CHECK(dd_cache_lines(0x1000, 64, 64, &first, &count) == 0 && first == 0x1000 && count == 1);
	CHECK(dd_cache_lines(0x1000, 65, 64, &first, &count) == 0 && count == 2);
	CHECK(dd_cache_lines(0x103f, 2, 64, &first, &count) == 0 && first == 0x1000 && count == 2);
	CHECK(dd_cache_lines(0x1001, 4096, 64, &first, &count) == 0 && count == 65);
	CHECK(dd_cache_lines(UINTPTR_MAX - 63, 64, 64, &first, &count) == 0 && count == 1);
	CHECK(dd_cache_lines(UINTPTR_MAX - 63, 65, 64, &first, &count) == -1);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 131 + seed);
}

static int same(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 131 + seed))
			return 0;
	return 1;
}

/* Maintenance must never change data: run every range shape through clean, invalidate and flush. */
static void exercise_selected(unsigned char *buf, size_t size)
{
	static const size_t offsets[] = {0, 1, 63, 64, 65, 4095};
	static const size_t lengths[] = {0, 1, 63, 64, 65, 4096, 65537};
	for (size_t o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++) {
		for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++) {
			fill(buf, size, (unsigned)(o + l));
			dd_cache_clean(buf + offsets[o], lengths[l]);
			dd_cache_invalidate(buf + offsets[o], lengths[l]);
			dd_cache_flush(buf + offsets[o], lengths[l]);
			CHECK(same(buf, size, (unsigned)(o + l)));
		}
	}
}

static void every_instruction(void)
{
	CHECK(dd_cache_init() == 0);
	const struct dd_cache_ops probed = *dd_cache_selected();
	CHECK(probed.line_size >= 32 && (probed.line_size & (probed.line_size - 1)) == 0);
	printf("test_native: this CPU: clean %s, invalidate %s, line %u bytes\n",
	       dd_cache_insn_name(probed.clean), dd_cache_insn_name(probed.invalidate), probed.line_size);

	size_t size = 128 * 1024;
	unsigned char *buf = malloc(size);
	CHECK(buf != NULL);
	int tried = 0;
	for (int c = DD_INSN_CLFLUSH; c <= DD_INSN_DC_CIVAC; c++) {
		for (int i = DD_INSN_CLFLUSH; i <= DD_INSN_DC_CIVAC; i++) {
			struct dd_cache_ops ops = { probed.line_size, (enum dd_cache_insn)c, (enum dd_cache_insn)i };
			if (dd_cache_select(&ops) != 0)
				continue;
			tried++;
			exercise_selected(buf, size);
		}
	}
	printf("test_native: exercised %d clean/invalidate pairs\n", tried);
	CHECK(tried >= 1);

	/* The selection refuses what cannot run, and keeps the previous one. */
	struct dd_cache_ops bad_line = { 48, probed.clean, probed.invalidate };
	CHECK(dd_cache_select(&bad_line) == -1);
#if defined(__x86_64__)
	struct dd_cache_ops foreign = { 64, DD_INSN_DC_CVAC, DD_INSN_DC_CIVAC };
#else
	struct dd_cache_ops foreign = { 64, DD_INSN_CLWB, DD_INSN_CLFLUSH };
#endif
	CHECK(dd_cache_select(&foreign) == -1);
#if defined(__x86_64__)
	struct dd_cache_ops keeps_line = { 64, DD_INSN_CLFLUSH, DD_INSN_CLWB };
#else
	struct dd_cache_ops keeps_line = { 64, DD_INSN_DC_CVAC, DD_INSN_DC_CVAC };
#endif
	CHECK(dd_cache_select(&keeps_line) == -1);
	CHECK(dd_cache_select(&probed) == 0);
	exercise_selected(buf, size);
	free(buf);
}

static void copy_nt(void)
{
	enum { GUARD = 64, MAX = 1200 };
	unsigned char *src = malloc(MAX + 2 * GUARD), *dst = malloc(MAX + 2 * GUARD), *want = malloc(MAX + 2 * GUARD);
	CHECK(src && dst && want);
	fill(src, MAX + 2 * GUARD, 7);
	for (size_t len = 0; len <= MAX; len += (len < 200 ? 1 : 61)) {
		for (size_t so = 0; so < 17; so += 3) {
			for (size_t dof = 0; dof < 17; dof++) {
				memset(dst, 0xa5, MAX + 2 * GUARD);
				memset(want, 0xa5, MAX + 2 * GUARD);
				memcpy(want + GUARD + dof, src + so, len);
				dd_copy_nt(dst + GUARD + dof, src + so, len);
				CHECK(memcmp(dst, want, MAX + 2 * GUARD) == 0);
			}
		}
	}
	/* One large copy through the streaming loop. */
	size_t big = 8u << 20;
	unsigned char *a = malloc(big), *b = malloc(big);
	CHECK(a && b);
	fill(a, big, 3);
	dd_copy_nt(b + 5, a + 1, big - 5);
	CHECK(memcmp(b + 5, a + 1, big - 5) == 0);
	free(a);
	free(b);
	free(src);
	free(dst);
	free(want);
}

int main(void)
{
	choose_x86();
	choose_arm64();
	names();
	lines();
	every_instruction();
	copy_nt();
	printf("test_native: %d checks passed\n", checks);
	return 0;
}
