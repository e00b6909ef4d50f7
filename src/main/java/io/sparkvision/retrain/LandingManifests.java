package io.sparkvision.retrain;

import io.sparkvision.ingest.Listing;
import io.sparkvision.ingest.ManifestCsv;
import io.sparkvision.ingest.ManifestSource;
import io.sparkvision.io.HadoopFs;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.time.LocalDate;
import java.util.Map;
import java.util.TreeMap;

/**
 * Landing partitions that deliver manifests instead of class folders: {@code date=YYYY-MM-DD/*.csv} with rows
 * {@code path,label} (paths relative to the CSV or full URIs; the images may live anywhere). Each night they are
 * combined into one manifest in the registry, which the ingest reads like any manifest (so only images it has not
 * seen are decoded), and each image is dated by the partition of the manifest that listed it.
 */
public final class LandingManifests {
    /** In a folder of its own: the ingest lists the manifest's folder to find which of its images exist. */
    public static final String COMBINED = "landing/manifest.csv";

    /** The combined manifest's location and each image URI's partition date. */
    public record Combined(Path manifest, Map<String, LocalDate> dates, int manifests) {
    }

    private LandingManifests() {
    }

    public static Combined combine(Path landing, Path registry, Configuration conf) throws IOException {
        Path root = HadoopFs.fs(landing, conf).makeQualified(landing);
        Map<String, String[]> rows = new TreeMap<>();
        Map<String, LocalDate> dates = new TreeMap<>();
        int manifests = 0;
        for (Listing.File f : Listing.files(root, conf)) {
            LocalDate date = TrainingWindow.dateOf(f.uri());
            if (date == null || !f.uri().toLowerCase(java.util.Locale.ROOT).endsWith(".csv") || f.brokenLink() != null) continue;
            manifests++;
            Path csv = new Path(f.uri());
            for (String[] r : ManifestSource.csvRows(csv, conf)) {
                String rel = r[1].strip();
                Path image = rel.contains("://") || rel.startsWith("file:") ? new Path(rel) : new Path(csv.getParent(), rel);
                String uri = HadoopFs.fs(image, conf).makeQualified(image).toString(); // as the ingest records it
                LocalDate before = dates.get(uri);
                // An image delivered again later belongs to the later night.
                if (before == null || date.isAfter(before)) {
                    dates.put(uri, date);
                    rows.put(uri, new String[] {uri, r[2].strip()});
                }
            }
        }
        if (manifests == 0) {
            throw new IllegalArgumentException("retrain.source " + landing + " holds no date=YYYY-MM-DD/*.csv manifests "
                    + "(retrain.format = manifest); deliver them there or set retrain.format = image-folder");
        }
        StringBuilder sb = new StringBuilder("path,label\n");
        for (String[] r : rows.values()) sb.append(ManifestCsv.line(r[0], r[1])).append('\n');
        Path combined = new Path(registry, COMBINED);
        HadoopFs.writeStringAtomically(combined, sb.toString(), conf);
        return new Combined(combined, dates, manifests);
    }
}
