package io.sparkvision.retrain;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry lock on the local file system: exclusive across processes, explains itself, and recovers from dead holders. */
class RegistryLockTest {
    static final Configuration CONF = new Configuration();
    static final Duration STALE = Duration.ofMinutes(15);
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());
    /** How long a contender JVM may take to answer (start-up included) on a loaded machine. */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    java.nio.file.Path dir;

    Path registry() {
        return HadoopFs.path(dir.toString());
    }

    void writeLock(String host, long pid, Instant heartbeat) throws Exception {
        writeLock(dir, host, pid, heartbeat);
    }

    static void writeLock(java.nio.file.Path registry, String host, long pid, Instant heartbeat) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("token", "someone-else");
        m.put("host", host);
        m.put("pid", pid);
        m.put("purpose", "retrain 2026-11-01");
        m.put("startedAt", heartbeat.toString());
        m.put("heartbeatAt", heartbeat.toString());
        Files.writeString(registry.resolve(RegistryLock.FILE_NAME), Json.pretty(m));
    }

    @Test
    void secondHolderIsToldWhoHoldsItAndGetsItAfterRelease() throws Exception {
        RegistryLock first = RegistryLock.acquire(registry(), CONF, STALE, "retrain 2026-11-01", QUIET);
        RegistryLock.Busy busy = assertThrows(RegistryLock.Busy.class,
                () -> RegistryLock.acquire(registry(), CONF, STALE, "retrain 2026-11-01", QUIET));
        assertTrue(busy.getMessage().contains("pid " + ProcessHandle.current().pid()), busy.getMessage());
        assertTrue(busy.getMessage().contains("retrain 2026-11-01") && busy.getMessage().contains(dir.toString()), busy.getMessage());
        first.close();
        assertFalse(Files.exists(dir.resolve(RegistryLock.FILE_NAME)));
        RegistryLock.acquire(registry(), CONF, STALE, "retrain 2026-11-02", QUIET).close();
    }

    @Test
    void aLiveHolderOnAnotherHostWithARecentHeartbeatKeepsIt() throws Exception {
        writeLock("other-host.example", 12345, Instant.now().minusSeconds(60));
        assertThrows(RegistryLock.Busy.class, () -> RegistryLock.acquire(registry(), CONF, STALE, "t", QUIET));
    }

    @Test
    void aLockWithoutHeartbeatForLongerThanStaleIsTakenOver() throws Exception {
        writeLock("other-host.example", 12345, Instant.now().minus(Duration.ofMinutes(16)));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (RegistryLock ignored = RegistryLock.acquire(registry(), CONF, STALE, "t", new PrintStream(log, true))) {
            assertTrue(log.toString().contains("took over a stale lock") && log.toString().contains("no heartbeat for 16 min"),
                    log.toString());
            assertEquals(ProcessHandle.current().pid(), ((Number) RegistryLock.read(new Path(registry(), "lock"), CONF).get("pid")).longValue());
        }
    }

    @Test
    void aLockOfAKilledProcessOnThisHostIsTakenOverAtOnce() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        writeLock(RegistryLock.hostName(), p.pid(), Instant.now());
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        RegistryLock.acquire(registry(), CONF, STALE, "t", new PrintStream(log, true)).close();
        assertTrue(log.toString().contains("its process " + p.pid() + " on this host is gone"), log.toString());
    }

    /**
     * Separate JVMs, as two scheduled runs are: several processes try the lock at the same instant, round after round,
     * and exactly one wins each time, including when they all find a dead process's lock to take over.
     */
    @Test
    void ofProcessesStartingTogetherExactlyOneProceeds() throws Exception {
        int contenders = 4, rounds = 8;
        java.nio.file.Path go = Files.createDirectories(dir.resolve("go")), registry = Files.createDirectories(dir.resolve("registry"));
        java.nio.file.Path target = io.sparkvision.TestSpark.basedir().resolve("target");
        String cp = target.resolve("test-classes") + java.io.File.pathSeparator + target.resolve("classes")
                + java.io.File.pathSeparator + Files.readString(Paths.get(System.getProperty("test.classpath.file"))).trim();
        List<Process> procs = new ArrayList<>();
        List<BufferedReader> outs = new ArrayList<>();
        List<PrintWriter> ins = new ArrayList<>();
        try {
            for (int i = 0; i < contenders; i++) {
                Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", cp, LockContender.class.getName(),
                        registry.toString(), go.toString(), Integer.toString(rounds))
                        .redirectError(dir.resolve("contender-" + i + ".err").toFile()).start();
                procs.add(p);
                outs.add(new BufferedReader(new InputStreamReader(p.getInputStream())));
                ins.add(new PrintWriter(p.getOutputStream(), true));
            }
            for (int i = 0; i < contenders; i++) {
                assertEquals("ready", readLine(outs.get(i), i, contenders), "contender " + i + ": " + Files.readString(dir.resolve("contender-" + i + ".err")));
            }
            Process dead = new ProcessBuilder("true").start();
            dead.waitFor();
            for (int round = 0; round < rounds; round++) {
                // Odd rounds: everyone finds the lock of a killed run on this host, which exactly one may take over.
                if (round % 2 == 1) writeLock(registry, RegistryLock.hostName(), dead.pid(), Instant.now());
                Files.createFile(go.resolve("round-" + round));
                List<String> results = new ArrayList<>();
                for (int i = 0; i < contenders; i++) results.add(readLine(outs.get(i), i, contenders));
                String why = "round " + round + ": " + results + contenderErrors(contenders);
                assertEquals(1, results.stream().filter("won"::equals).count(), why);
                assertEquals(contenders - 1, results.stream().filter("busy"::equals).count(), why);
                assertEquals(((Number) RegistryLock.read(new Path(HadoopFs.path(registry.toString()), RegistryLock.FILE_NAME), CONF)
                        .get("pid")).longValue(), procs.get(results.indexOf("won")).pid(), "the lock names the winner");
                for (PrintWriter w : ins) w.println("release");
                for (int i = 0; i < contenders; i++) assertEquals("released", readLine(outs.get(i), i, contenders));
                assertFalse(Files.exists(registry.resolve(RegistryLock.FILE_NAME)), "round " + round + ": released");
            }
            for (Process p : procs) assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        } finally {
            for (Process p : procs) p.destroyForcibly();
        }
    }

    /**
     * A contender's next line, or a failure naming it once {@link #ANSWER_TIMEOUT} passed: a contender that hangs
     * (deadlocked in the lock, stuck starting) fails the test instead of blocking the suite. The reading thread is a
     * daemon; destroying the processes (finally, above) ends it.
     */
    String readLine(BufferedReader r, int contender, int contenders) throws Exception {
        java.util.concurrent.FutureTask<String> line = new java.util.concurrent.FutureTask<>(r::readLine);
        Thread t = new Thread(line, "contender-" + contender + "-stdout");
        t.setDaemon(true);
        t.start();
        try {
            return line.get(ANSWER_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("contender " + contender + " said nothing for " + ANSWER_TIMEOUT.toSeconds() + " s"
                    + contenderErrors(contenders));
        }
    }

    String contenderErrors(int contenders) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < contenders; i++) sb.append("\ncontender ").append(i).append(": ").append(Files.readString(dir.resolve("contender-" + i + ".err")));
        return sb.toString();
    }
}
