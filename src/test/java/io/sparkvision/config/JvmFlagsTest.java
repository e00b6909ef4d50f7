package io.sparkvision.config;

import io.sparkvision.TestSpark;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** conf/jvm-flags.properties is the JVM flags' one source: everything that passes them derives from it or agrees. */
class JvmFlagsTest {
    static final Path ROOT = TestSpark.basedir();

    static Properties source() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(ROOT.resolve("conf/jvm-flags.properties"))) {
            p.load(r);
        }
        return p;
    }

    static List<String> tokens(String flags) {
        return Arrays.asList(flags.trim().split("\\s+"));
    }

    @Test
    void theTestJvmGotEveryFlagFromThePom() throws IOException {
        List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        Properties src = source();
        for (String key : List.of("java17.opens", "dl4j.flags", "g1.flags")) {
            for (String flag : tokens(src.getProperty(key))) {
                assertTrue(args.contains(flag), "surefire's argLine lacks " + flag + " (" + key + ")");
            }
        }
    }

    @Test
    void theJarCarriesTheSameFileAndExecutorsGetItsFlags() throws IOException {
        Properties jar = new Properties();
        try (InputStream in = JvmFlags.class.getResourceAsStream(JvmFlags.RESOURCE)) {
            assertNotNull(in, JvmFlags.RESOURCE);
            jar.load(in);
        }
        assertEquals(source(), jar, "the jar's copy of conf/jvm-flags.properties");
        assertEquals(source().getProperty("dl4j.flags") + " " + source().getProperty("g1.flags"), SparkContexts.EXECUTOR_FLAGS);
    }

    @Test
    void theScriptsReadTheFile() throws Exception {
        Process p = new ProcessBuilder("bash", "-c", "source scripts/lib.sh && printf '%s\\n%s\\n%s\\n' \"$JAVA17_OPENS\" \"$DL4J_FLAGS\" \"$G1_FLAGS\"")
                .directory(ROOT.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        Properties src = source();
        assertEquals(List.of(src.getProperty("java17.opens"), src.getProperty("dl4j.flags"), src.getProperty("g1.flags")),
                List.of(out.split("\n")), "scripts/lib.sh's JAVA17_OPENS, DL4J_FLAGS, G1_FLAGS");
    }

    /** spark-submit reads these files and cannot include another: they repeat the flags, and must agree. */
    @Test
    void sparkSubmitConfsAgree() throws IOException {
        Properties src = source();
        List<String> dl4j = tokens(src.getProperty("dl4j.flags")), g1 = tokens(src.getProperty("g1.flags"));
        Properties defaults = sparkConf("conf/spark-defaults.conf");
        assertTrue(tokens(defaults.getProperty("spark.executor.extraJavaOptions")).containsAll(concat(dl4j, g1)),
                "conf/spark-defaults.conf spark.executor.extraJavaOptions must hold dl4j.flags and g1.flags of conf/jvm-flags.properties");
        assertTrue(tokens(defaults.getProperty("spark.driver.extraJavaOptions")).containsAll(dl4j),
                "conf/spark-defaults.conf spark.driver.extraJavaOptions must hold dl4j.flags of conf/jvm-flags.properties");
        assertTrue(tokens(sparkConf("conf/spark-gpu.conf").getProperty("spark.executor.extraJavaOptions")).containsAll(dl4j),
                "conf/spark-gpu.conf spark.executor.extraJavaOptions must hold dl4j.flags of conf/jvm-flags.properties");
    }

    /** Nobody writes the flags out again: scripts, the pom and the product's code take them from the one file. */
    @Test
    void noOtherPlaceSpellsTheFlags() throws IOException {
        Properties src = source();
        List<String> flags = new ArrayList<>();
        for (String key : src.stringPropertyNames()) {
            for (String f : tokens(src.getProperty(key))) if (f.startsWith("--add-opens") || f.contains("=")) flags.add(f);
        }
        List<Path> files = new ArrayList<>(List.of(ROOT.resolve("pom.xml")));
        try (Stream<Path> s = Stream.concat(Files.list(ROOT.resolve("scripts")), Files.walk(ROOT.resolve("src/main/java")))) {
            s.filter(Files::isRegularFile).forEach(files::add);
        }
        for (Path f : files) {
            String text = Files.readString(f);
            for (String flag : flags) {
                assertTrue(!text.contains(flag), ROOT.relativize(f) + " spells " + flag + ": take it from conf/jvm-flags.properties");
            }
        }
    }

    static Properties sparkConf(String file) throws IOException {
        Properties p = new Properties();  // spark-defaults.conf is whitespace-separated key value: Properties reads it
        try (Reader r = Files.newBufferedReader(ROOT.resolve(file))) {
            p.load(r);
        }
        return p;
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
