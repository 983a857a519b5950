/**
 * All of dmadirect's JNA code, and nothing else: the direct-mapped C library and the real
 * {@link io.dmadirect.linux.Syscalls}. No JNA type leaves this package; an architecture test holds
 * every other package to that.
 */
package io.dmadirect.linux.jna;
