package io.dmadirect.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Jars built beside this command in the repository: the benchmarks, the javaagent. */
final class RepoJars {

    private RepoJars() {
    }

    /**
     * {@code relative} (for example {@code agent/target/dmadirect-agent.jar}) in the first directory above
     * this command's jar that has it, else under the working directory.
     */
    static Path find(String relative) {
        try {
            Path self = Path.of(RepoJars.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path dir = self.getParent(); dir != null; dir = dir.getParent()) {
                Path candidate = dir.resolve(relative);
                if (Files.isRegularFile(candidate)) {
                    return candidate;
                }
            }
        } catch (java.net.URISyntaxException | RuntimeException e) {
            // fall through to the working directory
        }
        return Path.of(relative).toAbsolutePath();
    }
}
