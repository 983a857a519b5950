package io.dmadirect.junit;

import java.util.Set;

/**
 * The frame that called into the device: the first one outside the JDK's proxy and reflection plumbing and
 * this extension. That is the driver's line a leak report names, as the kernel's dma-debug names the caller.
 */
final class CallSite {
    private static final StackWalker WALKER = StackWalker.getInstance(Set.of(), 16);
    private static final String SELF = CallSite.class.getPackageName() + ".";

    private CallSite() {
    }

    static String here() {
        return WALKER.walk(frames -> frames
                .filter(f -> !plumbing(f.getClassName()))
                .findFirst()
                .map(f -> f.getClassName() + "." + f.getMethodName() + "(" + f.getFileName() + ":" + f.getLineNumber() + ")")
                .orElse("(unknown call site)"));
    }

    private static final Set<String> OWN = Set.of(SELF + "CallSite", SELF + "RecordingDevice", SELF + "FaultPlan");

    private static boolean plumbing(String className) {
        return OWN.contains(className) || className.startsWith("jdk.proxy")
                || className.startsWith("com.sun.proxy") || className.startsWith("java.lang.reflect.")
                || className.startsWith("jdk.internal.reflect.") || className.startsWith("io.dmadirect.direct.");
    }
}
