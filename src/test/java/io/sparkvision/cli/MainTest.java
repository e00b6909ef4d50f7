package io.sparkvision.cli;

import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line rejects bad jobs with exit code 2 and a message naming the key, before Spark starts. */
class MainTest extends CapturedOutput {
    @Test
    void badValueFailsBeforeSparkWithTheKey() {
        int rc = Main.execute("train", "--set", "train.epochs=0", "--set", "data.root=/nonexistent");
        assertEquals(2, rc);
        assertTrue(err.toString().contains("train.epochs = 0"), err.toString());
        assertTrue(org.apache.spark.SparkContext$.MODULE$.getActive().isEmpty(), "no Spark context was started");
    }

    @Test
    void missingRequiredKeyIsNamed() {
        int rc = Main.execute("evaluate", "--set", "data.root=/x");
        assertEquals(2, rc);
        assertTrue(err.toString().contains("model.path is not set"), err.toString());
    }

    @Test
    void retrainTakesItsJobFileByConfigAndNamesABadDate() {
        int rc = Main.execute("retrain", "--config", "jobs/nightly-retrain.conf", "--date", "2026-13-01");
        assertEquals(2, rc);
        assertTrue(err.toString().contains("retrain.date = 2026-13-01: expected YYYY-MM-DD"), err.toString());
        assertTrue(err.toString().contains("jobs/nightly-retrain.conf"), err.toString());
        assertTrue(org.apache.spark.SparkContext$.MODULE$.getActive().isEmpty(), "no Spark context was started");
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
