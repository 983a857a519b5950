package io.dmadirect.direct;

import java.util.ArrayList;
import java.util.List;

/**
 * The notes of one allocation's slow path, made only when a step fails, so the fast path allocates
 * nothing for them.
 */
final class AllocationSteps {
    private List<String> notes;

    void add(String note) {
        if (notes == null) {
            notes = new ArrayList<>(4);
        }
        notes.add(note);
    }

    List<String> list() {
        return notes == null ? List.of() : notes;
    }
}
