package io.sparkvision.ingest;

import io.sparkvision.image.ImagePreparation;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The one way a dataset is written (by the MNIST and image ingests and by the retrain's training window):
 * {@code manifest.csv} first, then {@code dataset.json} with the manifest's hash, last, because its presence marks
 * a complete dataset. What the descriptor says comes from a {@link Description}, named field by field instead of
 * the descriptor's 20 positional arguments; format version, manifest name and hash and the time are filled in here.
 */
public final class DatasetWriter {
    public static final String MANIFEST_HEADER = ManifestCsv.HEADER;

    private DatasetWriter() {
    }

    /** What a writer knows about its dataset; set what applies, then hand it to {@link #write}. */
    public static final class Description {
        private final String name;
        private final String ingestFormat;
        private List<String> classes;
        private int channels, height, width;
        private Map<String, Long> splits;
        private Map<String, Map<String, Long>> classCounts;
        private double[] mean, std;
        private String source, contentHash;
        private String sources, ingestReport;
        private Map<String, Double> splitFractions;
        private ImagePreparation preparation;
        private DatasetStorage storage;

        /** @param ingestFormat who wrote it: mnist-idx, image-folder, manifest or retrain-window */
        public Description(String name, String ingestFormat) {
            this.name = name;
            this.ingestFormat = ingestFormat;
        }

        public Description classes(List<String> classes) {
            this.classes = classes;
            return this;
        }

        public Description geometry(int channels, int height, int width) {
            this.channels = channels;
            this.height = height;
            this.width = width;
            return this;
        }

        /** Images per split, and per split and class (classes in label order). */
        public Description counts(Map<String, Long> splits, Map<String, Map<String, Long>> classCounts) {
            this.splits = splits;
            this.classCounts = classCounts;
            return this;
        }

        /** Per-channel statistics every job normalises inputs with. */
        public Description normalisation(double[] mean, double[] std) {
            this.mean = mean;
            this.std = std;
            return this;
        }

        public Description source(String source, String contentHash) {
            this.source = source;
            this.contentHash = contentHash;
            return this;
        }

        /** Image ingest only: its sources.jsonl and ingest-report.json, next to the descriptor. */
        public Description ingestFiles(String sources, String ingestReport) {
            this.sources = sources;
            this.ingestReport = ingestReport;
            return this;
        }

        /** ingest.split-fractions when they decided splits; null or empty = not recorded. */
        public Description splitFractions(Map<String, Double> fractions) {
            this.splitFractions = fractions == null || fractions.isEmpty() ? null : fractions;
            return this;
        }

        public Description preparation(ImagePreparation preparation) {
            this.preparation = preparation;
            return this;
        }

        /** Parquet shards (written by the caller before the descriptor); no manifest then. */
        public Description storage(DatasetStorage storage) {
            this.storage = storage;
            return this;
        }

        DatasetDescriptor build(String manifestHash, String ingestedAt) {
            return new DatasetDescriptor(1, name, classes, channels, height, width, splits, classCounts, mean, std, source,
                    contentHash, storage == null ? DatasetDescriptor.MANIFEST : null, manifestHash, ingestedAt, ingestFormat,
                    sources, ingestReport, splitFractions, preparation, storage);
        }
    }

    /**
     * Writes {@code root}/manifest.csv (header, then {@code rows} in the order given: callers sort them so the same
     * input gives byte-identical output) and then {@code root}/dataset.json. Returns the descriptor written.
     */
    /**
     * A sharded dataset's {@code root}/dataset.json, written after its shards and ingest state, which it names
     * ({@link Description#storage}); there is no manifest: the shards list their images themselves, and
     * {@code rowsHash} (recorded as manifestHash) identifies those rows as a manifest's hash would.
     */
    public static DatasetDescriptor writeSharded(Path root, Description description, String rowsHash, Configuration conf)
            throws IOException {
        if (description.storage == null) throw new IllegalStateException("writeSharded needs the dataset's storage");
        DatasetDescriptor d = description.build(rowsHash, Instant.now().toString());
        HadoopFs.writeStringAtomically(new Path(root, DatasetDescriptor.FILE_NAME), Json.pretty(d), conf);
        return d;
    }

    public static DatasetDescriptor write(Path root, List<String> rows, Description description, Configuration conf)
            throws IOException {
        StringBuilder manifest = new StringBuilder(MANIFEST_HEADER).append('\n');
        for (String row : rows) manifest.append(row).append('\n');
        byte[] manifestBytes = manifest.toString().getBytes(StandardCharsets.UTF_8);
        HadoopFs.writeAtomically(new Path(root, DatasetDescriptor.MANIFEST), conf, o -> o.write(manifestBytes));
        DatasetDescriptor d = description.build(Hashing.sha256(manifestBytes), Instant.now().toString());
        // The descriptor goes last: its presence marks a complete dataset.
        HadoopFs.writeStringAtomically(new Path(root, DatasetDescriptor.FILE_NAME), Json.pretty(d), conf);
        return d;
    }
}
