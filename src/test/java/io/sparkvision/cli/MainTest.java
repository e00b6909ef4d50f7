package io.sparkvision.cli;

import io.sparkvision.SparkActivity;
import io.sparkvision.TestSpark;
import io.sparkvision.retrain.RegistryLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line rejects bad jobs with exit code 2 and a message naming the key, before Spark starts. */
class MainTest extends CapturedOutput {
    @Test
    void badValueFailsBeforeSparkWithTheKey() {
        try (SparkActivity.ContextCount contexts = SparkActivity.countContexts()) {
            int rc = Main.execute("train", "--set", "train.epochs=0", "--set", "data.root=/nonexistent");
            assertEquals(2, rc);
            assertTrue(err.toString().contains("train.epochs = 0"), err.toString());
            assertEquals(0, contexts.started(), "no Spark context was started (not even one stopped again)");
        }
    }

    @Test
    void theContextCountSeesAContextThatWasStartedAndStoppedAgain() {
        // The check above would pass vacuously if the count missed contexts: one started and stopped counts.
        try (SparkActivity.ContextCount contexts = SparkActivity.countContexts()) {
            TestSpark.local(1).stop();
            assertEquals(1, contexts.started());
            assertTrue(org.apache.spark.SparkContext$.MODULE$.getActive().isEmpty(), "what the old check read: no proof");
        }
    }

    @Test
    void missingRequiredKeyIsNamed() {
        try (SparkActivity.ContextCount contexts = SparkActivity.countContexts()) {
            int rc = Main.execute("evaluate", "--set", "data.root=/x");
            assertEquals(2, rc);
            assertTrue(err.toString().contains("model.path is not set"), err.toString());
            assertEquals(0, contexts.started(), "no Spark context was started");
        }
    }

    @Test
    void retrainTakesItsJobFileByConfigAndNamesABadDate() {
        try (SparkActivity.ContextCount contexts = SparkActivity.countContexts()) {
            int rc = Main.execute("retrain", "--config", "jobs/nightly-retrain.conf", "--date", "2026-13-01");
            assertEquals(2, rc);
            assertTrue(err.toString().contains("retrain.date = 2026-13-01: expected YYYY-MM-DD"), err.toString());
            assertTrue(err.toString().contains("jobs/nightly-retrain.conf"), err.toString());
            assertEquals(0, contexts.started(), "no Spark context was started (not even one stopped again)");
        }
    }

    @Test
    void aRetrainFindingTheRegistryLockedExitsWith75AndNamesTheHolder(@TempDir Path dir) throws IOException {
        // Another run (on another host, heartbeat a minute ago) holds the lock: EX_TEMPFAIL, which a scheduler can
        // tell from a broken job (2) and retry later.
        Path registry = Files.createDirectories(dir.resolve("registry"));
        Files.createDirectories(dir.resolve("landing"));
        String now = Instant.now().minusSeconds(60).toString();
        Files.writeString(registry.resolve(RegistryLock.FILE_NAME), "{\"token\": \"other\", \"host\": \"other-host.example\", "
                + "\"pid\": 4242, \"purpose\": \"retrain 2026-11-01\", \"startedAt\": \"" + now + "\", \"heartbeatAt\": \"" + now + "\"}");
        int rc = Main.execute("retrain", "--config", "jobs/nightly-retrain.conf", "--date", "2026-11-01",
                "--set", "retrain.registry=" + registry, "--set", "retrain.source=" + dir.resolve("landing"),
                "--set", "retrain.holdout=" + dir.resolve("holdout"), "--set", "spark.master=local[1]");
        String e = err.toString();
        assertEquals(75, rc, e);
        assertTrue(e.contains("error: another retrain run holds the registry lock") && e.contains("other-host.example")
                && e.contains("4242") && e.contains("retrain 2026-11-01"), e);
        assertTrue(Files.readString(registry.resolve(RegistryLock.FILE_NAME)).contains("\"pid\": 4242"), "the holder keeps its lock");
    }

    @Test
    void helpListsEveryJobKey() {
        int rc = Main.execute("train", "--help");
        assertEquals(0, rc);
        String help = out.toString();
        assertTrue(help.contains("train.averaging-frequency"), help);
        assertTrue(help.contains("train.updater = adam") && help.contains("nesterovs"), help);
    }

    @Test
    void modelsListsTheArchitectures() {
        assertEquals(0, Main.execute("models"));
        assertTrue(out.toString().contains("61,706"), out.toString());
    }
}
