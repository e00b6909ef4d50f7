package io.sparkvision.util;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Which build of the product is running: version and git commit, recorded at build time. */
public final class Provenance {
    private static final Properties BUILD = load();

    private Provenance() {
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = Provenance.class.getResourceAsStream("/sparkvision-build.properties")) {
            if (in != null) p.load(in);
        } catch (IOException ignored) {
            // reported as "unknown" below
        }
        return p;
    }

    public static String version() {
        return clean(BUILD.getProperty("version"));
    }

    public static String gitCommit() {
        return clean(BUILD.getProperty("git.commit"));
    }

    public static String codeVersion() {
        return version() + "+" + gitCommit();
    }

    private static String clean(String s) {
        return s == null || s.isBlank() || s.startsWith("${") ? "unknown" : s;
    }
}
