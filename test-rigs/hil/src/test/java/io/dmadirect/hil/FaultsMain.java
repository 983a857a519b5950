package io.dmadirect.hil;

/**
 * The child JVM of {@link AgentFaultInjectionTest}: runs {@link EduFaults} and, given {@code nvme},
 * {@link NvmeFaults} under {@code -javaagent:dmadirect-agent.jar=mode=trace+debug+inject,...}, then closes
 * every device, so that the agent's leak checks at close and at exit see the whole run. Prints
 * {@code faults: seen N injected failures} and exits 0; any failure that was not injected, corrupt data or a
 * leak ends it with exit code 3 and the cause.
 */
public final class FaultsMain {
    private FaultsMain() {
    }

    public static void main(String[] args) {
        try {
            EduFaults.run();
            if (java.util.List.of(args).contains("nvme")) {
                NvmeFaults.run();
            }
            Rig.releaseEdu();
            System.out.println("faults: seen " + InjectedFailures.total() + " injected failures");
        } catch (Throwable t) {
            System.out.println("faults: FAILED: " + t);
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(3);
        }
    }
}
