/**
 * The JNI bridge to libdmadirect.so (native/): what Java cannot emit, behind pure-Java fallbacks.
 *
 * <ul>
 *   <li>{@link io.dmadirect.linux.bridge.NativeLibrary}: finds, extracts and loads the library once, and
 *       says why not when it cannot;</li>
 *   <li>{@link io.dmadirect.linux.bridge.CacheMaintenanceBridge}: the host's
 *       {@link io.dmadirect.spi.CacheMaintenance}: CPU instructions, or fences;</li>
 *   <li>{@link io.dmadirect.linux.bridge.NonTemporalCopy}: streaming copies for bounces toward a device.</li>
 * </ul>
 *
 * <p>This package and {@code io.dmadirect.linux.jna} are the only ones that reach native code.
 */
package io.dmadirect.linux.bridge;
