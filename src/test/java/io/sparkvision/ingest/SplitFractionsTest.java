package io.sparkvision.ingest;

import io.sparkvision.config.ConfigError;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.jobs.IngestJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ingest.split-fractions without Spark: the hash, the assignment, the option's validation; and ingest.class-names. */
class SplitFractionsTest {
    static SplitFractions of(String hocon) {
        return IngestSettings.of(JobConfig.fromString(hocon)).splitFractions();
    }

    @Test
    void theHashIsSha256OfThePathAndNeverChanges() {
        // Computed independently (Python: int.from_bytes(sha256(path).digest()[:8], 'big') >> 11) / 2**53): a change
        // of algorithm would move files between splits on the next ingest.
        assertEquals(0.387848362237434, SplitFractions.unitHash("cat/1.jpg"), 1e-15);
        assertEquals(0.6039564042116419, SplitFractions.unitHash("dog/000123.png"), 1e-15);
        assertEquals(0.8638345835574023, SplitFractions.unitHash("more/batch.zip!/cat/z3.png"), 1e-15);
        SplitFractions f = of("ingest.split-fractions { test = 0.2, train = 0.8 }");
        // train takes [0, 0.8) (ingest.splits order, whatever the order written), test [0.8, 1).
        assertEquals("train", f.splitOf("dog/000123.png"));
        assertEquals("test", f.splitOf("more/batch.zip!/cat/z3.png"));
    }

    @Test
    void sharesAreHonouredOverManyFiles() {
        SplitFractions f = of("ingest.split-fractions { train = 0.7, val = 0.1, test = 0.2 }");
        Map<String, Integer> n = new HashMap<>();
        for (int i = 0; i < 20_000; i++) n.merge(f.splitOf("class" + (i % 7) + "/IMG_" + i + ".jpg"), 1, Integer::sum);
        assertEquals(0.7, n.get("train") / 20_000.0, 0.015);
        assertEquals(0.1, n.get("val") / 20_000.0, 0.01);
        assertEquals(0.2, n.get("test") / 20_000.0, 0.012);
        assertEquals(List.of("train", "val", "test"), List.copyOf(f.asMap().keySet()));
    }

    @Test
    void badFractionsAreRefusedNamingTheKey() {
        String m = assertThrows(ConfigError.class, () -> of("ingest.split-fractions { train = 0.8, test = 0.3 }")).getMessage();
        assertTrue(m.contains("ingest.split-fractions") && m.contains("add up to 1.1"), m);
        m = assertThrows(ConfigError.class, () -> of("ingest.split-fractions { val = 0.5, test = 0.5 }")).getMessage();
        assertTrue(m.contains("ingest.split-fractions") && m.contains("train split 'train'"), m);
        m = assertThrows(ConfigError.class, () -> of("ingest.split-fractions { train = 0.8, \"a/b\" = 0.2 }")).getMessage();
        assertTrue(m.contains("'a/b' cannot be a split name"), m);
        m = assertThrows(ConfigError.class, () -> of("ingest.split-fractions { train = 1.5 }")).getMessage();
        assertTrue(m.contains("ingest.split-fractions") && m.contains("from 0 to 1"), m);
        m = assertThrows(ConfigError.class, () -> of("ingest.split-fractions = 0.8")).getMessage();
        assertTrue(m.contains("ingest.split-fractions") && m.contains("{ train = 0.8, test = 0.2 }"), m);
        assertTrue(of("ingest.format = image-folder").isEmpty());
        assertEquals("train", IngestSettings.of(JobConfig.fromString("ingest.format = image-folder")).splitOf("cat/1.jpg"));
    }

    @Test
    void theNightlyRetrainRefusesFractionsItWouldSilentlyDropImagesBy() {
        String m = assertThrows(ConfigError.class, () -> io.sparkvision.jobs.RetrainJob.validate(JobConfig.fromString(
                "retrain { source = /l, registry = /r, holdout = /h }\ningest.split-fractions { train = 0.8, test = 0.2 }"))).getMessage();
        assertTrue(m.contains("ingest.split-fractions") && m.contains("nightly retrain"), m);
    }

    @Test
    void anOverrideReplacesTheJobFilesFractionsWhole(@TempDir Path dir) throws IOException {
        Path job = dir.resolve("job.conf");
        Files.writeString(job, "ingest.split-fractions { train = 0.7, val = 0.1, test = 0.2 }\n");
        JobConfig cfg = JobConfig.load(job.toFile(), List.of("ingest.split-fractions={train=0.9,test=0.1}"));
        assertEquals(Map.of("train", 0.9, "test", 0.1), cfg.get(Options.INGEST_SPLIT_FRACTIONS));
    }

    @Test
    void classNamesAreAListOption(@TempDir Path dir) throws IOException {
        JobConfig cfg = JobConfig.fromString("ingest.class-names = [\"T-shirt/top\", Trouser, \"Ankle boot\"]");
        assertEquals(List.of("T-shirt/top", "Trouser", "Ankle boot"), cfg.get(Options.INGEST_CLASS_NAMES));
        assertEquals(List.of(), JobConfig.fromString("").get(Options.INGEST_CLASS_NAMES));
        String m = assertThrows(ConfigError.class, () -> JobConfig.fromString("ingest.class-names = Sneaker")).getMessage();
        assertTrue(m.contains("ingest.class-names = \"Sneaker\"") && m.contains("a list of strings"), m);
        JobConfig set = JobConfig.load(null, List.of("ingest.class-names=[Sneaker, Bag]"));
        assertEquals(List.of("Sneaker", "Bag"), set.get(Options.INGEST_CLASS_NAMES));
        String base = "ingest.source = /x\ndata.root = /y\n";
        m = assertThrows(ConfigError.class, () -> IngestJob.validate(JobConfig.fromString(base + "ingest.class-names = [Bag, Bag]"))).getMessage();
        assertTrue(m.contains("ingest.class-names") && m.contains("'Bag' is listed twice"), m);
        m = assertThrows(ConfigError.class, () -> IngestJob.validate(JobConfig.fromString(base + "ingest.class-names = [\"a,b\", c]"))).getMessage();
        assertTrue(m.contains("ingest.class-names") && m.contains("comma"), m);
        m = assertThrows(ConfigError.class, () -> IngestJob.validate(JobConfig.fromString(base
                + "ingest.format = image-folder\ningest.class-names = [a, b]"))).getMessage();
        assertTrue(m.contains("only ingest.format = mnist-idx"), m);
    }
}
