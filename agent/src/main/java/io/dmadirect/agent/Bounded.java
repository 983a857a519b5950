package io.dmadirect.agent;

import java.util.LinkedHashMap;
import java.util.Map;

/** A map that forgets its oldest entry beyond a bound: the agent's memory of recent releases, per device or pool. */
final class Bounded {
    private Bounded() {
    }

    static <K, V> Map<K, V> map(int bound) {
        return new LinkedHashMap<>(16, 0.75f, false) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > bound;
            }
        };
    }
}
