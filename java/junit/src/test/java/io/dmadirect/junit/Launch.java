package io.dmadirect.junit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.ArrayList;
import java.util.List;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** Runs a test class through the JUnit Platform launcher and keeps each test's outcome. */
final class Launch implements TestExecutionListener {
    /** One test's outcome: its display name, the status, and the failure's message (or the skip's reason). */
    record Outcome(String name, String status, String message) {
    }

    private final List<Outcome> outcomes = new ArrayList<>();

    static List<Outcome> run(Class<?> testClass) {
        Launch listener = new Launch();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(testClass)).build(), listener);
        return listener.outcomes;
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (id.isTest()) {
            outcomes.add(new Outcome(id.getDisplayName(), result.getStatus().name(),
                    result.getThrowable().map(Throwable::getMessage).orElse("")));
        }
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
        outcomes.add(new Outcome(id.getDisplayName(), "SKIPPED", reason));
    }

    static Outcome only(List<Outcome> outcomes, String name) {
        return outcomes.stream().filter(o -> o.name().startsWith(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no test " + name + " in " + outcomes));
    }
}
