package io.dmadirect.linux;

import io.dmadirect.linux.hugepages.HugepageSize;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A host test class's hugepages: before its first test, the host's requirements are checked (skip or, under
 * {@code DMADIRECT_REQUIRE_HOST=1}, fail) and the 2 MiB pool is raised to have {@code pages} free; after its
 * last test the pool is put back as it was. Use as {@code @RegisterExtension static final HugepagePool POOL = ...}.
 */
public final class HugepagePool implements BeforeAllCallback, AfterAllCallback {
    private final long pages;
    private ReservedHugepages reserved;

    private HugepagePool(long pages) {
        this.pages = pages;
    }

    /** At least {@code pages} free 2 MiB hugepages for the class's tests. */
    public static HugepagePool ofAtLeast(long pages) {
        return new HugepagePool(pages);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        HostRequirement.requireHugepages();
        reserved = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, pages);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (reserved != null) {
            reserved.close();
            reserved = null;
        }
    }
}
