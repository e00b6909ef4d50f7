package io.sparkvision.train.ui;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.io.HadoopFs;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.core.storage.StatsStorage;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.core.storage.impl.RemoteUIStatsStorageRouter;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.ui.model.stats.StatsListener;
import org.deeplearning4j.ui.model.storage.sqlite.J7FileStatsStorage;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Instant;

/**
 * The train job's live view (ui.enabled): DL4J's {@link StatsListener} on every worker, its reports routed to the
 * driver, stored in the run directory's stats file and shown by DL4J's Training UI served from the driver.
 *
 * <p>The routes differ by master because DL4J's masters differ. Parameter averaging collects each worker's reports
 * with its results and hands them to the driver's router after every averaging round: that router is the stats file
 * itself. Gradient sharing ships the router to the executors and calls it there (its results carry no reports), so
 * the executors get a {@link RemoteUIStatsStorageRouter} (built there, see {@link ExecutorStatsRouter}) that posts to
 * this server's remote receiver, which writes into the same file.
 *
 * <p>The file is DL4J's SQLite stats storage ({@link J7FileStatsStorage}), not its MapDB one: MapDB locks its file,
 * SQLite lets {@code sparkvision ui RUN_DIR} read a run that is still writing.
 */
public final class TrainingUi implements AutoCloseable {
    /** The stats file in the run directory. */
    public static final String STATS_FILE = "training-stats.db";

    private final J7FileStatsStorage storage;
    private final UiServer server;
    private final StatsListener listener;
    private final String receiver;
    private final File localFile;
    private final Path copyTo;
    private final Configuration hadoop;

    private TrainingUi(J7FileStatsStorage storage, UiServer server, StatsListener listener, String receiver,
                       File localFile, Path copyTo, Configuration hadoop) {
        this.storage = storage;
        this.server = server;
        this.listener = listener;
        this.receiver = receiver;
        this.localFile = localFile;
        this.copyTo = copyTo;
        this.hadoop = hadoop;
    }

    /**
     * Opens the run's stats file and starts the UI when ui.enabled, else returns null.
     *
     * @param driverHost the address executors reach the driver at (spark.driver.host)
     * @param clusterExecutors whether executors may run on other hosts (a cluster manager, not local[*]/local-cluster)
     */
    public static TrainingUi startIfEnabled(JobConfig cfg, String runDir, Configuration hadoop, String driverHost,
                                            boolean clusterExecutors, PrintStream out) throws IOException {
        if (!cfg.get(Options.UI_ENABLED)) return null;
        Path target = new Path(HadoopFs.path(runDir), STATS_FILE);
        FileSystem fs = HadoopFs.fs(target, hadoop);
        File localFile;
        Path copyTo;
        if ("file".equals(fs.getUri().getScheme())) {
            // Written in place, so that `sparkvision ui RUN_DIR` shows the run while it trains.
            localFile = new File(fs.makeQualified(target).toUri());
            Files.createDirectories(localFile.getParentFile().toPath());
            copyTo = null;
        } else {
            // SQLite needs a local file: written here, copied into the run directory when the job ends.
            localFile = Files.createTempFile("sparkvision-training-stats", ".db").toFile();
            copyTo = target;
        }
        J7FileStatsStorage storage = new J7FileStatsStorage(localFile);
        String host = cfg.get(Options.UI_HOST);
        UiServer server;
        try {
            server = UiServer.start(host, cfg.get(Options.UI_PORT));
        } catch (RuntimeException e) {
            storage.close();
            throw e;
        }
        server.attach(storage);
        server.enableRemoteListener(storage, false); // gradient sharing's executors post here
        boolean anyInterface = host.equals("0.0.0.0") || host.equals("::");
        String receiver = "http://" + (anyInterface && driverHost != null ? driverHost : host) + ":" + server.getPort();
        // One listener for the whole run: its session ID makes every epoch (and every averaging round's fresh
        // worker copies) one session in the UI.
        StatsListener listener = new StatsListener(null, cfg.get(Options.UI_STATS_EVERY),
                "sparkvision-" + Instant.now().toString().replace(':', '-'));
        String shown = "http://" + (anyInterface ? "localhost" : host) + ":" + server.getPort() + "/train/overview";
        out.println("training UI: " + shown + " (DL4J Training UI, live while the job runs; statistics in "
                + (copyTo == null ? localFile.getPath() : localFile.getPath() + ", copied to " + copyTo + " at the end")
                + "; after the job: scripts/sparkvision ui " + runDir + ")");
        if (clusterExecutors && !anyInterface && (host.startsWith("127.") || host.equals("localhost"))) {
            out.println("training UI: it listens on " + host + " only: a browser on another machine cannot reach it, and "
                    + "with train.master = gradient-sharing nor can executors on other hosts (their statistics are then "
                    + "lost); set ui.host to an address of this machine (or 0.0.0.0) if you need either");
        }
        return new TrainingUi(storage, server, listener, receiver, localFile, copyTo, hadoop);
    }

    /** The listener the workers train with (the same instance every epoch). */
    public TrainingListener listener() {
        return listener;
    }

    /**
     * Where the workers' reports go: the stats file for parameter averaging (DL4J brings the reports to the driver),
     * the driver's receiver over HTTP for gradient sharing (DL4J calls the router on the executors).
     */
    public StatsStorageRouter router(boolean onExecutors) {
        return onExecutors ? new ExecutorStatsRouter(receiver) : storage;
    }

    /** The stats storage the UI shows (for tests and the CLI). */
    public StatsStorage storage() {
        return storage;
    }

    public int port() {
        return server.getPort();
    }

    /** How long no report may arrive before the receiver counts as drained, and the longest wait for that. */
    private static final long QUIET_MS = 3_000, MOST_MS = 30_000;

    /**
     * Gradient sharing's executors post their reports over HTTP from a background queue, so some may still be on
     * their way when the last fit returns: stopping the server then loses them. Waits until no report has arrived
     * for {@link #QUIET_MS} (parameter averaging's reports are already written, so that is the whole cost).
     */
    private void awaitQuietStorage() {
        long deadline = System.currentTimeMillis() + MOST_MS, lastCount = -1, quietSince = System.currentTimeMillis();
        while (System.currentTimeMillis() < deadline) {
            long count = 0;
            for (String session : storage.listSessionIDs()) count += storage.getNumUpdateRecordsFor(session);
            if (count != lastCount) {
                lastCount = count;
                quietSince = System.currentTimeMillis();
            } else if (System.currentTimeMillis() - quietSince >= QUIET_MS) {
                return;
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Stops the server, closes the stats file and, for a remote run directory, copies it there. */
    @Override
    public void close() throws IOException {
        try {
            awaitQuietStorage();
            server.shutdown();
        } finally {
            storage.close();
            if (copyTo != null) {
                HadoopFs.fs(copyTo, hadoop).copyFromLocalFile(true, true, new Path(localFile.toURI()), copyTo);
            }
        }
    }
}
