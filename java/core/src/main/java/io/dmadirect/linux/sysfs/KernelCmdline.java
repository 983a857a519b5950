package io.dmadirect.linux.sysfs;


import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The kernel command line (/proc/cmdline) as parameters: {@code intel_iommu=on} is ("intel_iommu", "on"),
 * a bare {@code quiet} is ("quiet", ""). Parameters after {@code --} go to init and are left out.
 */
public record KernelCmdline(String text, Map<String, String> parameters) {

    public static KernelCmdline read(HostTree tree) {
        return parse(tree.read("/proc/cmdline").orElse(""));
    }

    static KernelCmdline parse(String text) {
        Map<String, String> params = new LinkedHashMap<>();
        for (String word : text.trim().split("\\s+")) {
            if (word.equals("--")) {
                break;
            }
            if (word.isEmpty()) {
                continue;
            }
            int eq = word.indexOf('=');
            params.put(eq < 0 ? word : word.substring(0, eq), eq < 0 ? "" : word.substring(eq + 1));
        }
        return new KernelCmdline(text.trim(), Map.copyOf(params));
    }

    public String get(String name) {
        return parameters.get(name);
    }

    public boolean has(String name, String value) {
        String v = parameters.get(name);
        return v != null && v.equals(value);
    }
}
