/*
 * jni: the Java face of the library, io.dmadirect.linux.bridge.NativeBridge. Each function only
 * converts arguments; the work is in cache.c and copy.c, which the C test calls directly.
 *
 * Addresses arrive as jlong and lengths as non-negative jlong; the static asserts below hold the ABI
 * assumptions that make those casts exact. DD_ABI_VERSION must equal NativeBridge.ABI_VERSION: Java
 * refuses a library of another version instead of calling functions whose meaning changed.
 */
#include "dmadirect/cache.h"
#include "dmadirect/copy.h"

#include <jni.h>
#include <stdint.h>

#define DD_ABI_VERSION 1

_Static_assert(sizeof(jlong) == 8, "jlong is 64 bits");
_Static_assert(sizeof(void *) == sizeof(jlong), "a pointer fits a jlong exactly (64-bit only)");
_Static_assert(sizeof(size_t) == sizeof(jlong), "a non-negative jlong fits size_t");
_Static_assert(sizeof(jint) == 4, "jint is 32 bits");
_Static_assert(sizeof(enum dd_cache_insn) == sizeof(int), "the enum is an int");
_Static_assert(sizeof(struct dd_cache_ops) == 12, "struct dd_cache_ops: three 32-bit fields, no padding");

#define JNI_FN(name) Java_io_dmadirect_linux_bridge_NativeBridge_##name

static inline const void *ptr(jlong address)
{
	return (const void *)(uintptr_t)address;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved)
{
	(void)vm;
	(void)reserved;
	dd_cache_init();
	return JNI_VERSION_1_8;
}

JNIEXPORT jint JNICALL JNI_FN(abiVersion)(JNIEnv *env, jclass cls)
{
	(void)env;
	(void)cls;
	return DD_ABI_VERSION;
}

JNIEXPORT jint JNICALL JNI_FN(lineSize)(JNIEnv *env, jclass cls)
{
	(void)env;
	(void)cls;
	return (jint)dd_cache_selected()->line_size;
}

JNIEXPORT jstring JNICALL JNI_FN(cleanInstruction)(JNIEnv *env, jclass cls)
{
	(void)cls;
	return (*env)->NewStringUTF(env, dd_cache_insn_name(dd_cache_selected()->clean));
}

JNIEXPORT jstring JNICALL JNI_FN(invalidateInstruction)(JNIEnv *env, jclass cls)
{
	(void)cls;
	return (*env)->NewStringUTF(env, dd_cache_insn_name(dd_cache_selected()->invalidate));
}

JNIEXPORT void JNICALL JNI_FN(clean)(JNIEnv *env, jclass cls, jlong address, jlong length)
{
	(void)env;
	(void)cls;
	dd_cache_clean(ptr(address), (size_t)length);
}

JNIEXPORT void JNICALL JNI_FN(invalidate)(JNIEnv *env, jclass cls, jlong address, jlong length)
{
	(void)env;
	(void)cls;
	dd_cache_invalidate(ptr(address), (size_t)length);
}

JNIEXPORT void JNICALL JNI_FN(flush)(JNIEnv *env, jclass cls, jlong address, jlong length)
{
	(void)env;
	(void)cls;
	dd_cache_flush(ptr(address), (size_t)length);
}

JNIEXPORT void JNICALL JNI_FN(copyNonTemporal)(JNIEnv *env, jclass cls, jlong from, jlong to, jlong length)
{
	(void)env;
	(void)cls;
	dd_copy_nt((void *)(uintptr_t)to, ptr(from), (size_t)length);
}
