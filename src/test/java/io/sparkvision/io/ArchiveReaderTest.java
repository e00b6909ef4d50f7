package io.sparkvision.io;

import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one archive reader of ingest and score: one unsafe-name rule, the caller's size limit, damage reported once. */
class ArchiveReaderTest {
    @Test
    void unsafeNamesLimitSkipAndDamage() throws IOException {
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipArchiveOutputStream z = new ZipArchiveOutputStream(zip)) {
            for (String[] e : new String[][] {{"cat/ok.png", "0123456789"}, {"../evil.png", "x"}, {"C:/win.png", "x"},
                    {"a\\..\\..\\back.png", "x"}, {"cat/big.png", "0123456789A"}, {"cat/.hidden", "x"}, {"dog/last.png", "xy"}}) {
                z.putArchiveEntry(new ZipArchiveEntry(e[0]));
                z.write(e[1].getBytes());
                z.closeArchiveEntry();
            }
        }
        List<ArchiveReader.Entry> all = new ArrayList<>();
        try (ArchiveReader r = ArchiveReader.open("x.zip", new ByteArrayInputStream(zip.toByteArray()), 10,
                n -> n.endsWith(".hidden"))) {
            r.forEachRemaining(all::add);
        }
        // Zip readers turn a Windows archiver's backslashes into slashes; the rule sees both the same way.
        assertEquals(List.of("cat/ok.png", "../evil.png", "C:/win.png", "a/../../back.png", "cat/big.png", "dog/last.png"),
                all.stream().map(ArchiveReader.Entry::name).toList());
        assertArrayEquals("0123456789".getBytes(), all.get(0).bytes(), "an entry of exactly the limit is read");
        for (int i = 1; i <= 3; i++) assertEquals(ArchiveReader.UNSAFE, all.get(i).error(), all.get(i).name());
        assertTrue(all.get(4).tooLarge() && all.get(4).bytes() == null, all.get(4).toString());
        assertTrue(all.get(5).ok());

        // Cut off in the middle: what came before stands, the rest is one error entry.
        byte[] cut = Arrays.copyOf(zip.toByteArray(), 60);
        List<ArchiveReader.Entry> part = new ArrayList<>();
        try (ArchiveReader r = ArchiveReader.open("x.zip", new ByteArrayInputStream(cut), 10, n -> false)) {
            r.forEachRemaining(part::add);
        }
        ArchiveReader.Entry last = part.get(part.size() - 1);
        assertEquals(ArchiveReader.REST, last.name());
        assertTrue(last.error().startsWith(ArchiveReader.DAMAGED), last.error());
        assertFalse(ArchiveReader.unsafe("cat/..x/ok.png"), "a name merely containing two dots is safe");
        assertTrue(ArchiveReader.unsafe("a\\..\\..\\back.png"), "backslashes separate as slashes do");
    }
}
