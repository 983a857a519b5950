package io.dmadirect.cli.system;

/**
 * One finding of {@link HostChecks}: what was checked, the verdict, what was seen, and for WARN and FAIL
 * the exact command or step that fixes it.
 */
public record Check(String name, Verdict verdict, String finding, String remedy) {

    public enum Verdict { PASS, WARN, FAIL }

    static Check pass(String name, String finding) {
        return new Check(name, Verdict.PASS, finding, null);
    }

    static Check warn(String name, String finding, String remedy) {
        return new Check(name, Verdict.WARN, finding, remedy);
    }

    static Check fail(String name, String finding, String remedy) {
        return new Check(name, Verdict.FAIL, finding, remedy);
    }
}
