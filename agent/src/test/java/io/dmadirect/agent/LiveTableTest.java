package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LiveTableTest {
    /** A key whose hash the test chooses: equal hashes collide, as two mappings may. */
    private static final class Key {
        final int hash;

        Key(int hash) {
            this.hash = hash;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o == this || o instanceof Key k && k.hash == hash; // the table must compare by identity anyway
        }
    }

    private record E(Object key) implements LiveTable.Keyed {
    }

    /** Random puts and removes against an IdentityHashMap, with few distinct hashes so that probes run long and wrap. */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 64, 1 << 30})
    void agreesWithAnIdentityMap(int distinctHashes) {
        LiveTable<E> table = new LiveTable<>();
        Map<Object, E> expected = new IdentityHashMap<>();
        List<Key> keys = new ArrayList<>();
        Random random = new Random(distinctHashes);
        for (int i = 0; i < 20_000; i++) {
            if (keys.isEmpty() || random.nextInt(3) != 0) {
                Key k = new Key(random.nextInt(distinctHashes) * 0x9E3779B1);
                keys.add(k);
                E e = new E(k);
                table.put(e);
                expected.put(k, e);
            } else {
                Key k = keys.remove(random.nextInt(keys.size()));
                assertSame(expected.remove(k), table.remove(k));
                assertNull(table.remove(k), "removed twice");
            }
            if (i % 997 == 0) {
                for (Key k : keys) {
                    assertSame(expected.get(k), table.get(k));
                }
                assertEquals(expected.size(), table.size());
                assertEquals(new HashSet<>(expected.values()), new HashSet<>(table.values()));
            }
        }
        assertNull(table.get(new Key(0)), "an equal but distinct key is not found: identity");
    }

    @Test
    void removeIfTakesOutExactlyTheMatches() {
        LiveTable<E> table = new LiveTable<>();
        List<E> all = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            E e = new E(new Key(i));
            all.add(e);
            table.put(e);
        }
        List<E> taken = table.removeIf(e -> ((Key) e.key()).hash % 2 == 0);
        assertEquals(50, taken.size());
        assertEquals(50, table.size());
        for (E e : all) {
            assertEquals(((Key) e.key()).hash % 2 != 0, table.containsKey(e.key()));
        }
    }

    /** anyMatch sees exactly the live entries: a match in any stripe, none once it is removed, none in an empty table. */
    @Test
    void anyMatchSeesExactlyTheLiveEntries() {
        LiveTable<E> table = new LiveTable<>();
        assertFalse(table.anyMatch(e -> true), "empty table");
        List<E> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            E e = new E(new Key(i * 0x9E3779B1));
            all.add(e);
            table.put(e);
        }
        for (E e : all) {
            assertTrue(table.anyMatch(x -> x == e), "live entry " + e);
        }
        for (E e : all) {
            table.remove(e.key());
            assertFalse(table.anyMatch(x -> x == e), "removed entry " + e);
        }
        assertFalse(table.anyMatch(e -> true), "emptied table");
    }

    /** Threads map and unmap at once, each unmapping what another mapped: no entry lost or kept. */
    @Test
    void concurrentPutsAndRemovesOnOtherThreadsLoseNothing() throws Exception {
        LiveTable<E> table = new LiveTable<>();
        int threads = 4;
        int perThread = 20_000;
        E[][] made = new E[threads][perThread];
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> putters = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            putters.add(new Thread(() -> {
                await(start);
                for (int i = 0; i < perThread; i++) {
                    made[id][i] = new E(new Object());
                    table.put(made[id][i]);
                }
            }));
        }
        putters.forEach(Thread::start);
        start.countDown();
        for (Thread p : putters) {
            p.join();
        }
        assertEquals(threads * perThread, table.size());
        AtomicInteger lost = new AtomicInteger();
        List<Thread> removers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int other = (t + 1) % threads;
            removers.add(new Thread(() -> {
                for (E e : made[other]) {
                    if (table.remove(e.key()) != e) {
                        lost.incrementAndGet();
                    }
                }
            }));
        }
        removers.forEach(Thread::start);
        for (Thread r : removers) {
            r.join();
        }
        assertEquals(0, lost.get(), "entries a remover did not find");
        assertEquals(0, table.size());
        assertEquals(List.of(), table.values());
    }

    /**
     * Threads put, look up and remove at once in the same few stripes (keys of a handful of hashes, so probes
     * collide, removals shift entries back and stripes grow while others probe): each thread must always find
     * its own live entries and never another's, which fails if two threads are ever inside one stripe.
     */
    @Test
    void interleavedPutsLookupsAndRemovesInSharedStripesStayExact() throws Exception {
        LiveTable<E> table = new LiveTable<>();
        int threads = 4;
        AtomicInteger wrong = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers.add(new Thread(() -> {
                await(start);
                Random random = new Random(id);
                List<E> mine = new ArrayList<>();
                for (int i = 0; i < 200_000; i++) {
                    if (mine.size() < 40 && (mine.isEmpty() || random.nextBoolean())) {
                        E e = new E(new Key(random.nextInt(3) * 0x9E3779B1));
                        table.put(e);
                        mine.add(e);
                    } else {
                        E e = mine.remove(random.nextInt(mine.size()));
                        if (table.get(e.key()) != e || table.remove(e.key()) != e || table.get(e.key()) != null) {
                            wrong.incrementAndGet();
                        }
                    }
                }
                for (E e : mine) {
                    if (table.remove(e.key()) != e) {
                        wrong.incrementAndGet();
                    }
                }
            }));
        }
        workers.forEach(Thread::start);
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        assertEquals(0, wrong.get(), "lookups and removals that missed their own entry or found a removed one");
        assertEquals(0, table.size());
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
