package io.sparkvision.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobConfigTest {

    private static String error(String hocon) {
        return assertThrows(ConfigError.class, () -> JobConfig.fromString(hocon)).getMessage();
    }

    @Test
    void defaultsApplyWhenAKeyIsAbsent() {
        JobConfig c = JobConfig.fromString("train.epochs = 3");
        assertEquals(3, c.get(Options.TRAIN_EPOCHS));
        assertEquals(Options.TRAIN_BATCH.defaultValue(), c.get(Options.TRAIN_BATCH));
        assertEquals("local[*]", c.get(Options.SPARK_MASTER));
    }

    @Test
    void unknownKeyIsRejectedWithTheNearestKnownOne() {
        String m = error("train.epoch = 3");
        assertTrue(m.contains("unknown key 'train.epoch'"), m);
        assertTrue(m.contains("did you mean 'train.epochs'"), m);
    }

    @Test
    void unknownSectionIsRejected() {
        String m = error("trian { epochs = 3 }");
        assertTrue(m.contains("unknown key 'trian"), m);
    }

    @Test
    void wrongTypeNamesKeyValueAndAcceptedValues() {
        String m = error("train.epochs = many");
        assertTrue(m.contains("train.epochs = many"), m);
        assertTrue(m.contains("an integer from 1 to 100000"), m);
    }

    @Test
    void outOfRangeIntegerIsRejected() {
        String m = error("train.batch-size-per-worker = 0");
        assertTrue(m.contains("train.batch-size-per-worker = 0"), m);
        assertTrue(m.contains("from 1 to"), m);
    }

    @Test
    void outOfRangeDecimalIsRejected() {
        String m = error("train.learning-rate = -0.1");
        assertTrue(m.contains("train.learning-rate"), m);
        assertTrue(m.contains("a number from"), m);
    }

    @Test
    void choiceListsTheAcceptedValues() {
        String m = error("train.updater = adamw2");
        assertTrue(m.contains("train.updater = adamw2"), m);
        assertTrue(m.contains("one of sgd, nesterovs, adam"), m);
        String model = error("model.name = resnet9000");
        assertTrue(model.contains("one of lenet5"), model);
    }

    @Test
    void choicesAreCaseInsensitive() {
        assertEquals(Choices.Updater.ADAM, JobConfig.fromString("train.updater = ADAM").get(Options.TRAIN_UPDATER));
        // camelCase choices are read whatever case was written, and recorded as declared
        JobConfig camel = JobConfig.fromString("train.early-stopping.metric = top1Accuracy\ncheckpoint.best-metric = TESTLOSS");
        assertEquals(Choices.EarlyStopMetric.TOP1_ACCURACY, camel.get(Options.TRAIN_EARLY_STOP_METRIC));
        assertEquals(Choices.Metric.TEST_LOSS, camel.get(Options.CHECKPOINT_BEST_METRIC));
        assertEquals("testLoss", camel.resolved().get("checkpoint.best-metric"), "provenance records what job files say");
        assertEquals(Choices.TrainMaster.GRADIENT_SHARING,
                JobConfig.fromString("train.master = gradient-sharing").get(Options.TRAIN_MASTER));
        String typo = assertThrows(ConfigError.class, () -> JobConfig.fromString("eval.where = executors")).getMessage();
        assertTrue(typo.contains("eval.where") && typo.contains("one of driver, cluster"), typo);
    }

    @Test
    void objectWhereAValueBelongsIsRejected() {
        String m = error("train.epochs { value = 3 }");
        assertTrue(m.contains("train.epochs"), m);
    }

    @Test
    void booleanAndLongAreTyped() {
        assertEquals(7L, JobConfig.fromString("train.seed = 7").get(Options.TRAIN_SEED));
        assertTrue(error("train.seed = seven").contains("train.seed"));
    }

    @Test
    void invalidHoconIsReported() {
        assertTrue(error("train { epochs = ").contains("not valid HOCON"));
    }

    @Test
    void requiredKeyMissingNamesTheKey() {
        JobConfig c = JobConfig.fromString("");
        String m = assertThrows(ConfigError.class, () -> c.require(Options.DATA_ROOT, "the train job needs data")).getMessage();
        assertTrue(m.contains("data.root is not set"), m);
    }

    @Test
    void overridesWinOverTheFileAndAcceptPlainStrings(@TempDir Path dir) throws IOException {
        File job = dir.resolve("job.conf").toFile();
        Files.writeString(job.toPath(), "train.epochs = 5\nspark.master = \"local[2]\"\n");
        JobConfig c = JobConfig.load(job, List.of("train.epochs=2", "spark.master=local[*]", "output.dir=/tmp/a b"));
        assertEquals(2, c.get(Options.TRAIN_EPOCHS));
        assertEquals("local[*]", c.get(Options.SPARK_MASTER));
        assertEquals("/tmp/a b", c.get(Options.OUTPUT_DIR));
    }

    @Test
    void badOverridesAreRejected() {
        assertThrows(ConfigError.class, () -> JobConfig.load(null, List.of("train.epochs")));
        String m = assertThrows(ConfigError.class, () -> JobConfig.load(null, List.of("train.epochs=-1"))).getMessage();
        assertTrue(m.contains("--set") && m.contains("train.epochs = -1"), m);
        assertThrows(ConfigError.class, () -> JobConfig.load(null, List.of("train.epocs=1")));
    }

    @Test
    void missingJobFileIsReported(@TempDir Path dir) {
        String m = assertThrows(ConfigError.class, () -> JobConfig.load(dir.resolve("nope.conf").toFile(), List.of())).getMessage();
        assertTrue(m.contains("nope.conf does not exist"), m);
    }

    @Test
    void everyShippedJobFileIsValid() throws IOException {
        Path jobs = io.sparkvision.TestSpark.basedir().resolve("jobs");
        try (Stream<Path> files = Files.list(jobs)) {
            List<Path> confs = files.filter(p -> p.toString().endsWith(".conf")).toList();
            assertFalse(confs.isEmpty());
            for (Path p : confs) JobConfig.load(p.toFile(), List.of());
        }
    }

    @Test
    void everyOptionHasADescriptionAndAValidDefault() {
        for (Option<?> o : Options.all()) {
            assertFalse(o.description().isBlank(), o.key());
        }
        // An absent key returns the default without validating it, so reading defaults back from an empty config
        // proves nothing. Write each default out explicitly: it must pass its own option's type, range and choices.
        for (Option<?> o : Options.all()) {
            Object written = o.defaultValue() instanceof Option.Choice c ? c.label() : o.defaultValue(); // as a job file says it
            String hocon = o.key() + " = " + com.typesafe.config.ConfigValueFactory.fromAnyRef(written).render();
            JobConfig explicit = assertDoesNotThrow(() -> JobConfig.fromString(hocon), "the default of " + o.key() + " is not valid: " + hocon);
            assertEquals(o.defaultValue(), explicit.get(o), o.key());
        }
    }
}
