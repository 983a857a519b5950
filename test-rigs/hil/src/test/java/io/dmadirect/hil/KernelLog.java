package io.dmadirect.hil;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** The guest's kernel log ({@code dmesg}), for the tests that wait for what the kernel says about a device. */
final class KernelLog {
    private KernelLog() {
    }

    /** The log's lines now. */
    static List<String> lines() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("dmesg").redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lines.add(line);
            }
        }
        p.waitFor();
        return lines;
    }

    /** The first line after the first {@code skip} that matches, waiting up to {@code seconds}; null when none came. */
    static String await(int skip, Predicate<String> match, long seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        do {
            List<String> now = lines();
            for (int i = Math.min(skip, now.size()); i < now.size(); i++) {
                if (match.test(now.get(i))) {
                    return now.get(i);
                }
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        return null;
    }
}
