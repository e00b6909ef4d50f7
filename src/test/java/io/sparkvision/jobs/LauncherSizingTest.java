package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.ingest.MnistIdxIngest;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 26: every fix the train job's sizing prints works as printed for the launcher in use. Each case starts the
 * launcher as a user would, with a driver JVM too small for LeNet-5's round (heap under its ~517 MiB, ND4J's limit
 * under its ~45 MiB), reads the fix from the refusal, pastes it the way the message says, and runs again: the refusal
 * is gone and the epoch trains.
 */
class LauncherSizingTest {
    static final String REFUSAL = "sizing: this run does not fit";
    static final String TOO_SMALL = "-Xmx512m -Dorg.bytedeco.javacpp.maxbytes=16M";

    @TempDir
    static Path work;
    static Path data;

    @BeforeAll
    static void ingest() throws IOException {
        data = work.resolve("mnist");
        try (JavaSparkContext sc = TestSpark.local(2)) {
            MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2, new PrintStream(new ByteArrayOutputStream()));
        }
    }

    /** scripts/sparkvision: the fix is SPARKVISION_JAVA_OPTS="$SPARKVISION_JAVA_OPTS ...", which adds to what was set. */
    @Test
    void sparkvisionFixWorksAsPrinted() throws Exception {
        Run refused = run("sv-refused", Map.of("SPARKVISION_JAVA_OPTS", TOO_SMALL), "scripts/sparkvision", job("sv-1"));
        assertEquals(2, refused.code(), refused.log());
        assertTrue(refused.log().contains(REFUSAL), refused.log());
        Matcher fix = Pattern.compile("SPARKVISION_JAVA_OPTS=\"\\$SPARKVISION_JAVA_OPTS ([^\"]+)\" \\(in front of scripts/sparkvision\\)")
                .matcher(refused.log());
        assertTrue(fix.find(), "no SPARKVISION_JAVA_OPTS fix in:\n" + refused.log());
        assertFalse(refused.log().contains("--driver-java-options"), "spark-submit's syntax printed for scripts/sparkvision");
        assertTrue(fix.group(1).contains("-Xmx") && fix.group(1).contains("maxbytes="), fix.group(1));

        Run fixed = run("sv-fixed", Map.of("SPARKVISION_JAVA_OPTS", TOO_SMALL + " " + fix.group(1)), "scripts/sparkvision", job("sv-2"));
        assertFalse(fixed.log().contains(REFUSAL), fixed.log());
        assertEquals(0, fixed.code(), fixed.log());
        assertTrue(Files.exists(work.resolve("sv-2/model.zip")), fixed.log());
    }

    /** scripts/submit (spark-submit's options): --driver-memory and --driver-java-options, added to its own flags. */
    @Test
    void submitFixWorksAsPrinted() throws Exception {
        Path jar = work.resolve("app.jar");
        if (!Files.exists(jar)) StandaloneClusterTest.jar(TestSpark.basedir().resolve("target/classes"), jar);
        Map<String, String> env = Map.of("SPARKVISION_APP_JAR", jar.toString());
        List<String> small = List.of("--master", "local[2]", "--driver-memory", "512m",
                "--driver-java-options", "-Dorg.bytedeco.javacpp.maxbytes=16M");
        Run refused = run("submit-refused", env, "scripts/submit", concat(job("submit-1"), small));
        assertEquals(2, refused.code(), refused.log());
        assertTrue(refused.log().contains(REFUSAL), refused.log());
        assertFalse(refused.log().contains("SPARKVISION_JAVA_OPTS"), "scripts/sparkvision's variable printed for scripts/submit");
        Matcher memory = Pattern.compile("(--driver-memory \\S+?)[,;. ]").matcher(refused.log());
        Matcher options = Pattern.compile("--driver-java-options \"([^\"]+)\"").matcher(refused.log());
        assertTrue(memory.find() && options.find(), "no --driver-memory / --driver-java-options fix in:\n" + refused.log());

        List<String> pasted = new ArrayList<>(small);
        pasted.addAll(List.of(memory.group(1).split(" ")));
        pasted.addAll(List.of("--driver-java-options", options.group(1)));
        Run fixed = run("submit-fixed", env, "scripts/submit", concat(job("submit-2"), pasted));
        assertFalse(fixed.log().contains(REFUSAL), fixed.log());
        assertEquals(0, fixed.code(), fixed.log());
        assertTrue(Files.exists(work.resolve("submit-2/model.zip")), fixed.log());
    }

    List<String> job(String out) {
        return List.of("train", "jobs/mnist-lenet5.conf", "--set", "spark.master=local[2]", "--set", "data.root=" + data,
                "--set", "output.dir=" + work.resolve(out), "--set", "train.epochs=1");
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    record Run(int code, String log) {
    }

    static Run run(String name, Map<String, String> env, String script, List<String> args) throws Exception {
        return run(name, env, script, args, work);
    }

    static Run run(String name, Map<String, String> env, String script, List<String> args, Path dir) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(TestSpark.basedir().resolve(script).toString());
        cmd.addAll(args);
        Path log = dir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(TestSpark.basedir().toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("SPARKVISION_SKIP_BUILD", "1");
        pb.environment().putAll(env);
        Process p = pb.start();
        try {
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), name + " did not finish");
        } finally {
            p.destroyForcibly();
        }
        return new Run(p.exitValue(), Files.readString(log));
    }
}
