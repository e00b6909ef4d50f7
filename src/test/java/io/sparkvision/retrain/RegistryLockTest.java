package io.sparkvision.retrain;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry lock on the local file system: exclusive, explains itself, and recovers from dead holders. */
class RegistryLockTest {
    static final Configuration CONF = new Configuration();
    static final Duration STALE = Duration.ofMinutes(15);
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @TempDir
    java.nio.file.Path dir;

    Path registry() {
        return HadoopFs.path(dir.toString());
    }

    void writeLock(String host, long pid, Instant heartbeat) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("token", "someone-else");
        m.put("host", host);
        m.put("pid", pid);
        m.put("purpose", "retrain 2026-11-01");
        m.put("startedAt", heartbeat.toString());
        m.put("heartbeatAt", heartbeat.toString());
        Files.writeString(dir.resolve(RegistryLock.FILE_NAME), Json.pretty(m));
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

    @Test
    void ofRunsStartingTogetherExactlyOneProceeds() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 10; round++) {
                CyclicBarrier start = new CyclicBarrier(4);
                List<Future<RegistryLock>> tries = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    Callable<RegistryLock> c = () -> {
                        start.await();
                        try {
                            return RegistryLock.acquire(registry(), CONF, STALE, "t", QUIET);
                        } catch (RegistryLock.Busy e) {
                            return null;
                        }
                    };
                    tries.add(pool.submit(c));
                }
                List<RegistryLock> won = new ArrayList<>();
                for (Future<RegistryLock> f : tries) if (f.get() != null) won.add(f.get());
                assertEquals(1, won.size(), "round " + round);
                won.get(0).close();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
