package io.sparkvision.ingest;

import java.io.Serializable;
import java.util.List;

/** One ingest task: a batch of plain image files, or one whole archive (archives are not splittable). */
public record Work(List<Item> files, Item archive) implements Serializable {

    /**
     * A listed source file. For an image: its split and class. For an archive: the folders above it
     * ({@code prefix}), which entry paths extend before the split/class rule is applied.
     */
    public record Item(String uri, long size, long mtime, String split, String label, List<String> prefix)
            implements Serializable {
    }

    public static Work ofFiles(List<Item> files) {
        return new Work(List.copyOf(files), null);
    }

    public static Work ofArchive(Item archive) {
        return new Work(List.of(), archive);
    }
}
