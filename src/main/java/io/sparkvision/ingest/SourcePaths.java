package io.sparkvision.ingest;

import org.apache.hadoop.fs.Path;

/**
 * A source image's name that does not depend on the store: its path relative to the source root (for an archive
 * entry, the archive's relative path, "!/" and the entry). The same images on file://, hdfs:// and s3a:// (or after
 * a move) give the same written names and the same dataset content hash. Full URIs stay the keys of the incremental
 * state (sources.jsonl), which only ever compares a source with itself.
 */
public final class SourcePaths {
    private SourcePaths() {
    }

    /** The path part of {@code root} without a trailing '/', as {@link #relative} expects it. */
    public static String rootPath(Path qualifiedRoot) {
        return qualifiedRoot.toUri().getPath().replaceAll("/+$", "");
    }

    /** {@code source} relative to {@code rootPath}; a source outside the root (a manifest row's URI) keeps its path. */
    public static String relative(String source, String rootPath) {
        int bang = source.indexOf("!/");
        String file = bang < 0 ? source : source.substring(0, bang);
        String path = new Path(file).toUri().getPath();
        String rel = path.startsWith(rootPath + "/") ? path.substring(rootPath.length() + 1) : path;
        return bang < 0 ? rel : rel + source.substring(bang);
    }
}
