package io.dmadirect.fuzz;

/**
 * How long and how hard the fuzz suite runs, from system properties so CI's default stays short and a
 * longer hunt needs no code change:
 * <ul>
 *   <li>{@code dmadirect.fuzz.seconds}: the time budget of each fuzz test (default per test, see callers);</li>
 *   <li>{@code dmadirect.fuzz.seed}: replay this one seed only (as printed by a failure);</li>
 *   <li>{@code dmadirect.fuzz.ops}: operations per seed (default per test).</li>
 * </ul>
 * Surefire passes {@code -D} properties of the Maven command line through to the test JVM.
 */
final class FuzzSettings {
    private FuzzSettings() {
    }

    static double seconds(double byDefault) {
        String value = System.getProperty("dmadirect.fuzz.seconds");
        return value == null || value.isBlank() ? byDefault : Double.parseDouble(value);
    }

    static int operations(int byDefault) {
        String value = System.getProperty("dmadirect.fuzz.ops");
        return value == null || value.isBlank() ? byDefault : Integer.parseInt(value);
    }

    /** The seed to replay, or null to draw seeds from the clock. */
    static Long replaySeed() {
        String value = System.getProperty("dmadirect.fuzz.seed");
        if (value == null || value.isBlank()) {
            return null;
        }
        // Seeds are printed as unsigned hex; Long.decode would refuse those with the top bit set.
        String text = value.trim();
        return text.startsWith("0x") ? Long.parseUnsignedLong(text.substring(2), 16) : Long.parseLong(text);
    }
}
