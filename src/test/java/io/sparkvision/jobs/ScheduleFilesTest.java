package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scheduling units in scripts/schedule/ run the nightly job file that ships, and that file is a valid job. */
class ScheduleFilesTest {
    static final Path ROOT = TestSpark.basedir();

    @Test
    void nightlyJobFileIsValid() {
        RetrainJob.validate(JobConfig.load(ROOT.resolve("jobs/nightly-retrain.conf").toFile(), List.of()));
    }

    @Test
    void crontabLineIsFiveTimeFieldsAndTheRetrainCommand() throws Exception {
        List<String> lines = Files.readAllLines(ROOT.resolve("scripts/schedule/crontab")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertEquals(1, lines.size(), lines.toString());
        String[] f = lines.get(0).split("\\s+", 6);
        for (int i = 0; i < 5; i++) assertTrue(f[i].matches("[0-9*/,-]+"), "time field " + i + ": " + f[i]);
        assertTrue(f[5].contains("scripts/sparkvision retrain --config jobs/nightly-retrain.conf"), f[5]);
    }

    @Test
    void systemdServiceAndTimerNameEachOtherAndTheJob() throws Exception {
        String service = Files.readString(ROOT.resolve("scripts/schedule/sparkvision-retrain.service"));
        String timer = Files.readString(ROOT.resolve("scripts/schedule/sparkvision-retrain.timer"));
        assertTrue(service.contains("[Service]") && service.contains("Type=oneshot"), service);
        assertTrue(service.contains("ExecStart=/opt/sparkvision/scripts/sparkvision retrain --config /opt/sparkvision/jobs/nightly-retrain.conf"));
        assertTrue(timer.contains("[Timer]") && timer.matches("(?s).*\\nOnCalendar=\\S+.*") && timer.contains("WantedBy=timers.target"));
        // The timer starts the unit its Unit= names, or else the service of its own name (systemd.timer(5)); that
        // service must be the one shipped next to it.
        Path timerFile = ROOT.resolve("scripts/schedule/sparkvision-retrain.timer");
        String started = timer.lines().filter(l -> l.startsWith("Unit=")).map(l -> l.substring(5).trim()).findFirst()
                .orElse(timerFile.getFileName().toString().replaceAll("\\.timer$", ".service"));
        assertTrue(Files.isRegularFile(ROOT.resolve("scripts/schedule").resolve(started)), "the timer starts " + started + ", which is not shipped");
        assertTrue(Files.isExecutable(ROOT.resolve("scripts/sparkvision")));
    }
}
