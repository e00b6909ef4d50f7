package io.sparkvision.train.ui;

import io.sparkvision.io.HadoopFs;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.ui.model.storage.sqlite.J7FileStatsStorage;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;

/**
 * {@code sparkvision ui RUN_DIR}: DL4J's Training UI over a run's stats file, for a finished run or one still
 * training (SQLite lets this process read while the job writes; reload the page to see newer iterations).
 */
public final class RunViewer implements AutoCloseable {
    private final J7FileStatsStorage storage;
    private final UiServer server;
    private final File tempCopy;

    private RunViewer(J7FileStatsStorage storage, UiServer server, File tempCopy) {
        this.storage = storage;
        this.server = server;
        this.tempCopy = tempCopy;
    }

    /** Opens RUN_DIR's stats file (a remote one is copied here first) and serves it on host:port (0 = free). */
    public static RunViewer open(String runDir, Configuration hadoop, String host, int port) throws IOException {
        Path stats = new Path(HadoopFs.path(runDir), TrainingUi.STATS_FILE);
        FileSystem fs = HadoopFs.fs(stats, hadoop);
        if (!fs.exists(stats)) {
            throw new IllegalArgumentException(stats + " does not exist: train the run with ui.enabled = true "
                    + "(--set ui.enabled=true) to record its statistics");
        }
        File local;
        File tempCopy = null;
        if ("file".equals(fs.getUri().getScheme())) {
            local = new File(fs.makeQualified(stats).toUri());
        } else {
            tempCopy = Files.createTempFile("sparkvision-training-stats", ".db").toFile();
            fs.copyToLocalFile(false, stats, new Path(tempCopy.toURI()), true);
            local = tempCopy;
        }
        J7FileStatsStorage storage = new J7FileStatsStorage(local);
        try {
            UiServer server = UiServer.start(host, port);
            server.attach(storage);
            return new RunViewer(storage, server, tempCopy);
        } catch (RuntimeException e) {
            storage.close();
            throw e;
        }
    }

    public int port() {
        return server.getPort();
    }

    /** Training sessions in the file (one per train run into this directory, a resumed run adds one). */
    public int sessions() {
        return storage.listSessionIDs().size();
    }

    @Override
    public void close() throws IOException {
        try {
            server.shutdown();
        } finally {
            storage.close();
            if (tempCopy != null) Files.deleteIfExists(tempCopy.toPath());
        }
    }
}
