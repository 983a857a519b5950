/*
 * copy: non-temporal copy (see include/dmadirect/copy.h). 64 bytes per iteration: four 16-byte
 * loads, four streaming stores to a 16-byte aligned destination. SSE2 is part of x86_64, so no
 * CPU check is needed; arm64 uses LDP/STNP of q registers (ASIMD is part of ARMv8-A).
 */
#include "dmadirect/copy.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <emmintrin.h>

static void stream64(char *dst, const char *src, size_t blocks)
{
	for (; blocks > 0; blocks--, dst += 64, src += 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)src);
		__m128i b = _mm_loadu_si128((const __m128i *)(src + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(src + 32));
		__m128i d = _mm_loadu_si128((const __m128i *)(src + 48));
		_mm_stream_si128((__m128i *)dst, a);
		_mm_stream_si128((__m128i *)(dst + 16), b);
		_mm_stream_si128((__m128i *)(dst + 32), c);
		_mm_stream_si128((__m128i *)(dst + 48), d);
	}
	_mm_sfence();
}

#elif defined(__aarch64__)

static void stream64(char *dst, const char *src, size_t blocks)
{
	for (; blocks > 0; blocks--, dst += 64, src += 64) {
		__asm__ volatile(
			"ldp q0, q1, [%1]\n\t"
			"ldp q2, q3, [%1, #32]\n\t"
			"stnp q0, q1, [%0]\n\t"
			"stnp q2, q3, [%0, #32]\n\t"
			:: "r"(dst), "r"(src) : "v0", "v1", "v2", "v3", "memory");
	}
	__asm__ volatile("dsb st" ::: "memory");
}

#else
#error "dmadirect's native library supports x86_64 and aarch64"
#endif

void dd_copy_nt(void *dst, const void *src, size_t len)
{
	char *d = dst;
	const char *s = src;
	size_t head = (16 - ((uintptr_t)d & 15)) & 15;
	if (len < head + 64) {
		memcpy(d, s, len);
		return;
	}
	memcpy(d, s, head);
	d += head;
	s += head;
	len -= head;
	size_t blocks = len / 64;
	stream64(d, s, blocks);
	memcpy(d + blocks * 64, s + blocks * 64, len - blocks * 64);
}
