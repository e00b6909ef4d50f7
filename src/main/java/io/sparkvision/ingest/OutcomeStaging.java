package io.sparkvision.ingest;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * The one decode pass of a Parquet ingest (ShardIngest): a task's prepared images go on, as shard rows, to Spark's
 * Parquet writer, and every item's outcome (~200 bytes) goes, as the task pulls it, to a JSON line in a local
 * temporary file. When the task's items are done that file is written to {@code <staging>/outcomes/part-<partition>.jsonl}
 * in one atomic step ({@link HadoopFs#writeAtomically}); a retried or speculative attempt of the same partition
 * writes the same outcomes to the same name. The driver then turns the staged lines into the ingest-state Parquet.
 * No decoded image is kept anywhere but in the shards.
 */
final class OutcomeStaging {
    /** Under data.root; the leading underscore hides it from Spark and Hadoop readers of the dataset. */
    static final String DIR = "_ingest-staging";
    /** The staged outcomes' folder under {@link #dir}. */
    static final String OUTCOMES = "outcomes";

    private OutcomeStaging() {
    }

    /** What run {@code run} stages: its outcomes (under {@link #OUTCOMES}), and shards being rewritten. */
    static Path dir(Path out, long run) {
        return new Path(out, DIR + "/run=" + run);
    }

    /**
     * The shard rows of {@code stored}'s ok images, staging every item's outcome as a side effect.
     *
     * @param index      the given class index: an image of another class is not written and its outcome becomes a
     *                   skip ("class '<label>" + {@code outside}); null to write every ok image
     * @param decoded    counts the items read and decoded (each once: a second decode pass would show here)
     * @param stagingDir the {@link #OUTCOMES} folder of this run's {@link #dir}
     */
    static Iterator<Row> imageRows(Iterator<IngestTask.Stored> stored, Set<String> index, String outside,
                                   long run, LongAccumulator decoded, String stagingDir, Configuration conf) {
        return new Iterator<>() {
            private final TaskOutcomes outcomes = new TaskOutcomes();
            private Row next;
            private boolean done;

            @Override
            public boolean hasNext() {
                while (next == null && !done) {
                    if (!stored.hasNext()) {
                        outcomes.commit(new Path(stagingDir), conf);
                        done = true;
                        break;
                    }
                    IngestTask.Stored st = stored.next();
                    Outcome o = st.outcome();
                    if (!o.archive() && o.sha256() != null) decoded.add(1);
                    if (index != null && o.ok() && !index.contains(o.label())) o = o.asSkipped("class '" + o.label() + outside);
                    outcomes.add(o);
                    if (o.ok()) next = ShardIngest.imageRow(st, run);
                }
                return next != null;
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                Row r = next;
                next = null;
                return r;
            }
        };
    }

    /** One task's outcomes as JSON lines in a local temporary file (deleted when the task ends, however it ends). */
    private static final class TaskOutcomes {
        private java.nio.file.Path tmp;
        private BufferedWriter lines;

        void add(Outcome o) {
            try {
                if (lines == null) {
                    tmp = Files.createTempFile("sparkvision-outcomes-", ".jsonl");
                    java.nio.file.Path file = tmp;
                    TaskContext tc = TaskContext.get();
                    if (tc != null) tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> deleteQuietly(file));
                    lines = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8);
                }
                lines.write(Json.line(o));
                lines.write('\n');
            } catch (IOException e) {
                throw new UncheckedIOException("cannot stage an ingest outcome in a local temporary file ("
                        + System.getProperty("java.io.tmpdir") + "): " + e.getMessage(), e);
            }
        }

        /** The staged file of this partition; none for a partition without items. */
        void commit(Path stagingDir, Configuration conf) {
            if (lines == null) return;
            TaskContext tc = TaskContext.get();
            Path target = new Path(stagingDir, String.format("part-%05d.jsonl", tc == null ? 0 : tc.partitionId()));
            try {
                lines.close();
                HadoopFs.writeAtomically(target, conf, out -> Files.copy(tmp, out));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the ingest outcomes " + target + ": " + e.getMessage(), e);
            } finally {
                deleteQuietly(tmp);
            }
            lines = null;
        }

        private static void deleteQuietly(java.nio.file.Path p) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temporary file; the OS cleans its temporary folder
            }
        }
    }

    /** The staged outcomes of a run, one per line (Outcome as JSON). */
    static Outcome parse(String line) {
        return Json.read(line, Outcome.class);
    }
}
