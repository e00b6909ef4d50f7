package io.sparkvision.ingest;

import io.sparkvision.Schemas;
import io.sparkvision.TestSpark;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ingest.split-fractions on a class-folder tree without split folders, an archive in it, and a manifest without splits. */
class SplitIngestTest {
    static JavaSparkContext sc;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());
    static final SplitFractions EIGHTY_TWENTY = SplitFractions.of(new LinkedHashMap<>(Map.of("train", 0.8)) {{
        put("test", 0.2);
    }});
    static final IngestSettings S = IngestSettings.defaults(16, 3).withSplitFractions(EIGHTY_TWENTY);

    @BeforeAll
    static void start() {
        sc = TestSpark.local(2);
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    static void put(Path root, String rel, byte[] b) throws IOException {
        Files.createDirectories(root.resolve(rel).getParent());
        Files.write(root.resolve(rel), b);
    }

    /** source relative path -> split, from the ingest state (what the ingest decided for every file, latest run). */
    static Map<String, String> splits(Path src, Path out) throws IOException {
        Map<String, String> m = new TreeMap<>();
        String prefix = src.toUri().getPath();
        org.apache.spark.sql.SparkSession spark = org.apache.spark.sql.SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        for (org.apache.spark.sql.Row r : spark.read().parquet(out.resolve(DatasetStorage.STATE).toString())
                .filter("reason is null and not archive").orderBy("run").select("source", "split").collectAsList()) {
            m.put(r.getString(0).substring(r.getString(0).indexOf(prefix) + prefix.length()), r.getString(1));
        }
        return m;
    }

    @Test
    void eachFileSplitByTheHashOfItsRelativePathAndKeepsItsSplit(@TempDir Path src) throws IOException {
        byte[] png = Hostile.encode(Hostile.halves(20, 20, BufferedImage.TYPE_3BYTE_BGR), "png");
        for (String c : List.of("cat", "dog")) for (int i = 0; i < 40; i++) put(src, c + "/" + i + ".png", png);
        // An archive of class folders is split by "<archive path>!/<entry>".
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipArchiveOutputStream z = new ZipArchiveOutputStream(zip)) {
            for (int i = 0; i < 10; i++) {
                z.putArchiveEntry(new ZipArchiveEntry("cat/z" + i + ".png"));
                z.write(png);
                z.closeArchiveEntry();
            }
        }
        put(src, "more/batch.zip", zip.toByteArray());
        Path out = src.resolve("out");
        DatasetDescriptor d = ImageIngest.run(sc, "image-folder", src.toString(), out.toString(), S, "", 2, QUIET).descriptor();

        Map<String, String> first = splits(src, out);
        assertEquals(90, first.size());
        assertTrue(first.containsKey("more/batch.zip!/cat/z3.png"), first.keySet().toString());
        for (Map.Entry<String, String> e : first.entrySet()) assertEquals(EIGHTY_TWENTY.splitOf(e.getKey()), e.getValue(), e.getKey());
        long test = first.values().stream().filter("test"::equals).count();
        assertTrue(test >= 8 && test <= 30, "about a fifth of 90 in test: " + test);
        assertEquals(90 - test, d.count("train"));
        assertEquals(test, d.count("test"));
        assertEquals(Map.of("train", 0.8, "test", 0.2), d.splitFractions());
        Schemas.assertValid("dataset-descriptor.schema.json", Schemas.parse(Files.readString(out.resolve("dataset.json"))), "dataset.json");

        // New files join; every earlier file keeps its split, and the same path from another source root too.
        for (int i = 40; i < 60; i++) put(src, "dog/" + i + ".png", png);
        ImageIngest.run(sc, "image-folder", src.toString(), out.toString(), S, "", 2, QUIET);
        Map<String, String> second = splits(src, out);
        assertEquals(110, second.size());
        for (Map.Entry<String, String> e : first.entrySet()) assertEquals(e.getValue(), second.get(e.getKey()), e.getKey());

        // Other fractions on the same dataset: refused, naming the key (old images would keep the old split).
        IngestSettings other = S.withSplitFractions(SplitFractions.of(new LinkedHashMap<>(Map.of("train", 0.5)) {{
            put("test", 0.5);
        }}));
        put(src, "dog/new.png", png);
        String m = assertThrows(IllegalArgumentException.class,
                () -> ImageIngest.run(sc, "image-folder", src.toString(), out.toString(), other, "", 2, QUIET)).getMessage();
        assertTrue(m.contains("ingest.split-fractions = {train=0.8, test=0.2}") && m.contains("another data.root"), m);
    }

    @Test
    void manifestRowsWithoutASplitAreHashedByTheirPath(@TempDir Path src) throws IOException {
        byte[] png = Hostile.encode(Hostile.halves(20, 20, BufferedImage.TYPE_3BYTE_BGR), "png");
        StringBuilder csv = new StringBuilder("path,label\n");
        for (int i = 0; i < 30; i++) {
            put(src, "img/" + i + ".png", png);
            csv.append("img/").append(i).append(".png,").append(i % 2 == 0 ? "even" : "odd").append('\n');
        }
        Files.writeString(src.resolve("labels.csv"), csv.toString());
        Path out = src.resolve("out");
        ImageIngest.run(sc, "manifest", src.resolve("labels.csv").toString(), out.toString(), S, "", 2, QUIET);
        Map<String, String> split = splits(src, out);
        assertEquals(30, split.size());
        // The path as the manifest writes it is what is hashed.
        for (Map.Entry<String, String> e : split.entrySet()) assertEquals(EIGHTY_TWENTY.splitOf(e.getKey()), e.getValue(), e.getKey());
        assertTrue(split.containsValue("test") && split.containsValue("train"), split.toString());
    }
}
