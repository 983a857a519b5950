/*
 * Cache maintenance by address range, for devices that do not snoop CPU caches.
 *
 * clean:      write dirty lines back to memory, so a device reads what the CPU wrote
 *             (the kernel's arch_sync_dma_for_device() for DMA_TO_DEVICE).
 * invalidate: make the CPU read what a device wrote. User space cannot drop a line without
 *             writing it back (x86 INVD and arm64 DC IVAC are privileged), so this cleans and
 *             invalidates: the kernel's dcache_clean_inval_poc(), which is safe because the buffer
 *             belongs to the device between the two syncs and the CPU did not write to it.
 * flush:      clean and invalidate (arch_dma_prep_coherent(), DMA_BIDIRECTIONAL).
 *
 * Every call ends with the barrier that orders it before later stores (x86 SFENCE after
 * CLFLUSHOPT/CLWB, arm64 DSB SY), so a doorbell write that follows reaches the device after the data.
 */
#ifndef DMADIRECT_CACHE_H
#define DMADIRECT_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* The instructions a CPU offers for the job, best last. */
enum dd_cache_insn {
	DD_INSN_NONE = 0,
	DD_INSN_CLFLUSH,     /* x86: write back and invalidate, strongly ordered */
	DD_INSN_CLFLUSHOPT,  /* x86: write back and invalidate, weakly ordered: needs SFENCE */
	DD_INSN_CLWB,        /* x86: write back, the line may stay cached: needs SFENCE */
	DD_INSN_DC_CVAC,     /* arm64: clean to the point of coherency */
	DD_INSN_DC_CIVAC,    /* arm64: clean and invalidate to the point of coherency */
};

/* What dd_cache_*() use on this CPU. */
struct dd_cache_ops {
	uint32_t line_size;          /* smallest data cache line, bytes, a power of two */
	enum dd_cache_insn clean;
	enum dd_cache_insn invalidate;
};

/*
 * x86: the choice for CPUID.1:EDX, CPUID.1:EBX and CPUID.(7,0):EBX. A pure function, so the choice
 * for CPUs we do not have can be tested. Returns 0, or -1 when the CPU has no CLFLUSH at all.
 */
int dd_cache_choose_x86(uint32_t leaf1_edx, uint32_t leaf1_ebx, uint32_t leaf7_ebx, struct dd_cache_ops *ops);

/* arm64: the choice for CTR_EL0 (DminLine is bits 19:16, log2 of the line in 4-byte words). */
int dd_cache_choose_arm64(uint64_t ctr_el0, struct dd_cache_ops *ops);

/* Probes this CPU once and selects the instructions. Returns 0, or -1 when there are none. */
int dd_cache_init(void);

/* The selection dd_cache_init() made (zeroed before it ran or when it failed). */
const struct dd_cache_ops *dd_cache_selected(void);

/*
 * Replaces the selection (tests force the weaker instructions with it). Returns -1 and changes
 * nothing when this CPU cannot execute the choice, or when the invalidate instruction keeps the line.
 */
int dd_cache_select(const struct dd_cache_ops *ops);

/* The instruction's name as the manuals spell it ("clflushopt", "dc civac"). */
const char *dd_cache_insn_name(enum dd_cache_insn insn);

/*
 * The lines covering [addr, addr + len): the first line's address and the count (0 for len 0).
 * Returns -1 when the range wraps around the address space.
 */
int dd_cache_lines(uintptr_t addr, size_t len, uint32_t line_size, uintptr_t *first, size_t *count);

void dd_cache_clean(const void *addr, size_t len);
void dd_cache_invalidate(const void *addr, size_t len);
void dd_cache_flush(const void *addr, size_t len);

#endif
