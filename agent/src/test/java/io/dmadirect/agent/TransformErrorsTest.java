package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TransformErrorsTest {

    @Test
    void eachTypeIsNamedOnceWithItsCause() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TransformErrors errors = new TransformErrors(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        Throwable failure = new IllegalStateException("Cannot resolve type description for com.acme.nic.Regs",
                new ClassNotFoundException("com.acme.nic.Regs"));
        errors.onError("com.acme.nic.Ring", null, null, true, failure);
        errors.onError("com.acme.nic.Ring", null, null, true, failure);
        errors.onError("com.acme.nic.Queue", null, null, false, new IllegalStateException("no"));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(2, out.lines().count(), out);
        assertTrue(out.contains("dmadirect-agent: could not rewrite com.acme.nic.Ring (retransforming the loaded"
                + " class"), out);
        assertTrue(out.contains("Cannot resolve type description for com.acme.nic.Regs; cause:"
                + " java.lang.ClassNotFoundException: com.acme.nic.Regs"), out);
        assertTrue(out.contains("could not rewrite com.acme.nic.Queue (as it was loaded"), out);
        assertEquals(3, errors.count());
        assertEquals(Set.of("com.acme.nic.Ring", "com.acme.nic.Queue"), errors.types());
    }
}
