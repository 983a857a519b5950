/**
 * The {@code dmadirect} command. Shipped as one runnable jar for the class path ({@code java -jar dmadirect.jar},
 * the {@code dmadirect} script); as a module it runs with {@code -m io.dmadirect.cli}. picocli and Gson
 * reflect on the command classes and on the JSON rows, so those packages are open to them.
 */
module io.dmadirect.cli {
    requires io.dmadirect.core;
    requires io.dmadirect.drivers;
    requires info.picocli;
    requires com.google.gson;
    requires java.management; // AgentCommand passes -XX:ErrorFile on to the attaching JVM

    opens io.dmadirect.cli to info.picocli, com.google.gson;
    opens io.dmadirect.cli.system to info.picocli, com.google.gson;
}
