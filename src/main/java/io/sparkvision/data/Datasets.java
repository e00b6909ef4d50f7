package io.sparkvision.data;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;

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
}
