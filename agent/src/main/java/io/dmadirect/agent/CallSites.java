package io.dmadirect.agent;

import java.util.Arrays;

/**
 * The call sites in driver code, numbered when the agent rewrites a class. Number 0 means "not known":
 * the caller was not rewritten (outside {@code packages=}, or loaded before a dynamic attach could
 * retransform it). Each site keeps the stack of its first allocation, so that leak reports carry a stack
 * without a stack walk per call ({@code stacks=each} walks each time).
 */
final class CallSites {
    /** One call of the DMA API in a driver's bytecode. */
    static final class Site {
        final int id;
        final String text;
        volatile StackTraceElement[] stack;

        Site(int id, String text) {
            this.id = id;
            this.text = text;
        }
    }

    private static final Object LOCK = new Object();
    private static volatile Site[] sites = new Site[64];
    private static int next = 1;
    static final String UNKNOWN = "unknown call site (the caller is not rewritten: set packages= to the driver's packages)";

    private CallSites() {
    }

    /** Registers the call of {@code api} at {@code className.method(File.java:line)}. */
    static int register(String className, String method, int line, String api) {
        synchronized (LOCK) {
            int id = next++;
            String simple = className.substring(className.lastIndexOf('.') + 1);
            int dollar = simple.indexOf('$');
            String file = (dollar < 0 ? simple : simple.substring(0, dollar)) + ".java";
            String text = className + "." + method + "(" + file + (line > 0 ? ":" + line : "") + ") -> " + api;
            Site[] table = sites;
            if (id >= table.length) {
                table = Arrays.copyOf(table, table.length * 2);
            }
            table[id] = new Site(id, text);
            sites = table;
            return id;
        }
    }

    /** The site with this number, or null for 0 and for numbers not handed out. */
    static Site get(int id) {
        Site[] table = sites;
        return id > 0 && id < table.length ? table[id] : null;
    }

    static String text(int id) {
        Site site = get(id);
        return site == null ? UNKNOWN : site.text;
    }

    private static final java.util.Set<Integer> EMPTY_HANDLERS = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Marks a catch site whose handler stores the exception and leaves at once: {@code catch (E e) {}}. */
    static void markEmptyHandler(int id) {
        EMPTY_HANDLERS.add(id);
    }

    static boolean isEmptyHandler(int id) {
        return EMPTY_HANDLERS.contains(id);
    }

    /** The highest site number handed out. */
    static int count() {
        synchronized (LOCK) {
            return next - 1;
        }
    }
}
