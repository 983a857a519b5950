package io.dmadirect.junit;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaException;
import io.dmadirect.DmaMappingException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One test's {@link InjectFaults}: decides, call by call and deterministically, whether an operation fails,
 * and keeps what it failed for the test's report.
 */
final class FaultPlan {
    static final FaultPlan NONE = new FaultPlan(EnumSet.noneOf(InjectFaults.Op.class), 0, 0, 1, 0, "");

    private final Set<InjectFaults.Op> ops;
    private final int every;
    private final double rate;
    private final SplittableRandom random;
    private final int times;
    private final String sites;
    private final List<String> injected = new ArrayList<>();
    private long seen;

    private FaultPlan(Set<InjectFaults.Op> ops, int every, double rate, long seed, int times, String sites) {
        this.ops = ops;
        this.every = every;
        this.rate = rate;
        this.random = new SplittableRandom(seed);
        this.times = times;
        this.sites = sites;
    }

    static FaultPlan of(InjectFaults spec) {
        if (spec == null) {
            return NONE;
        }
        if (spec.every() < 0 || spec.rate() < 0 || spec.rate() > 1 || (spec.every() == 0 && spec.rate() == 0)) {
            throw new IllegalArgumentException("@InjectFaults needs every >= 1 or a rate in (0, 1], got every="
                    + spec.every() + ", rate=" + spec.rate() + " (e.g. @InjectFaults(every = 1, times = 1))");
        }
        if (spec.times() < 1) {
            throw new IllegalArgumentException("@InjectFaults(times = " + spec.times() + "): at least 1");
        }
        Set<InjectFaults.Op> ops = EnumSet.noneOf(InjectFaults.Op.class);
        ops.addAll(List.of(spec.ops()));
        return new FaultPlan(ops, spec.every(), spec.rate(), spec.seed(), spec.times(), spec.sites());
    }

    /** Throws the platform's exception for {@code op} when this call is one to fail. */
    synchronized void maybeFail(InjectFaults.Op op, String method, String site) {
        if (!ops.contains(op) || injected.size() >= times || (!sites.isEmpty() && !site.contains(sites))) {
            return;
        }
        seen++;
        boolean fail = every > 0 ? seen % every == 0 : random.nextDouble() < rate;
        if (!fail) {
            return;
        }
        String message = "injected failure " + (injected.size() + 1) + " of " + method + " at " + site
                + " (@InjectFaults, dmadirect-junit)";
        injected.add(method + " at " + site);
        DmaException e = op == InjectFaults.Op.ALLOC ? new DmaAllocationException(message)
                : new DmaMappingException(message);
        throw e;
    }

    synchronized List<String> injected() {
        return List.copyOf(injected);
    }
}
