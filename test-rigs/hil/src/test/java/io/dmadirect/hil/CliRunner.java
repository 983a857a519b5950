package io.dmadirect.hil;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Runs many {@code dmadirect} commands in one JVM, for {@code test-rigs/hil/cli-udev-checks.sh}: under TCG
 * every JVM start costs 3-5 s. Each command is exactly what {@code dmadirect ARGS} runs ({@code new
 * CommandLine(new DmadirectCommand()).execute(args)}, whose result {@code main} passes to System.exit),
 * with stdout and stderr redirected to files.
 *
 * <p>Protocol (stdin/stdout, for a bash coproc): a request is one line {@code NAME<TAB>ARG<TAB>ARG...};
 * the command's output goes to {@code DIR/NAME.out} and {@code DIR/NAME.err}, and the reply is its exit
 * code on one line. Run with the CLI's jar first on the class path:
 * {@code java -cp java/cli/target/dmadirect.jar:<hil test classes> io.dmadirect.hil.CliRunner DIR}.
 * Reflection keeps the HIL module free of a dependency on the CLI.
 */
public final class CliRunner {
    private CliRunner() {
    }

    public static void main(String[] argv) throws Exception {
        Path dir = Path.of(argv[0]);
        PrintStream reply = System.out;
        PrintStream stderr = System.err;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] fields = line.split("\t", -1);
            String[] args = Arrays.copyOfRange(fields, 1, fields.length);
            int rc;
            try (PrintStream out = new PrintStream(Files.newOutputStream(dir.resolve(fields[0] + ".out")), true,
                    StandardCharsets.UTF_8);
                    PrintStream err = new PrintStream(Files.newOutputStream(dir.resolve(fields[0] + ".err")), true,
                            StandardCharsets.UTF_8)) {
                System.setOut(out);
                System.setErr(err);
                try {
                    rc = execute(args);
                } catch (Throwable t) {
                    t.printStackTrace(err);
                    rc = 99;
                } finally {
                    System.setOut(reply);
                    System.setErr(stderr);
                }
            }
            reply.println(rc);
            reply.flush();
        }
    }

    private static int execute(String[] args) throws ReflectiveOperationException {
        Object command = Class.forName("io.dmadirect.cli.DmadirectCommand").getConstructor().newInstance();
        Class<?> commandLine = Class.forName("picocli.CommandLine");
        Object cli = commandLine.getConstructor(Object.class).newInstance(command);
        try {
            return (Integer) commandLine.getMethod("execute", String[].class).invoke(cli, (Object) args);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
