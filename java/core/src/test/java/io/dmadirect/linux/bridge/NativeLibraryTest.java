package io.dmadirect.linux.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.linux.bridge.NativeLibrary.Request;
import io.dmadirect.linux.bridge.NativeLibrary.Status;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The library loads from the jar built here; every way it cannot load gives the fallback and a reason. */
class NativeLibraryTest {
    private static final String ARCH = System.getProperty("os.arch");

    @Test
    void loadsFromTheBuiltClassesOnThisHost() {
        // The build always compiles the library for the arch it runs on, so in CI this must load.
        Status status = NativeLibrary.status();
        assertTrue(status.loaded(), status.detail());
        assertTrue(status.detail().startsWith("loaded jar:/native/linux-"), status.detail());
        assertTrue(Set.of("clwb", "clflushopt", "clflush", "dc cvac").contains(status.cleanInstruction()),
                status.cleanInstruction());
        assertTrue(Set.of("clflushopt", "clflush", "dc civac").contains(status.invalidateInstruction()),
                status.invalidateInstruction());
        assertTrue(status.lineSize() >= 32 && Integer.bitCount(status.lineSize()) == 1, "line " + status.lineSize());
    }

    @Test
    void theSameAnswerEveryTime() {
        assertTrue(NativeLibrary.status() == NativeLibrary.status());
    }

    @Test
    void propertyFalseForcesTheFallback() {
        Status status = NativeLibrary.load(new Request("false", null, "Linux", ARCH));
        assertFalse(status.loaded());
        assertEquals("disabled with -Ddmadirect.native=false", status.detail());
        assertEquals("none", status.cleanInstruction());
    }

    @Test
    void aMissingPathIsAReasonNotACrash() {
        Status status = NativeLibrary.load(new Request(null, "/nonexistent/libdmadirect.so", "Linux", ARCH));
        assertFalse(status.loaded());
        assertTrue(status.detail().startsWith("failed to load /nonexistent/libdmadirect.so: java.lang.UnsatisfiedLinkError"),
                status.detail());
    }

    @Test
    void otherSystemsAndArchesAreNamed() {
        assertEquals("the library is built for Linux only, this is Mac OS X",
                NativeLibrary.load(new Request(null, null, "Mac OS X", "aarch64")).detail());
        assertEquals("no library is built for os.arch riscv64 (x86_64 and aarch64 are)",
                NativeLibrary.load(new Request(null, null, "Linux", "riscv64")).detail());
    }

    @Test
    void archNamesAreTheKernels() {
        assertEquals("x86_64", NativeLibrary.archOf("amd64"));
        assertEquals("x86_64", NativeLibrary.archOf("x86_64"));
        assertEquals("aarch64", NativeLibrary.archOf("aarch64"));
        assertNull(NativeLibrary.archOf("ppc64le"));
        assertEquals("/native/linux-aarch64/libdmadirect.so", NativeLibrary.resource("aarch64"));
    }

    @Test
    void theJarCarriesThisArchsLibrary() {
        assertTrue(NativeLibrary.class.getResource(NativeLibrary.resource(NativeLibrary.archOf(ARCH))) != null);
    }
}
