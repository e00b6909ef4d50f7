package io.sparkvision.ingest;

import io.sparkvision.TestSpark;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same source tree ingested from and to file://, hdfs:// (MiniDFSCluster) and s3a:// (s3proxy) must give the same
 * dataset: the three results are compared with each other (class index, counts, mean/std, manifest rows,
 * every written image byte for byte, the per-source records and the skip reasons), not with numbers written into
 * the test. And the S3 secret appears nowhere a run writes or logs: the job's own log, everything log4j (Spark,
 * Hadoop, DL4J) emits at INFO, stdout/stderr, and every file under each output root.
 */
class CrossStoreIngestTest {
    static final IngestSettings SETTINGS = IngestSettings.defaults(32, 3);

    /** What one store's ingest produced, with the store's own root taken out of every path. */
    record Outcome(DatasetDescriptor descriptor, IngestReport report, Map<String, String> fileHashes, List<String> sources,
                   List<String> skips, List<String> manifestRows) {
    }

    @TempDir
    static File work;
    static final Map<String, Outcome> results = new LinkedHashMap<>();
    static final Map<String, String> everything = new LinkedHashMap<>();

    /** One ingest per store, everything logged or written captured. */
    @BeforeAll
    static void ingestOnEveryStore() throws Exception {
        StringWriter logged = new StringWriter();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        WriterAppender capture = WriterAppender.newBuilder().setName("cross-store-capture").setTarget(logged)
                .setLayout(PatternLayout.newBuilder().withPattern("%p %c: %m%n%ex").build()).build();
        capture.start();
        ctx.getConfiguration().getRootLogger().addAppender(capture, Level.ALL, null);
        Level rootLevel = ctx.getConfiguration().getRootLogger().getLevel();
        // Everything at INFO, so what Spark and Hadoop (S3A included) say about the run is in the capture too.
        Map<String, Level> levels = Map.of("org.apache.spark", Level.INFO, "org.apache.hadoop", Level.INFO, "org.apache.hadoop.fs.s3a", Level.DEBUG);
        Configurator.setRootLevel(Level.INFO);
        Configurator.setLevel(levels);
        PrintStream stdout = System.out, stderr = System.err;
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PrintStream tee = new PrintStream(console, true);
        System.setOut(tee);
        System.setErr(tee);
        ByteArrayOutputStream jobLog = new ByteArrayOutputStream();
        List<Stores.Store> stores = new ArrayList<>();
        StringBuilder writtenEverywhere = new StringBuilder();
        try (JavaSparkContext sc = TestSpark.local(2)) {
            for (String scheme : List.of("file", "hdfs", "s3a")) {
                File dir = new File(work, scheme);
                Files.createDirectories(dir.toPath());
                Stores.Store s = switch (scheme) {
                    case "hdfs" -> Stores.hdfs(dir);
                    case "s3a" -> Stores.s3(dir);
                    default -> Stores.local(dir);
                };
                stores.add(s);
                s.configure(sc.hadoopConfiguration());
                putSources(s);
                String out = s.root() + "/out";
                ImageIngest.Result r = ImageIngest.run(sc, "image-folder", s.root() + "/src", out, SETTINGS, "", 2,
                        new PrintStream(jobLog, true));
                results.put(scheme, outcome(r, s.root(), out, sc.hadoopConfiguration(), writtenEverywhere));
            }
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
            ctx.getConfiguration().getRootLogger().removeAppender(capture.getName());
            capture.stop();
            Configurator.setRootLevel(rootLevel);
            for (String logger : levels.keySet()) Configurator.setLevel(logger, (Level) null);
            for (Stores.Store s : stores) s.close();
        }

        everything.put("the job's log", jobLog.toString(StandardCharsets.UTF_8));
        everything.put("log4j output (Spark, Hadoop, S3A at DEBUG)", logged.toString());
        everything.put("stdout/stderr", console.toString(StandardCharsets.UTF_8));
        everything.put("the files the runs wrote", writtenEverywhere.toString());
    }

    @Test
    void fileHdfsAndS3GiveTheSameDataset() {
        Outcome local = results.get("file");
        assertTrue(local.descriptor().count("train") > 0 && local.report().skipped() > 0, "the sources hold both good and bad items");
        for (String scheme : List.of("hdfs", "s3a")) {
            Outcome other = results.get(scheme);
            String vs = scheme + " vs file";
            DatasetDescriptor a = local.descriptor(), b = other.descriptor();
            assertEquals(a.classes(), b.classes(), vs + ": class index");
            assertEquals(a.splits(), b.splits(), vs + ": split counts");
            assertEquals(a.classCounts(), b.classCounts(), vs + ": class counts");
            assertEquals(List.of(a.channels(), a.height(), a.width()), List.of(b.channels(), b.height(), b.width()), vs);
            assertArrayEquals(a.mean(), b.mean(), 1e-12, vs + ": mean");
            assertArrayEquals(a.std(), b.std(), 1e-12, vs + ": std");
            assertEquals(local.manifestRows(), other.manifestRows(), vs + ": shard rows (path, label, split)");
            assertEquals(local.fileHashes(), other.fileHashes(), vs + ": every stored image, byte for byte");
            assertEquals(local.sources(), other.sources(), vs + ": ingest-state rows");
            assertEquals(List.of(local.report().listed(), local.report().read(), local.report().ingested(), local.report().skipped()),
                    List.of(other.report().listed(), other.report().read(), other.report().ingested(), other.report().skipped()), vs + ": report counts");
            assertEquals(local.skips(), other.skips(), vs + ": skipped items and reasons");
        }
    }

    @Test
    void theSecretIsInNothingARunLogsOrWrites() {
        assertTrue(everything.get("log4j output (Spark, Hadoop, S3A at DEBUG)").contains("s3a") && everything.get("the files the runs wrote").contains("s3a://"),
                "the capture really holds the S3 run's logs and files");
        for (Map.Entry<String, String> e : everything.entrySet()) {
            assertFalse(e.getValue().contains(Stores.S3_SECRET), "the S3 secret appears in " + e.getKey());
        }
    }

    /**
     * Found by this test and fixed: ingest used each source's full URI where a path relative to the source root does
     * (ImageIngest.describe hashed URI + sha256; IngestTask.outputName appended a hash of the URI to every written
     * name), so the same images gave a different dataset on every store. Hashing the full URI again fails this.
     */
    @Test
    void fileHdfsAndS3GiveTheSameContentHashAndManifest() {
        for (String scheme : List.of("hdfs", "s3a")) {
            DatasetDescriptor a = results.get("file").descriptor(), b = results.get(scheme).descriptor();
            assertEquals(a.contentHash(), b.contentHash(), scheme + " vs file: content hash");
            assertEquals(a.storage().shardRows(), b.storage().shardRows(), scheme + " vs file: rows per shard");
        }
    }

    /** The same tree on every store: real images, a JPEG, a zero-byte file, a non-image, an archive with a ../ entry. */
    static void putSources(Stores.Store s) throws Exception {
        ImageIngestTest.putFixture(s, "src/");
        byte[] lemon = Files.readAllBytes(TestSpark.basedir().resolve("src/test/resources/emoji-tiny/train/fruit/lemon.png"));
        s.put("src/train/fruit/photo.jpg", Hostile.encode(Hostile.halves(120, 80, BufferedImage.TYPE_3BYTE_BGR), "jpeg"));
        s.put("src/train/animal/empty.jpg", new byte[0]);
        s.put("src/train/vehicle/notes.txt", "not an image".getBytes(StandardCharsets.UTF_8));
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("fruit/lemon-copy.png", lemon);
        entries.put("animal/lemon-as-animal.png", lemon);
        entries.put("../../escape.png", lemon);
        s.put("src/extra/more.tar.gz", archive(entries));
    }

    private static byte[] archiveBytes;

    /** Built once: gzip stamps the time into its header, and every store must get the very same bytes. */
    static synchronized byte[] archive(Map<String, byte[]> entries) throws Exception {
        if (archiveBytes == null) archiveBytes = ImageIngestTest.tarGz(entries);
        return archiveBytes;
    }

    static Outcome outcome(ImageIngest.Result r, String root, String out, Configuration conf, StringBuilder allText) throws Exception {
        Path outPath = HadoopFs.path(out);
        FileSystem fs = HadoopFs.fs(outPath, conf);
        RemoteIterator<LocatedFileStatus> files = fs.listFiles(outPath, true);
        while (files.hasNext()) {
            Path p = files.next().getPath();
            allText.append(p).append('\n').append(new String(HadoopFs.readAll(p, conf), StandardCharsets.ISO_8859_1)).append('\n');
        }
        // The shards' rows (run ids are each store's own clock): name, class, split and the stored pixels' hash.
        SparkSession spark = SparkSession.builder().getOrCreate();
        Map<String, String> hashes = new TreeMap<>();
        List<String> rows = new ArrayList<>();
        for (Row row : spark.read().parquet(out + "/" + DatasetStorage.IMAGES).select("path", "label", "split", "image").collectAsList()) {
            assertNull(hashes.put(row.getString(0), Hashing.sha256((byte[]) row.get(3))), "two images named " + row.getString(0));
            rows.add(ManifestCsv.line(row.getString(0), row.getString(1), row.getString(2)));
        }
        rows.sort(null);
        List<String> sources = new ArrayList<>();
        for (Row row : spark.read().parquet(out + "/" + DatasetStorage.STATE).drop("mtime", "run").collectAsList()) {
            List<String> fields = new ArrayList<>();
            for (int i = 0; i < row.length(); i++) {
                Object v = row.get(i);
                String text = v instanceof scala.collection.Seq<?> ? row.getList(i).toString() : String.valueOf(v);
                fields.add(row.schema().fieldNames()[i] + "=" + text.replace(root, "<root>"));
            }
            sources.add(String.join(", ", fields));
        }
        sources.sort(null);
        List<String> skips = new ArrayList<>();
        for (IngestReport.Skip k : r.report().skippedItems()) skips.add(k.path().replace(root, "<root>") + " : " + k.reason().replace(root, "<root>"));
        skips.sort(null);
        assertFalse(hashes.isEmpty() || sources.isEmpty(), out + " holds the dataset: " + hashes.keySet());
        return new Outcome(r.descriptor(), r.report(), hashes, sources, skips, rows);
    }
}
