package io.sparkvision.ingest;

import java.util.List;

/**
 * Where split and class come from in a folder tree: the first folder named like a split (ingest.splits) marks
 * the split and the folder right below it is the class, so {@code train/n01440764/x.JPEG} and
 * {@code 2026-11-01/train/cat/x.jpg} both work. With no split folder, the innermost folder is the class and the
 * split is ingest.default-split ({@code cat/x.jpg}), or with ingest.split-fractions the one the hash of the file's
 * path relative to the source picks.
 */
public final class Layout {
    private Layout() {
    }

    /**
     * {split, class}, or {null, reason} when the folders give no class. {@code dirs} excludes the file name;
     * {@code relativePath} is the file's path relative to the source root (for an archive entry:
     * {@code <archive path>!/<entry>}).
     */
    public static String[] splitAndClass(List<String> dirs, String relativePath, IngestSettings s) {
        String[] sc = find(dirs, relativePath, s);
        // Class and split names are named in comma-separated option lists (ingest.splits, ingest.class-names).
        if (sc[0] != null && (sc[0].contains(",") || sc[1].contains(","))) {
            return new String[] {null, "class or split folder '" + sc[0] + "/" + sc[1] + "' contains a comma; rename the folder"};
        }
        return sc;
    }

    private static String[] find(List<String> dirs, String relativePath, IngestSettings s) {
        for (int i = 0; i < dirs.size(); i++) {
            if (s.splits().contains(dirs.get(i))) {
                if (i + 1 < dirs.size()) return new String[] {dirs.get(i), dirs.get(i + 1)};
                return new String[] {null, "directly in split folder '" + dirs.get(i) + "', not in a class folder: move it to "
                        + dirs.get(i) + "/<class>/"};
            }
        }
        if (dirs.isEmpty()) return new String[] {null, "not in a class folder: move it to <split>/<class>/"};
        return new String[] {s.splitOf(relativePath), dirs.get(dirs.size() - 1)};
    }
}
