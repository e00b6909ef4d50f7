package io.sparkvision.config;

import io.sparkvision.TestSpark;
import io.sparkvision.cli.Main;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * docs/configuration.md is what {@link OptionsReference} renders from {@link Options}, byte for byte, and the command
 * the file names prints exactly that. Checked failing once by adding a line to the committed file (the message named
 * the line and the command) and once by changing an option's description in Options.java.
 */
class ConfigurationDocTest {
    static final Path DOC = TestSpark.basedir().resolve("docs/configuration.md");

    @Test
    void committedReferenceIsWhatTheOptionsRender() throws Exception {
        String committed = Files.readString(DOC, StandardCharsets.UTF_8);
        String rendered = OptionsReference.markdown();
        if (committed.equals(rendered)) return;
        String[] a = committed.split("\n", -1), b = rendered.split("\n", -1);
        int line = 0;
        while (line < Math.min(a.length, b.length) && a[line].equals(b[line])) line++;
        fail("docs/configuration.md is out of date with config/Options.java; regenerate it with `" + OptionsReference.COMMAND
                + "`. First difference at line " + (line + 1) + ":\n  committed: "
                + (line < a.length ? a[line] : "(end of file)") + "\n  rendered:  " + (line < b.length ? b[line] : "(end of file)"));
    }

    @Test
    void everyKeyIsDocumentedWithItsDefaultAndWhatItAccepts() {
        String rendered = OptionsReference.markdown();
        for (Option<?> o : Options.all()) {
            String row = rendered.lines().filter(l -> l.startsWith("| `" + o.key() + "` |")).findFirst().orElse(null);
            assertTrue(row != null, "no row for " + o.key());
            assertTrue(row.contains(o.accepted().replace("|", "\\|")), row);
        }
        assertTrue(rendered.contains("| `train.updater` | choice | `adam` | one of sgd, nesterovs, adam, adamw |"), rendered);
        assertTrue(rendered.contains("| `data.root` | string | (unset) |"), rendered);
    }

    @Test
    void theCommandTheDocNamesPrintsIt() {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = Main.execute("docs", "configuration");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, rc);
        assertEquals(OptionsReference.markdown(), out.toString(StandardCharsets.UTF_8));
    }
}
