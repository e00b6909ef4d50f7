package io.sparkvision.cli;

import io.sparkvision.TestSpark;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The everyday inputs of issue 12 through the command line, as the README shows them. */
class InputsCliTest extends CapturedOutput {
    static DatasetDescriptor descriptor(Path root) throws IOException {
        return Json.read(Files.readString(root.resolve("dataset.json")), DatasetDescriptor.class);
    }

    @Test
    void aClassFolderTreeIsSplitByFractionsAndTrainRefusesOneWithoutATestSplit(@TempDir Path dir) throws IOException {
        Path src = dir.resolve("photos");
        for (String c : List.of("cat", "dog")) {
            Files.createDirectories(src.resolve(c));
            for (int i = 0; i < 12; i++) {
                BufferedImage img = new BufferedImage(24, 24, BufferedImage.TYPE_3BYTE_BGR);
                img.setRGB(i, i, c.equals("cat") ? 0xff0000 : 0x0000ff);
                ImageIO.write(img, "png", src.resolve(c + "/" + i + ".png").toFile());
            }
        }
        String[] common = {"--set", "ingest.source=" + src, "--set", "ingest.image-size=16", "--set", "spark.master=local[2]"};
        assertEquals(0, Main.execute(concat(new String[] {"ingest", "jobs/images-ingest.conf", "--set", "data.root=" + dir.resolve("split"),
                "--set", "ingest.split-fractions={train=0.75,test=0.25}"}, common)), err.toString());
        DatasetDescriptor split = descriptor(dir.resolve("split"));
        assertEquals(24, split.count("train") + split.count("test"));
        assertTrue(split.count("test") > 0 && split.count("train") > split.count("test"), split.splits().toString());

        assertEquals(0, Main.execute(concat(new String[] {"ingest", "jobs/images-ingest.conf", "--set", "data.root=" + dir.resolve("all")},
                common)), err.toString());
        assertEquals(24, descriptor(dir.resolve("all")).count("train"));
        int rc = Main.execute("train", "jobs/mnist-lenet5.conf", "--set", "data.root=" + dir.resolve("all"),
                "--set", "output.dir=" + dir.resolve("run"), "--set", "spark.master=local[2]");
        assertEquals(2, rc);
        assertTrue(err.toString().contains("error: data.test-split = test: dataset " + dir.resolve("all") + " has no 'test' images"),
                err.toString());
        assertTrue(err.toString().contains("ingest.split-fractions"), err.toString());
    }

    @Test
    void aDatasetLeftWithOneClassIsRefusedBeforeTrainingNamingTheClassesFound(@TempDir Path dir) throws IOException {
        // Every 'dog' file is corrupt: ingest skips them all and the class index holds 'cat' alone. Without the
        // product's check the run reached DL4J: "DL4JInvalidConfigException: ... Softmax + nOut=1".
        Path src = dir.resolve("photos");
        for (String c : List.of("cat", "dog")) {
            Files.createDirectories(src.resolve(c));
            for (int i = 0; i < 8; i++) {
                Path f = src.resolve(c + "/" + i + ".png");
                if (c.equals("dog")) {
                    Files.write(f, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
                } else {
                    BufferedImage img = new BufferedImage(24, 24, BufferedImage.TYPE_3BYTE_BGR);
                    img.setRGB(i, i, 0xff0000);
                    ImageIO.write(img, "png", f.toFile());
                }
            }
        }
        Path data = dir.resolve("cats");
        assertEquals(0, Main.execute("ingest", "jobs/images-ingest.conf", "--set", "ingest.source=" + src, "--set",
                "ingest.image-size=16", "--set", "spark.master=local[2]", "--set", "data.root=" + data,
                "--set", "ingest.split-fractions={train=0.75,test=0.25}"), err.toString());
        assertEquals(List.of("cat"), descriptor(data).classes());
        int rc = Main.execute("train", "jobs/mnist-lenet5.conf", "--set", "data.root=" + data,
                "--set", "output.dir=" + dir.resolve("run"), "--set", "spark.master=local[2]");
        String e = err.toString();
        assertEquals(2, rc, e);
        assertTrue(e.contains("error: dataset " + data + " has 1 class(es) [cat] ('train' split: {cat="), e);
        assertTrue(e.contains("a classifier needs at least 2") && e.contains("ingest-report.json"), e);
        assertTrue(!e.contains("nOut=1"), e);
        assertTrue(!out.toString().contains("model: "), "refused before the model was built: " + out);
    }

    @Test
    void gzippedIdxFilesWithClassNames(@TempDir Path dir) throws IOException {
        Path src = dir.resolve("fashion");
        Files.createDirectories(src);
        for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
            try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(src.resolve(f + ".gz")))) {
                o.write(Files.readAllBytes(Paths.get(TestSpark.mnistTiny(), f)));
            }
        }
        Path job = dir.resolve("fashion-ingest.conf");
        Files.writeString(job, String.join("\n",
                "include file(\"" + TestSpark.basedir().resolve("jobs/mnist-ingest.conf") + "\")",
                "ingest.source = \"" + src + "\"",
                "data.root = \"" + dir.resolve("data") + "\"",
                "spark.master = \"local[2]\"",
                "ingest.class-names = [\"T-shirt/top\", Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, \"Ankle boot\"]"));
        assertEquals(0, Main.execute("ingest", job.toString()), err.toString());
        DatasetDescriptor d = descriptor(dir.resolve("data"));
        assertEquals("Sneaker", d.classes().get(7));
        assertEquals(1200, d.count("train") + d.count("test"));
        // The names are the stored labels: in the shard rows (the default layout), as the manifest's label column was.
        try (org.apache.spark.api.java.JavaSparkContext sc = TestSpark.local(1)) {
            var rows = org.apache.spark.sql.SparkSession.builder().sparkContext(sc.sc()).getOrCreate()
                    .read().parquet(dir.resolve("data/images/split=test").toString());
            assertTrue(rows.filter(rows.col("label").equalTo("Ankle boot")).count() > 0, "a test row labelled 'Ankle boot'");
        }
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
