package io.sparkvision.retrain;

import io.sparkvision.io.HadoopFs;
import org.apache.hadoop.conf.Configuration;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;

/**
 * One contender for the registry lock in its own JVM, driven by {@link RegistryLockTest}: for each round it spins
 * until {@code <go-dir>/round-N} exists, tries the lock, prints {@code won} or {@code busy}, then waits for a line
 * on stdin before releasing. Everything is loaded before "ready", so the rounds race the lock itself, not class loading.
 */
public final class LockContender {
    public static void main(String[] args) throws Exception {
        Path registry = Paths.get(args[0]), go = Paths.get(args[1]);
        int rounds = Integer.parseInt(args[2]);
        Configuration conf = new Configuration();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Path warm = Files.createTempDirectory(go, "warm-up");
        RegistryLock.acquire(HadoopFs.path(warm.toString()), conf, Duration.ofMinutes(15), "warm-up", quiet).close();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        System.out.println("ready");
        for (int round = 0; round < rounds; round++) {
            Path signal = go.resolve("round-" + round);
            while (!Files.exists(signal)) Thread.onSpinWait();
            RegistryLock lock = null;
            try {
                lock = RegistryLock.acquire(HadoopFs.path(registry.toString()), conf, Duration.ofMinutes(15), "contender", quiet);
                System.out.println("won");
            } catch (RegistryLock.Busy e) {
                System.out.println("busy");
            }
            if (in.readLine() == null) return; // the test went away
            if (lock != null) lock.close();
            System.out.println("released");
        }
    }
}
