package io.sparkvision.data;

import io.sparkvision.TestSpark;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.ingest.ImageIngest;
import io.sparkvision.ingest.IngestSettings;
import io.sparkvision.ingest.ManifestCsv;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Manifests quote as RFC 4180 does: a path with a comma and a quote goes through ingest and training's reader. */
class QuotedManifestTest {
    static final String ODD = "odd, \"dir\"/a,b \"q\".png";
    static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = TestSpark.local(2);
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    @Test
    void linesRoundTripAndPlainLinesKeepTheirBytes() {
        // Unquoted where nothing needs quoting: manifests written before quoting existed read the same.
        assertEquals("train/0/00003.png,0,train", ManifestCsv.line("train/0/00003.png", "0", "train"));
        String line = ManifestCsv.line(ODD, "cat", "train");
        assertEquals("\"odd, \"\"dir\"\"/a,b \"\"q\"\".png\",cat,train", line);
        assertEquals(new ManifestCsv.Row(ODD, "cat", "train"), ManifestCsv.row(line));
        // Fields are kept as written: no trimming, empty stays empty.
        assertArrayEquals(new String[] {"a.png", " cat", ""}, ManifestCsv.fields("a.png, cat,"));
        assertEquals(true, ManifestCsv.isHeader(ManifestCsv.HEADER));
        assertEquals(false, ManifestCsv.isHeader(line));
    }

    @Test
    void aPathWithACommaAndAQuoteIsIngestedAndLoaded(@TempDir Path src) throws IOException {
        byte[] png = png();
        Files.createDirectories(src.resolve(ODD).getParent());
        Files.write(src.resolve(ODD), png);
        Files.write(src.resolve("plain.png"), png);
        Files.writeString(src.resolve("labels.csv"), "path,label\n" + ManifestCsv.line(ODD, "cat") + "\n"
                + ManifestCsv.line("plain.png", "dog") + "\n");
        Path out = src.resolve("out");
        DatasetDescriptor d = ImageIngest.run(sc, "manifest", src.resolve("labels.csv").toString(), out.toString(),
                IngestSettings.defaults(8, 1), ImageIngest.Storage.PNG_FILES, "", 1, new PrintStream(new ByteArrayOutputStream())).descriptor();
        assertEquals(2, d.count("train"), "both rows ingested, the quoted one included");

        // The png-files layout's own manifest with a quoted path: move the cat image to a name that needs quoting.
        List<String> lines = Files.readAllLines(out.resolve(DatasetDescriptor.MANIFEST));
        List<String> rewritten = new ArrayList<>(List.of(lines.get(0)));
        for (String l : lines.subList(1, lines.size())) {
            ManifestCsv.Row r = ManifestCsv.row(l);
            String path = r.path();
            if (r.label().equals("cat")) {
                path = "train/cat/x, \"y\".png";
                Files.move(out.resolve(r.path()), out.resolve(path));
            }
            rewritten.add(ManifestCsv.line(path, r.label(), r.split()));
        }
        Files.write(out.resolve(DatasetDescriptor.MANIFEST), rewritten);
        ImageDataset ds = ImageDataset.load(sc, out.toString(), d, "train", 1, 0);
        assertEquals(2, ds.count());
        DataSet all = DataSet.merge(ds.batches(2).collect());
        int cat = d.classes().indexOf("cat");
        assertEquals(1.0, all.getLabels().getColumn(cat).sumNumber().doubleValue(), "one cat, read from the quoted path");
        ds.release();
    }

    private static byte[] png() throws IOException {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 4; x++) img.getRaster().setSample(x, y, 0, 200);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageIO.write(img, "png", b);
        return b.toByteArray();
    }
}
