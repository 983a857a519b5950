package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.dmadirect.agent.bootstrap.DmaHooks;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReleaseHistoryTest {
    /** A released key and what the test names it. */
    private record Released(Object key, Object name) implements LiveTable.Keyed {
    }

    private static Object nameOf(Object released) {
        return released == null ? null : ((Released) released).name();
    }

    @Test
    void aReleaseOnAnotherThreadIsFoundAfterThatThreadHandsOver() throws Exception {
        ReleaseHistory history = new ReleaseHistory();
        Object key = new Object();
        Released entry = new Released(key, "entry");
        Thread releaser = new Thread(() -> history.add(DmaHooks.thread(), entry));
        releaser.start();
        releaser.join(); // the hand-over: join orders the release before the lookup
        assertSame(entry, history.find(key));
        assertNull(history.find(new Object()), "a key never released is not found");
    }

    @Test
    void theLatestReleaseOfAKeyWinsAndTheRingForgetsTheOldest() {
        ReleaseHistory history = new ReleaseHistory();
        DmaHooks.PerThread t = DmaHooks.thread();
        Object key = new Object();
        history.add(t, new Released(key, "first"));
        history.add(t, new Released(key, "second"));
        assertEquals("second", nameOf(history.find(key)));
        Object old = new Object();
        history.add(t, new Released(old, "old"));
        for (int i = 0; i < ReleaseHistory.PER_THREAD - 1; i++) {
            history.add(t, new Released(new Object(), i));
        }
        assertEquals("old", nameOf(history.find(old)), "still within the last PER_THREAD releases");
        for (int i = 0; i < ReleaseHistory.PER_THREAD; i++) {
            history.add(t, new Released(new Object(), "more " + i));
        }
        assertNull(history.find(old), "pushed out of the ring (and of the previous one) by 2 * PER_THREAD releases");
    }

    /** Every release is remembered for PER_THREAD releases after it, across the ring's wraps. */
    @Test
    void eachOfTheLastPerThreadReleasesIsFoundWhereverTheRingWraps() {
        ReleaseHistory history = new ReleaseHistory();
        DmaHooks.PerThread t = DmaHooks.thread();
        List<Object> keys = new ArrayList<>();
        for (int n = 0; n < 3 * ReleaseHistory.PER_THREAD + 7; n++) {
            Object key = new Object();
            keys.add(key);
            history.add(t, new Released(key, n));
            int from = Math.max(0, keys.size() - ReleaseHistory.PER_THREAD);
            for (int j = from; j < keys.size(); j += 17) {
                assertEquals(Integer.valueOf(j), nameOf(history.find(keys.get(j))), "release " + j + " after " + n);
            }
        }
    }

    @Test
    void aNewAgentHistoryDoesNotSeeTheReleasesOfAnEarlierOne() {
        DmaHooks.PerThread t = DmaHooks.thread();
        ReleaseHistory earlier = new ReleaseHistory();
        Object key = new Object();
        earlier.add(t, new Released(key, "earlier"));
        ReleaseHistory later = new ReleaseHistory(); // a second attach installs a new dispatcher
        later.add(t, new Released(new Object(), "x"));
        assertNull(later.find(key));
        assertEquals("earlier", nameOf(earlier.find(key)));
    }
}
