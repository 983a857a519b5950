package io.dmadirect.hil;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaMappingException;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The failures the agent injected that a workload in a child JVM met ({@link FaultsMain}). A failure
 * counts only when it is the agent's own, arriving unchanged as the driver's error; anything else (another
 * type, a wrapped or different message) is rethrown, since it is the driver's own failure, and ends the
 * child with an error.
 */
final class InjectedFailures {
    static final String MARK = "dmadirect-agent injected this failure";
    /** The call site in the agent's message: {@code ... allocation #5 at <site>); the driver must ...}. */
    private static final Pattern SITE = Pattern.compile("#\\d+ at (.+?)\\); the driver must");
    private static int total;

    private final String scenario;
    private int allocations;
    private int mappings;
    private final Set<String> sites = new LinkedHashSet<>();

    InjectedFailures(String scenario) {
        this.scenario = scenario;
    }

    /** Every injected failure seen in this JVM, by all scenarios. */
    static int total() {
        return total;
    }

    /** Counts {@code e} when the agent injected it, and prints the first of each site; rethrows anything else. */
    void record(RuntimeException e) {
        String message = e.getMessage();
        boolean injected = message != null && message.contains(MARK);
        if (!injected || !(e instanceof DmaAllocationException || e instanceof DmaMappingException)) {
            throw e;
        }
        if (e instanceof DmaAllocationException) {
            allocations++;
        } else {
            mappings++;
        }
        total++;
        Matcher m = SITE.matcher(message);
        String site = m.find() ? m.group(1) : "(no site in the message)";
        if (sites.add(site)) {
            System.out.println("faults " + scenario + ": injected " + e.getClass().getSimpleName() + ": " + message);
        }
    }

    int allocations() {
        return allocations;
    }

    int mappings() {
        return mappings;
    }

    int count() {
        return allocations + mappings;
    }

    Set<String> sites() {
        return sites;
    }

    @Override
    public String toString() {
        return count() + " injected (" + allocations + " allocation, " + mappings + " mapping) at " + sites.size()
                + " sites";
    }
}
