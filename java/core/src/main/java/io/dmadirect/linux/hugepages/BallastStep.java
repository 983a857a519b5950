package io.dmadirect.linux.hugepages;

import io.dmadirect.Sizes;

/**
 * How much more ballast to hold back, counting only what it newly takes from the page allocator.
 *
 * <p>A hugetlb mapping reserves the pool's free pages first ({@code hugetlb_acct_memory()} and
 * {@code gather_surplus_pages()}), and only the rest as surplus pages from the page allocator. Pool pages
 * were taken from the page allocator long ago: holding them pushes nothing, costs the host nothing
 * (MemAvailable does not count them), and must not use up the ballast's cap. So each step first takes
 * all the pool pages still free, then at most {@code step} new ones, within the cap on new pages and the
 * host's floor of available memory.
 *
 * @param pages how many pages to add now; 0 when {@link #stop} says why not
 * @param stop why the ballast stops growing; "" when it may grow by {@code pages}
 */
record BallastStep(long pages, String stop) {

    /**
     * @param capPages        the most pages the ballast may take newly from the page allocator
     * @param newPages        pages the ballast holds beyond the pool's free pages at its start
     * @param poolPagesLeft   pool pages free at the ballast's start that it does not hold yet
     * @param step            the most new pages to take in one step
     * @param availableBytes  MemAvailable now
     * @param floorBytes      what the ballast must leave available to the host
     * @param pageSize        the hugepage size
     */
    static BallastStep next(long capPages, long newPages, long poolPagesLeft, long step, long availableBytes,
            long floorBytes, long pageSize) {
        long room = capPages - newPages;
        if (room <= 0) {
            return new BallastStep(0, "the ballast limit of " + Sizes.format(capPages * pageSize)
                    + " (pages taken from the page allocator, the pool's free pages not counted) was reached before "
                    + "the kernel handed out enough memory below 4 GiB");
        }
        long fresh = Math.min(step, room);
        if (availableBytes - fresh * pageSize < floorBytes) {
            fresh = Math.max(0, (availableBytes - floorBytes) / pageSize);
            if (fresh == 0) {
                return new BallastStep(0, "stopped to leave " + Sizes.format(floorBytes) + " available to the host");
            }
        }
        return new BallastStep(poolPagesLeft + fresh, "");
    }
}
