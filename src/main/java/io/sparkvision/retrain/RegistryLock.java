package io.sparkvision.retrain;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The registry's {@code lock} file: one retrain at a time, across hosts. It is created only if absent (one atomic
 * step on HDFS and local disks) and names its holder (host, pid, start, heartbeat), which a daemon thread refreshes
 * every minute. A lock is stale, and is taken over, when its heartbeat is older than the configured minutes or when
 * it belongs to a process of this host that no longer exists (a killed run). Taking over renames the stale lock
 * away first, under a short-lived {@code lock.takeover} guard and only if the lock is still the one judged stale,
 * so of several runs recovering the same stale lock exactly one succeeds (RegistryLockTest races separate JVMs).
 *
 * <p>On S3 "create if absent" is a check followed by a write: two runs started within the same second on two hosts
 * could both proceed. Schedule the nightly job on one host (the timer or crontab in scripts/schedule/).
 */
public final class RegistryLock implements AutoCloseable {
    public static final String FILE_NAME = "lock";

    /** Another run holds the lock: the message says who, since when, and what to do. */
    public static final class Busy extends IllegalStateException {
        public Busy(String message) {
            super(message);
        }
    }

    private final Path path;
    private final Configuration conf;
    private final String token;
    private final Map<String, Object> content;
    private final ScheduledExecutorService heartbeat;

    private RegistryLock(Path path, Configuration conf, Map<String, Object> content, Duration heartbeatEvery) {
        this.path = path;
        this.conf = conf;
        this.content = content;
        this.token = (String) content.get("token");
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sparkvision-registry-lock-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long ms = heartbeatEvery.toMillis();
        heartbeat.scheduleAtFixedRate(this::beat, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Takes the lock of {@code registry} or throws {@link Busy}. */
    public static RegistryLock acquire(Path registry, Configuration conf, Duration staleAfter, String purpose, PrintStream log)
            throws IOException {
        Path path = new Path(registry, FILE_NAME);
        Duration every = staleAfter.dividedBy(4).compareTo(Duration.ofMinutes(1)) < 0 ? staleAfter.dividedBy(4) : Duration.ofMinutes(1);
        for (int attempt = 0; attempt < 2; attempt++) {
            Map<String, Object> mine = holder(purpose);
            if (createIfAbsent(path, Json.pretty(mine), conf)) return new RegistryLock(path, conf, mine, every);
            Map<String, Object> theirs = read(path, conf);
            String stale = staleness(theirs, path, conf, staleAfter);
            if (stale == null) throw busy(path, theirs, staleAfter);
            moveStaleLockAside(registry, path, theirs, stale, (String) mine.get("token"), conf, staleAfter, log);
        }
        Map<String, Object> now = read(path, conf);
        throw busy(path, now, staleAfter);
    }

    /**
     * Moves the lock judged stale out of the way, so the caller's next create-if-absent can succeed. A plain rename
     * is not enough: between judging the lock and renaming it, another run may already have moved it away and
     * created its own fresh lock, which a rename would then steal (two holders; seen with four processes racing).
     * So the takeover itself is serialised by a {@code lock.takeover} file (create-if-absent), and under it the lock
     * is read again and moved only if it is still the very lock (same token) and still stale.
     */
    private static void moveStaleLockAside(Path registry, Path path, Map<String, Object> judged, String stale, String myToken,
                                           Configuration conf, Duration staleAfter, PrintStream log) throws IOException {
        if ("vanished".equals(stale)) return; // nothing to move: just try to create again
        FileSystem fs = HadoopFs.fs(path, conf);
        Path guard = new Path(registry, FILE_NAME + ".takeover");
        if (!createIfAbsent(guard, myToken, conf)) {
            // Another run is taking over right now (milliseconds). A guard left by a run killed in those
            // milliseconds is removed once it is a minute old, so recovery is delayed, never blocked.
            try {
                if (System.currentTimeMillis() - fs.getFileStatus(guard).getModificationTime() > 60_000) fs.delete(guard, false);
            } catch (java.io.FileNotFoundException gone) {
                // released meanwhile
            }
            return;
        }
        try {
            Map<String, Object> now = read(path, conf);
            boolean same = judged == null ? now == null : now != null && judged.get("token") != null
                    && judged.get("token").equals(now.get("token"));
            if (!same || staleness(now, path, conf, staleAfter) == null) return; // replaced by a live holder meanwhile
            Path aside = new Path(registry, FILE_NAME + ".stale-" + myToken);
            if (fs.rename(path, aside)) {
                log.printf("retrain: took over a stale lock (%s): %s; kept as %s%n", stale, describe(judged), aside.getName());
            }
        } finally {
            fs.delete(guard, false);
        }
    }

    /** The lock as a holder wrote it, or null when it vanished or is not (yet) readable JSON. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> read(Path path, Configuration conf) {
        try {
            return Json.read(HadoopFs.readString(path, conf), Map.class);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Why the lock is stale, or null when its holder looks alive. */
    static String staleness(Map<String, Object> lock, Path path, Configuration conf, Duration staleAfter) throws IOException {
        FileSystem fs = HadoopFs.fs(path, conf);
        if (lock == null) {
            // Being written right now, or garbage: judge by the file's age alone.
            long age;
            try {
                age = System.currentTimeMillis() - fs.getFileStatus(path).getModificationTime();
            } catch (java.io.FileNotFoundException e) {
                return "vanished"; // moved away by a run taking it over, or released
            }
            return age > staleAfter.toMillis() ? "unreadable and " + age / 1000 + " s old" : null;
        }
        Instant beat = Instant.parse(String.valueOf(lock.getOrDefault("heartbeatAt", lock.get("startedAt"))));
        Duration age = Duration.between(beat, Instant.now());
        if (age.compareTo(staleAfter) > 0) {
            return "no heartbeat for " + age.toMinutes() + " min, more than retrain.lock-stale-minutes = " + staleAfter.toMinutes();
        }
        if (hostName().equals(lock.get("host")) && lock.get("pid") instanceof Number pid
                && ProcessHandle.of(pid.longValue()).isEmpty()) {
            return "its process " + pid + " on this host is gone";
        }
        return null;
    }

    private static Busy busy(Path path, Map<String, Object> lock, Duration staleAfter) {
        return new Busy("another retrain run holds the registry lock " + path + ": " + describe(lock) + ". Wait for it to "
                + "finish. If that run is dead, its lock is taken over automatically once its heartbeat is more than "
                + staleAfter.toMinutes() + " min old (retrain.lock-stale-minutes; at once if it ran on this host), "
                + "or delete " + path + " after making sure it is not running");
    }

    private static String describe(Map<String, Object> lock) {
        if (lock == null) return "a lock being written right now";
        return "pid " + lock.get("pid") + " on " + lock.get("host") + " (" + lock.get("purpose") + "), started "
                + lock.get("startedAt") + ", last heartbeat " + lock.get("heartbeatAt");
    }

    private static Map<String, Object> holder(String purpose) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("token", UUID.randomUUID().toString());
        m.put("host", hostName());
        m.put("pid", ProcessHandle.current().pid());
        m.put("purpose", purpose);
        String now = Instant.now().toString();
        m.put("startedAt", now);
        m.put("heartbeatAt", now);
        return m;
    }

    static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    /** Creates {@code path} holding {@code text} only if nothing is there; false if something is. */
    static boolean createIfAbsent(Path path, String text, Configuration conf) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if ("file".equals(path.toUri().getScheme())) {
            java.nio.file.Path local = java.nio.file.Paths.get(path.toUri());
            java.nio.file.Files.createDirectories(local.getParent());
            try {
                // CREATE_NEW is one atomic check-and-create in the kernel.
                java.nio.file.Files.write(local, bytes, java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE);
                return true;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                return false;
            }
        }
        FileSystem fs = HadoopFs.fs(path, conf);
        try (OutputStream out = fs.create(path, false)) {
            out.write(bytes);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (org.apache.hadoop.ipc.RemoteException e) {
            if (e.unwrapRemoteException(FileAlreadyExistsException.class) instanceof FileAlreadyExistsException) return false;
            throw e;
        }
    }

    private void beat() {
        try {
            Map<String, Object> now = read(path, conf);
            if (now == null || !token.equals(now.get("token"))) return; // taken over: never overwrite another holder's lock
            content.put("heartbeatAt", Instant.now().toString());
            HadoopFs.writeStringAtomically(path, Json.pretty(content), conf);
        } catch (IOException | RuntimeException e) {
            // A missed heartbeat only brings staleness closer; the next one retries.
        }
    }

    /** Releases the lock if this run still holds it. */
    @Override
    public void close() throws IOException {
        heartbeat.shutdownNow();
        Map<String, Object> now = read(path, conf);
        if (now != null && token.equals(now.get("token"))) HadoopFs.fs(path, conf).delete(path, false);
    }
}
