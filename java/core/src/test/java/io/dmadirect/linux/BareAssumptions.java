package io.dmadirect.linux;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds, in one Java source, the ways a test can end without running that bypass {@link HostRequirement}
 * (and the HIL suite's {@code Rig}): JUnit's assumptions, a thrown {@code TestAbortedException}, and the
 * conditional or disabling annotations ({@code @Disabled}, {@code @EnabledIf*}, {@code @DisabledOnOs}, ...).
 * Comments and string literals are blanked first, so prose and messages that name them do not count.
 * jqwik's {@code Assume.that} rejects one generated try, not the test, and is allowed.
 */
final class BareAssumptions {
    private static final Pattern FORBIDDEN = Pattern.compile(
            "\\bAssumptions\\b"                      // org.junit.jupiter.api.Assumptions, imported or qualified
            + "|\\bassum(?:eTrue|eFalse|ingThat)\\s*\\(" // statically imported assumptions
            + "|\\borg\\.junit\\.Assume\\b|\\bAssume\\.assume\\w*\\s*\\(" // JUnit 4's
            + "|\\bTestAbortedException\\b"
            + "|@(?:Enabled|Disabled)\\w*\\b");
    private static final Pattern TEXT_BLOCK = Pattern.compile("\"\"\"(?s:.*?)\"\"\"");
    private static final Pattern BLOCK_COMMENT = Pattern.compile("/\\*(?s:.*?)\\*/");
    private static final Pattern LINE_COMMENT = Pattern.compile("//[^\n]*");
    private static final Pattern STRING = Pattern.compile("\"(?:\\\\.|[^\"\\\\\n])*\"|'(?:\\\\.|[^'\\\\\n])'");

    private BareAssumptions() {
    }

    /** Each finding as {@code line N: text}, in order. */
    static List<String> in(String source) {
        String code = blank(source);
        List<String> found = new ArrayList<>();
        Matcher m = FORBIDDEN.matcher(code);
        while (m.find()) {
            int line = 1 + (int) code.substring(0, m.start()).chars().filter(c -> c == '\n').count();
            found.add("line " + line + ": " + m.group());
        }
        return found;
    }

    /** Replaces text blocks, comments and literals by spaces, keeping the line breaks (line numbers stay right). */
    private static String blank(String source) {
        String s = source;
        for (Pattern p : new Pattern[] {TEXT_BLOCK, BLOCK_COMMENT, LINE_COMMENT, STRING}) {
            s = p.matcher(s).replaceAll(r -> Matcher.quoteReplacement(r.group().replaceAll("[^\n]", " ")));
        }
        return s;
    }
}
