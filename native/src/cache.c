/*
 * cache: clean and invalidate CPU data caches by address range (see include/dmadirect/cache.h).
 *
 * The loops follow the kernel's clflush_cache_range() (arch/x86/mm/pat/set_memory.c) and
 * dcache_clean_poc / dcache_clean_inval_poc (arch/arm64/mm/cache.S): align the start down to a
 * line, touch every line, then one barrier. The choice of instruction is made once, at init.
 */
#include "dmadirect/cache.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#define CPUID1_EDX_CLFSH      (1u << 19)
#define CPUID7_EBX_CLFLUSHOPT (1u << 23)
#define CPUID7_EBX_CLWB       (1u << 24)

static struct dd_cache_ops selected;

/* What this CPU can execute, found by dd_cache_init(): a bit per enum dd_cache_insn. */
static uint32_t executable;

int dd_cache_choose_x86(uint32_t leaf1_edx, uint32_t leaf1_ebx, uint32_t leaf7_ebx, struct dd_cache_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
	if (!(leaf1_edx & CPUID1_EDX_CLFSH))
		return -1;
	/* CPUID.1:EBX[15:8] is the CLFLUSH line size in 8-byte units; 0 on some hypervisors. */
	uint32_t line = ((leaf1_ebx >> 8) & 0xff) * 8;
	ops->line_size = (line >= 32 && (line & (line - 1)) == 0) ? line : 64;
	/* Invalidate needs the line gone: CLFLUSHOPT, else CLFLUSH. Clean may keep it: CLWB first. */
	ops->invalidate = (leaf7_ebx & CPUID7_EBX_CLFLUSHOPT) ? DD_INSN_CLFLUSHOPT : DD_INSN_CLFLUSH;
	ops->clean = (leaf7_ebx & CPUID7_EBX_CLWB) ? DD_INSN_CLWB : ops->invalidate;
	return 0;
}

int dd_cache_choose_arm64(uint64_t ctr_el0, struct dd_cache_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
	/* DminLine: log2 of the smallest data cache line in 4-byte words (as the kernel's dcache_line_size). */
	ops->line_size = 4u << ((ctr_el0 >> 16) & 0xf);
	ops->clean = DD_INSN_DC_CVAC;
	/* DC IVAC is EL1-only; user space cleans and invalidates, as dcache_clean_inval_poc does. */
	ops->invalidate = DD_INSN_DC_CIVAC;
	return 0;
}

const char *dd_cache_insn_name(enum dd_cache_insn insn)
{
	switch (insn) {
	case DD_INSN_CLFLUSH:    return "clflush";
	case DD_INSN_CLFLUSHOPT: return "clflushopt";
	case DD_INSN_CLWB:       return "clwb";
	case DD_INSN_DC_CVAC:    return "dc cvac";
	case DD_INSN_DC_CIVAC:   return "dc civac";
	case DD_INSN_NONE:       break;
	}
	return "none";
}

int dd_cache_lines(uintptr_t addr, size_t len, uint32_t line_size, uintptr_t *first, size_t *count)
{
	uintptr_t start = addr & ~(uintptr_t)(line_size - 1);
	*first = start;
	*count = 0;
	if (len == 0)
		return 0;
	uintptr_t last;
	if (__builtin_add_overflow(addr, len - 1, &last))
		return -1;
	*count = (size_t)((last - start) / line_size) + 1;
	return 0;
}

#if defined(__x86_64__)

static void probe(struct dd_cache_ops *ops)
{
	unsigned int eax, ebx, ecx, edx, ebx7 = 0, unused;
	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return;
	if (!__get_cpuid_count(7, 0, &unused, &ebx7, &ecx, &unused))
		ebx7 = 0;
	if (dd_cache_choose_x86(edx, ebx, ebx7, ops) != 0)
		return;
	executable = 1u << DD_INSN_CLFLUSH;
	if (ebx7 & CPUID7_EBX_CLFLUSHOPT)
		executable |= 1u << DD_INSN_CLFLUSHOPT;
	if (ebx7 & CPUID7_EBX_CLWB)
		executable |= 1u << DD_INSN_CLWB;
}

/* The mnemonics need binutils 2.26+; no -m flag is needed, so the library runs on any x86_64. */
static inline void line_op(enum dd_cache_insn insn, uintptr_t p)
{
	volatile char *line = (volatile char *)p;
	switch (insn) {
	case DD_INSN_CLWB:       __asm__ volatile("clwb %0" : "+m"(*line)); break;
	case DD_INSN_CLFLUSHOPT: __asm__ volatile("clflushopt %0" : "+m"(*line)); break;
	default:                 __asm__ volatile("clflush %0" : "+m"(*line)); break;
	}
}

/*
 * CLFLUSHOPT and CLWB are ordered only by fences. As clflush_cache_range() does, MFENCE on both sides:
 * it contains SFENCE (later stores, such as a doorbell, wait for the write-backs) and also keeps
 * later loads from passing an invalidate.
 */
static inline void barrier_before(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline void barrier_after(void) { __asm__ volatile("mfence" ::: "memory"); }

#elif defined(__aarch64__)

static void probe(struct dd_cache_ops *ops)
{
	uint64_t ctr;
	/* Linux lets EL0 read CTR_EL0 (SCTLR_EL1.UCT, or it emulates the read). */
	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	dd_cache_choose_arm64(ctr, ops);
	executable = (1u << DD_INSN_DC_CVAC) | (1u << DD_INSN_DC_CIVAC);
}

static inline void line_op(enum dd_cache_insn insn, uintptr_t p)
{
	if (insn == DD_INSN_DC_CVAC)
		__asm__ volatile("dc cvac, %0" :: "r"(p) : "memory");
	else
		__asm__ volatile("dc civac, %0" :: "r"(p) : "memory");
}

/* DC to an address is ordered after earlier stores to it, so only the compiler must not reorder. */
static inline void barrier_before(void) { __asm__ volatile("" ::: "memory"); }
static inline void barrier_after(void) { __asm__ volatile("dsb sy" ::: "memory"); }

#else
#error "dmadirect's native library supports x86_64 and aarch64"
#endif

int dd_cache_init(void)
{
	struct dd_cache_ops ops;
	memset(&ops, 0, sizeof(ops));
	executable = 0;
	probe(&ops);
	selected = ops;
	return ops.clean == DD_INSN_NONE ? -1 : 0;
}

const struct dd_cache_ops *dd_cache_selected(void)
{
	return &selected;
}

int dd_cache_select(const struct dd_cache_ops *ops)
{
	uint32_t line = ops->line_size;
	if (line < 16 || (line & (line - 1)) != 0)
		return -1;
	if (!(executable & (1u << ops->clean)) || !(executable & (1u << ops->invalidate)))
		return -1;
	/* CLWB and DC CVAC leave the line valid: they clean but cannot invalidate. */
	if (ops->invalidate == DD_INSN_CLWB || ops->invalidate == DD_INSN_DC_CVAC)
		return -1;
	selected = *ops;
	return 0;
}

static void range_op(enum dd_cache_insn insn, const void *addr, size_t len)
{
	uintptr_t p;
	size_t n;
	if (insn == DD_INSN_NONE || dd_cache_lines((uintptr_t)addr, len, selected.line_size, &p, &n) != 0)
		return;
	barrier_before();
	for (; n > 0; n--, p += selected.line_size)
		line_op(insn, p);
	barrier_after();
}

void dd_cache_clean(const void *addr, size_t len)
{
	range_op(selected.clean, addr, len);
}

void dd_cache_invalidate(const void *addr, size_t len)
{
	range_op(selected.invalidate, addr, len);
}

void dd_cache_flush(const void *addr, size_t len)
{
	/* Every invalidate instruction above also writes back: one pass does both. */
	range_op(selected.invalidate, addr, len);
}
