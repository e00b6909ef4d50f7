package io.sparkvision.data;

import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.Map;

/** Opens an ingested dataset by its root URI. */
public final class Datasets {
    private Datasets() {
    }

    public static DatasetDescriptor readDescriptor(String root, Configuration conf) {
        Path p = HadoopFs.child(HadoopFs.path(root), DatasetDescriptor.FILE_NAME);
        if (!HadoopFs.exists(p, conf)) {
            throw new IllegalArgumentException("no dataset at " + root + ": " + p + " is missing. Run the ingest job "
                    + "first (scripts/sparkvision ingest jobs/mnist-ingest.conf) or point data.root at an ingested dataset");
        }
        try {
            return Json.read(HadoopFs.readString(p, conf), DatasetDescriptor.class);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(p + " is not a readable dataset descriptor: " + e.getMessage(), e);
        }
    }

    /**
     * A classifier needs two classes at least: a dataset with one (e.g. every image of the other classes was skipped
     * at ingest) is refused here, naming the classes found, instead of by DL4J's "Softmax + nOut=1" at model build.
     */
    public static void requireClasses(DatasetDescriptor d, String root, String trainSplit) {
        if (d.classes() != null && d.classes().size() >= 2) return;
        Map<String, Long> counts = d.classCounts() == null ? null : d.classCounts().get(trainSplit);
        throw new IllegalArgumentException("dataset " + root + " has " + (d.classes() == null ? 0 : d.classes().size())
                + " class(es) " + d.classes() + " ('" + trainSplit + "' split: " + (counts == null ? d.count(trainSplit) + " images" : counts)
                + "); a classifier needs at least 2. If ingest skipped every image of the other classes, "
                + (d.ingestReport() == null ? "see its log" : "see why in " + HadoopFs.child(HadoopFs.path(root), d.ingestReport()))
                + ", fix or replace those images and re-ingest; else add images of another class to the source");
    }

    /**
     * Training needs images in both splits: refuse before any Spark job, naming the key and the fix, instead of
     * decoding the whole train split first and failing on the empty test split after.
     */
    public static void requireSplits(DatasetDescriptor d, String root, String trainSplit, String testSplit) {
        if (d.count(trainSplit) == 0) {
            throw new IllegalArgumentException("data.train-split = " + trainSplit + ": dataset " + root + " has no '"
                    + trainSplit + "' images (its splits: " + d.splits() + "); set data.train-split to one of "
                    + d.splits().keySet() + " or re-ingest");
        }
        if (d.count(testSplit) == 0) {
            throw new IllegalArgumentException("data.test-split = " + testSplit + ": dataset " + root + " has no '"
                    + testSplit + "' images (its splits: " + d.splits() + "), and the evaluator needs held-out images "
                    + "after every epoch. Re-ingest into a new data.root with ingest.split-fractions = { " + trainSplit
                    + " = 0.8, " + testSplit + " = 0.2 } (a class-folder tree without split folders), add "
                    + testSplit + "/<class>/ folders to the source, or set data.test-split to another split the dataset has");
        }
    }
}
