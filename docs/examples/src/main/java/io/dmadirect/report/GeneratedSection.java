package io.dmadirect.report;

/**
 * Puts generated text between {@value #BEGIN} and {@value #END} in a hand-written page and leaves
 * everything else as it was. Without the markers, the section goes after the page's first heading and
 * its opening paragraph, before the first {@code ## } section.
 */
public final class GeneratedSection {
    public static final String BEGIN = "<!-- generated:begin (java/bench/run-benchmarks.sh; edits here are overwritten) -->";
    public static final String END = "<!-- generated:end -->";
    private static final String BEGIN_PREFIX = "<!-- generated:begin";

    private GeneratedSection() {
    }

    /** The page with its generated section replaced by {@code generated}. */
    public static String merge(String page, String generated) {
        String block = BEGIN + "\n\n" + generated.strip() + "\n\n" + END + "\n";
        int begin = page.indexOf(BEGIN_PREFIX);
        int end = page.indexOf(END);
        if (begin >= 0 && end > begin) {
            int after = end + END.length();
            if (after < page.length() && page.charAt(after) == '\n') {
                after++;
            }
            return page.substring(0, begin) + block + page.substring(after);
        }
        if (begin >= 0 || end >= 0) {
            throw new IllegalArgumentException("failed to find both generated markers in order; fix the page by hand");
        }
        int section = page.indexOf("\n## ");
        if (section < 0) {
            return page.stripTrailing() + "\n\n" + block;
        }
        return page.substring(0, section + 1) + block + "\n" + page.substring(section + 1);
    }
}
